/**
 * The installed package under systemd as PID 1 (issue 25): a fresh Debian 12 root booted with
 * systemd-nspawn (lab/booted-root.ts), the package installed there with dpkg while systemd runs, so
 * its postinst talks to a real systemd; then the unit started for real (Type=notify, the watchdog,
 * the sandbox), its log read back by priority from journald, a reload, an upgrade that restarts it
 * (postinst try-restart), a kill -9 after which ExecStopPost's cleanup takes the VIP off, and a
 * remove and purge. A lone director (no peer) on an interface of a network namespace the test
 * made, with a VIP a neighbour there can reach.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { BootedRoot, bootSkip } from '../../lab/booted-root.ts';
import { buildPackage, DebianRoot, debianRootSkip } from '../../lab/debian-root.ts';
import { claimPrefix, newLabPrefix, releasePrefix } from '../../lab/registry.ts';
import { teardownSteps } from '../../lab/teardown.ts';
import { waitFor } from '../../lab/wait.ts';

const skip = debianRootSkip() ?? bootSkip();
if (skip) console.log(`booted package test skipped: ${skip}`);

const ip = (...args: string[]): string => execFileSync('ip', args, { encoding: 'utf8', timeout: 10_000 });

const CONFIG = (weight: number) => `node:
  id: lb1
  priority: 150
interfaces:
  - name: dsr0
    xdp_mode: generic
vip_groups:
  - name: web
    id: 51
    vips: [198.18.77.10]
services:
  - name: echo
    vip: 198.18.77.10
    protocol: tcp
    port: 7
    real_servers:
      - address: 198.18.77.1
        weight: ${weight}
`;

/** A witness of a pair: it votes in quorum mode and owns nothing (docs/quorum.md). */
const WITNESS = `node:
  id: w1
  role: witness
  address: 198.18.77.2
peers:
  - { id: lb1, address: 198.18.77.11 }
  - { id: lb2, address: 198.18.77.12 }
election:
  mode: raft
keys:
  election:
    keys: [{ id: 1, file: keys/election-1.key }]
`;

(skip ? test.skip : test.serial)(
  'the package under systemd-nspawn --boot: postinst, the unit for real, journal priorities, reload, upgrade, cleanup after kill -9, a quorum-mode witness, remove and purge',
  async (t) => {
    t.timeout(600_000);
    const out = mkdtempSync(join(tmpdir(), 'dsr-deb-'));
    const prefix = newLabPrefix();
    claimPrefix(prefix);
    const [inside, neighbour] = [`${prefix}-c`, `${prefix}-h`];
    const bpffs = `/run/${prefix}-bpf`;
    let root: DebianRoot | undefined;
    let booted: BootedRoot | undefined;
    t.teardown(() =>
      teardownSteps([
        () => booted?.poweroff(),
        ...[inside, neighbour].map((ns) => () => spawnQuiet('ip', ['netns', 'del', ns])),
        () => spawnQuiet('umount', [bpffs]),
        () => rmSync(bpffs, { recursive: true, force: true }),
        () => root?.destroy(),
        () => rmSync(out, { recursive: true, force: true }),
        () => releasePrefix(prefix),
      ]),
    );
    const first = buildPackage(out, '1');
    const second = buildPackage(join(out, 'second'), '2');

    ip('netns', 'add', inside);
    ip('netns', 'add', neighbour);
    ip('link', 'add', 'dsr0', 'netns', inside, 'type', 'veth', 'peer', 'name', 'nb0', 'netns', neighbour);
    ip('-n', inside, 'addr', 'add', '198.18.77.2/24', 'dev', 'dsr0');
    ip('-n', neighbour, 'addr', 'add', '198.18.77.1/24', 'dev', 'nb0');
    for (const [ns, dev] of [
      [inside, 'dsr0'],
      [neighbour, 'nb0'],
      [inside, 'lo'],
      [neighbour, 'lo'],
    ])
      ip('-n', ns, 'link', 'set', dev, 'up');
    mkdirSync(bpffs, { recursive: true });
    execFileSync('mount', ['-t', 'bpf', 'bpf', bpffs]);

    root = DebianRoot.create({ proc: false });
    // Not /tmp: the booted system mounts a tmpfs there.
    copyFileSync(first, root.at('/var/tmp/dsr-director-1.deb'));
    copyFileSync(second, root.at('/var/tmp/dsr-director-2.deb'));
    booted = await BootedRoot.boot(root, { machine: prefix, netns: inside, bpffs });
    const b = booted;
    const vipsOnDsr0 = () => ip('-n', inside, '-br', 'addr', 'show', 'dev', 'dsr0');
    const show = (p: string) => b.run('systemctl', ['show', 'dsrd', '-p', p, '--value']).trim();

    // ---- postinst under a running systemd: the unit loaded, nothing started without a config ----
    b.run('dpkg', ['-i', '/var/tmp/dsr-director-1.deb']);
    t.is(show('LoadState'), 'loaded', 'postinst reloaded systemd: the unit is known');
    t.is(show('ActiveState'), 'inactive', 'no config: nothing started');
    t.regex(b.run('getent', ['group', 'dsr-admin']), /^dsr-admin:/);

    // ---- the unit for real ----
    writeFileSync(root.at('/etc/dsr-director/dsrd.yaml'), CONFIG(1));
    b.run('systemctl', ['start', 'dsrd']);
    t.is(show('ActiveState'), 'active', 'Type=notify: started once dsrd said READY');
    await waitFor('the VIP on dsr0', () => (vipsOnDsr0().includes('198.18.77.10/32') ? true : undefined), {
      limitMs: 15_000,
    });
    t.regex(b.run('dsrctl', ['status']), /web\s+51\s+master/, 'the installed dsrctl reads the status');
    execFileSync('ip', ['netns', 'exec', neighbour, 'ping', '-c', '1', '-W', '2', '198.18.77.10']);
    t.not(show('WatchdogUSec'), '0', 'the watchdog is on');

    // ---- journald reads each line's priority: a refused reload is an error, the rest is not ----
    writeFileSync(root.at('/etc/dsr-director/dsrd.yaml'), 'node: [not a config\n');
    t.is(b.tryRun('systemctl', ['reload', 'dsrd']).code, 0, 'ExecReload= sends SIGHUP');
    const errors = () => b.run('journalctl', ['-u', 'dsrd', '-p', 'err', '-o', 'cat', '--no-pager']);
    await waitFor('the refused reload in the journal', () =>
      errors().includes('config reload refused') ? true : undefined,
    );
    t.notRegex(errors(), /dsrd running/, 'info lines are not errors');
    t.regex(b.run('journalctl', ['-u', 'dsrd', '-p', 'info', '-o', 'cat', '--no-pager']), /dsrd running/);
    t.is(show('ActiveState'), 'active', 'the old config keeps running');

    // ---- a good reload applies ----
    writeFileSync(root.at('/etc/dsr-director/dsrd.yaml'), CONFIG(3));
    b.run('systemctl', ['reload', 'dsrd']);
    await waitFor('the new weight in the status', () =>
      /->\s+198\.18\.77\.1:7\s+up\s+3\s/.test(b.run('dsrctl', ['status'])) ? true : undefined,
    );

    // ---- an upgrade restarts the daemon on the new package (postinst try-restart) ----
    const before = show('MainPID');
    b.run('dpkg', ['-i', '/var/tmp/dsr-director-2.deb']);
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format syntax
    t.regex(b.run('dpkg-query', ['-W', '-f', '${Version}', 'dsr-director']), /-2$/);
    t.not(show('MainPID'), before, 'a new dsrd');
    t.is(show('ActiveState'), 'active');
    await waitFor(
      'dsrctl status after the upgrade',
      () => (b.tryRun('dsrctl', ['status']).code === 0 ? true : undefined),
      {
        limitMs: 15_000,
      },
    );

    // ---- kill -9: ExecStopPost= takes the VIPs off before systemd starts it again ----
    const killed = show('MainPID');
    b.run('systemctl', ['kill', '--signal=SIGKILL', 'dsrd']);
    await waitFor('the cleanup in the journal', () =>
      b
        .run('journalctl', ['-u', 'dsrd', '-o', 'cat', '--no-pager'])
        .includes('VIP group web on dsr0: removed')
        ? true
        : undefined,
    );
    await waitFor(
      'dsrd started again (Restart=on-failure)',
      () => {
        const pid = show('MainPID');
        return pid !== '0' && pid !== killed && show('ActiveState') === 'active' ? true : undefined;
      },
      { limitMs: 30_000 },
    );

    // ---- the same package runs a quorum-mode witness: no forwarder, health checks, sync or VIPs ----
    mkdirSync(root.at('/etc/dsr-director/keys'), { recursive: true, mode: 0o750 });
    writeFileSync(root.at('/etc/dsr-director/keys/election-1.key'), randomBytes(32), { mode: 0o600 });
    writeFileSync(root.at('/etc/dsr-director/dsrd.yaml'), WITNESS);
    b.run('systemctl', ['restart', 'dsrd']);
    await waitFor('the witness running', () => (show('ActiveState') === 'active' ? true : undefined), {
      limitMs: 30_000,
    });
    const witness = await waitFor('the witness answering', () => {
      const r = b.tryRun('dsrctl', ['status']);
      return r.stdout.includes('Quorum mode: witness') ? r : undefined;
    });
    t.regex(witness.stdout, /Parts admin, log, eventloop, watchdog, metrics, alerts, election\n/);
    t.regex(witness.stdout, /Voters w1 \(witness\) reachable, lb1 NOT HEARD, lb2 NOT HEARD; NO QUORUM/);
    t.is(witness.code, 1, 'alone it has no quorum, and dsrctl status as a probe says so');

    // ---- remove stops it and keeps the config; purge removes it ----
    b.run('dpkg', ['-r', 'dsr-director']);
    t.is(show('ActiveState'), 'inactive', 'prerm stopped dsrd');
    t.false(vipsOnDsr0().includes('198.18.77.10/32'), 'and its VIPs went with it');
    t.is(b.tryRun('test', ['-f', '/etc/dsr-director/dsrd.yaml']).code, 0, 'remove keeps the config');
    b.run('dpkg', ['-P', 'dsr-director']);
    t.not(b.tryRun('test', ['-e', '/etc/dsr-director']).code, 0, 'purge removes it');
  },
);

function spawnQuiet(cmd: string, args: readonly string[]): void {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 10_000 });
  } catch {}
}
