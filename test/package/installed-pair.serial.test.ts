/**
 * The installed package as a director pair (issue 25): both directors run the dsrd installed by
 * dpkg in a fresh Debian 12 root (lab/debian-root.ts), started with the installed unit's own
 * ExecStart= line (chroot into the root), on the lab pair's configs (pair init's production paths
 * would collide for two directors on one host: test/cli/pair.test.ts checks those); then a drill
 * from the installed dsrctl, and a rolling upgrade to a rebuilt package (the backup first,
 * a planned handover to it, then the old master, which takes its group back), with live TCP
 * streams through the VIP all along: none broken.
 *
 * The directors share the host's kernel and the lab's namespaces; the root gives them their
 * programs, libraries (libbpf1) and unit. The host's /sys, the pair's bpffs and its scratch
 * directory are bound into the root at the same paths.
 */
import { copyFileSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { buildPackage, DebianRoot, debianRootSkip } from '../../lab/debian-root.ts';
import { TCP_ECHO } from '../../lab/pair/config.ts';
import { DirectorPair } from '../../lab/pair/director-pair.ts';
import { inSync, role } from '../../lab/pair/status.ts';
import { streamsReport } from '../../lab/pair/traffic.ts';

/** The unit's ExecStart= / ExecStopPost= command, without its --config argument. */
function unitCommand(unit: string, key: 'ExecStart' | 'ExecStopPost'): string[] {
  const line = new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1];
  if (line === undefined) throw new Error(`the installed unit has no ${key}=`);
  const words = line.split(/\s+/);
  return words.slice(0, words.indexOf('--config'));
}

const skip = debianRootSkip();
if (skip) console.log(`installed pair test skipped: ${skip}`);

(skip ? test.skip : test.serial)(
  'the installed package as a pair: a drill and a rolling upgrade with live streams, none broken',
  async (t) => {
    t.timeout(600_000);
    const out = mkdtempSync(join(tmpdir(), 'dsr-deb-'));
    t.teardown(() => rmSync(out, { recursive: true, force: true }));
    const first = buildPackage(join(out, '1'), '1');
    const second = buildPackage(join(out, '2'), '2');
    const root = DebianRoot.create();
    t.teardown(() => root.destroy());
    copyFileSync(first, root.at('/tmp/1.deb'));
    copyFileSync(second, root.at('/tmp/2.deb'));
    root.run('dpkg', ['-i', '/tmp/1.deb']);
    const unit = readFileSync(root.at('/lib/systemd/system/dsrd.service'), 'utf8');
    const start = unitCommand(unit, 'ExecStart');
    const stopPost = unitCommand(unit, 'ExecStopPost');
    t.deepEqual(start, ['/usr/bin/dsrd']);

    const pair = await DirectorPair.create({
      services: [{ ...TCP_ECHO, realServers: 2 }],
      program: () => ['chroot', root.path, ...start],
    });
    try {
      const { a, b } = pair;
      root.bind('/sys');
      root.bind(pair.bpffs);
      root.bind(pair.dir);
      const cleanup = (d: typeof a) =>
        pair.lab.exec(d.host, 'chroot', [root.path, ...stopPost, '--config', d.configPath], {
          timeoutMs: 30_000,
        });

      await pair.startBoth();
      await pair.settled(a, b);
      // Really the installed program: chrooted into the root, on the runtime the package carries.
      for (const d of pair.directors) {
        t.is(readlinkSync(`/proc/${d.proc!.pid}/root`), root.path);
        t.is(readlinkSync(`/proc/${d.proc!.pid}/exe`), root.at('/usr/lib/dsr-director/runtime/node'));
      }
      const { proc: streams } = await pair.streams(10);

      // A drill from the installed dsrctl: over to b and back.
      const drill = root.run('/usr/bin/dsrctl', ['-s', a.sock, 'drill', '--back'], 120_000);
      t.regex(drill, /drill passed/);

      // Rolling upgrade: the new package under the running daemons; b restarted on it first.
      root.run('dpkg', ['-i', '/tmp/2.deb']);
      await b.proc!.stop();
      await cleanup(b);
      await pair.start(b);
      await pair.until(b, (s) => role(s) === 'backup' && inSync(s), 30_000);
      const handover = root.run('/usr/bin/dsrctl', ['-s', a.sock, 'failover'], 60_000);
      t.regex(handover, /handed over from d1 to d2/);
      // Then the old master: stopped, cleaned up, started on the new package; it preempts back.
      await a.proc!.stop();
      await cleanup(a);
      await pair.start(a);
      await pair.until(a, (s) => role(s) === 'master', 60_000);
      await pair.until(b, (s) => role(s) === 'backup', 10_000);
      t.regex(root.run('dpkg-query', ['-W', 'dsr-director']), /-2$/m);

      const r = await streamsReport(streams, 'final');
      t.log(`${r.alive}/${r.count} streams alive, ${r.withErrors} with errors; max stall ${r.maxDelayMs} ms`);
      t.deepEqual(
        r.streams.filter((s) => s.errors.length > 0).map((s) => `${s.id}: ${s.errors.join('; ')}`),
        [],
        'no stream broken by the drill or the upgrade',
      );
      t.is(r.alive, r.count);
    } catch (e) {
      for (const d of pair.directors) t.log(`${d.host.name}:\n${pair.logTail(d, 20).join('\n')}`);
      throw e;
    } finally {
      // The daemons run from the root, and the root holds binds of the pair's mounts: stop them,
      // then undo the binds, then tear the pair down.
      await Promise.all(pair.directors.map((d) => d.proc?.stop()));
      root.destroy();
      await pair.destroy();
    }
  },
);
