/**
 * The installed package as a director pair (issue 25), each director a fresh Debian 12 root booted
 * with systemd as its PID 1 (systemd-nspawn, lab/booted-root.ts) inside the lab's director
 * namespace, with its own /run, /var/lib and bpffs: the production paths `pair init` writes. The
 * pair is set up as an operator would: `dsrctl pair init` on the first director, each bundle
 * installed with `dsrctl pair join`, dsrd started by systemd; then, with live TCP streams through
 * the VIP all along, a drill from the installed dsrctl and a rolling upgrade to a rebuilt package
 * (the backup first, a planned handover to it, then the old master, which takes its group back):
 * none broken.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { DaemonStatus } from '../../admin/catalogue/status.ts';
import { BootedRoot, bootSkip } from '../../lab/booted-root.ts';
import { buildPackage, DebianRoot, debianRootSkip } from '../../lab/debian-root.ts';
import { run } from '../../lab/exec.ts';
import { createLab, type Lab } from '../../lab/index.ts';
import { startStreams, streamsReport } from '../../lab/pair/traffic.ts';
import { teardownSteps } from '../../lab/teardown.ts';
import { waitFor } from '../../lab/wait.ts';

const skip = debianRootSkip() ?? bootSkip();
if (skip) console.log(`installed pair test skipped: ${skip}`);

interface Node {
  name: string;
  root: DebianRoot;
  bpffs: string;
  booted?: BootedRoot;
}

const status = (n: Node): DaemonStatus | null => {
  const r = n.booted!.tryRun('dsrctl', ['status', '--json']);
  try {
    return JSON.parse(r.stdout) as DaemonStatus;
  } catch {
    return null;
  }
};
const role = (s: DaemonStatus | null) => s?.groups[0]?.role;
const synced = (s: DaemonStatus | null) => s?.peers[0]?.sync === 'in sync';

(skip ? test.skip : test.serial)(
  'the installed package as a pair from pair init and pair join, under systemd: a drill and a rolling upgrade with live streams, none broken',
  async (t) => {
    t.timeout(600_000);
    const out = mkdtempSync(join(tmpdir(), 'dsr-deb-'));
    let lab: Lab | undefined;
    const nodes: Node[] = [];
    // Every step runs, even after one fails (nodes and lab as far as they were made).
    t.teardown(() =>
      teardownSteps([
        ...nodes.map((n) => () => n.booted?.poweroff()),
        ...nodes.flatMap((n) => [
          () => run('umount', [n.bpffs]),
          () => rmSync(n.bpffs, { recursive: true, force: true }),
          () => n.root.destroy(),
        ]),
        () => lab?.destroy(),
        () => rmSync(out, { recursive: true, force: true }),
      ]),
    );
    const first = buildPackage(join(out, '1'), '1');
    const second = buildPackage(join(out, '2'), '2');
    lab = await createLab({ clients: 1, directors: 2, realServers: 2 });
    const [hostA, hostB] = lab.directors;
    for (const host of lab.directors) {
      const n: Node = {
        name: host.name,
        root: DebianRoot.create({ proc: false }),
        bpffs: `/run/${lab.prefix}-bpf-${host.name}`,
      };
      nodes.push(n);
      mkdirSync(n.bpffs, { recursive: true });
      await run('mount', ['-t', 'bpf', 'bpf', n.bpffs]);
      copyFileSync(first, n.root.at('/var/tmp/dsr-director-1.deb'));
      copyFileSync(second, n.root.at('/var/tmp/dsr-director-2.deb'));
      n.booted = await BootedRoot.boot(n.root, {
        machine: `${lab.prefix}${host.name}`,
        netns: host.netns,
        bpffs: n.bpffs,
      });
      n.booted.run('dpkg', ['-i', '/var/tmp/dsr-director-1.deb']);
    }
    const [a, b] = nodes as [Node & { booted: BootedRoot }, Node & { booted: BootedRoot }];

    // ---- pair init on the first director, a bundle for each, pair join on each ----
    const vip = lab.vip4;
    a.booted.run('dsrctl', [
      'pair',
      'init',
      '--director',
      `${hostA.name}=${hostA.ipv4}`,
      '--director',
      `${hostB.name}=${hostB.ipv4}`,
      '--interface',
      hostA.ifname,
      '--vip',
      vip,
      '--service',
      'echo:tcp:7000',
      ...lab.realServers.flatMap((r) => ['--real', r.ipv4]),
      '--out',
      '/root/pair',
    ]);
    // The bundle travels to the other director as an operator would copy it (scp).
    copyFileSync(a.root.at(`/root/pair/${hostB.name}.bundle`), b.root.at(`/root/${hostB.name}.bundle`));
    t.regex(a.booted.run('dsrctl', ['pair', 'join', `/root/pair/${hostA.name}.bundle`]), /valid/);
    t.regex(b.booted.run('dsrctl', ['pair', 'join', `/root/${hostB.name}.bundle`]), /valid/);
    for (const n of nodes) n.booted!.run('systemctl', ['start', 'dsrd']);
    await waitFor(
      'a master and b backup, in sync both ways',
      () => {
        const [sa, sb] = [status(a), status(b)];
        return role(sa) === 'master' && role(sb) === 'backup' && synced(sa) && synced(sb) ? true : undefined;
      },
      { limitMs: 60_000, everyMs: 250 },
    );

    const { proc: streams } = await startStreams(lab, lab.clients[0], vip, 10);

    // ---- a drill from the installed dsrctl: over to b and back ----
    t.regex(a.booted.run('dsrctl', ['drill', '--back']), /drill passed/);

    // ---- rolling upgrade: the backup first, a handover to it, then the old master ----
    const upgrade = (n: Node & { booted: BootedRoot }) => {
      const pid = n.booted.run('systemctl', ['show', 'dsrd', '-p', 'MainPID', '--value']).trim();
      n.booted.run('dpkg', ['-i', '/var/tmp/dsr-director-2.deb']);
      t.not(
        n.booted.run('systemctl', ['show', 'dsrd', '-p', 'MainPID', '--value']).trim(),
        pid,
        `${n.name} restarted on the new package`,
      );
    };
    upgrade(b);
    await waitFor(
      'b backup and in sync on the new package',
      () => (role(status(b)) === 'backup' && synced(status(b)) ? true : undefined),
      {
        limitMs: 60_000,
        everyMs: 250,
      },
    );
    a.booted.run('dsrctl', ['failover']);
    await waitFor('b master', () => (role(status(b)) === 'master' ? true : undefined), { limitMs: 30_000 });
    upgrade(a);
    await waitFor(
      'a master again (preempt once in sync), b backup',
      () => (role(status(a)) === 'master' && role(status(b)) === 'backup' ? true : undefined),
      { limitMs: 60_000, everyMs: 250 },
    );

    const r = await streamsReport(streams, 'final');
    t.log(`streams: ${r.alive}/${r.count} alive, ${r.withErrors} with errors, max stall ${r.maxDelayMs} ms`);
    t.is(r.alive, r.count, 'every stream alive');
    t.is(r.withErrors, 0, 'none reset or broken');
    for (const n of nodes) t.regex(n.booted!.run('dpkg-query', ['-W', 'dsr-director']), /-2$/m);
  },
);
