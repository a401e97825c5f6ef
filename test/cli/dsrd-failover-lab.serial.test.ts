/**
 * Lab: two directors each running the real dsrd (every part, the forwarder attached on eth0),
 * driven with the real dsrctl. The preferred
 * director becomes master and holds the VIP (a client resolves the VIP to its MAC); a planned
 * `dsrctl failover` moves the VIP make-before-break; SIGTERM of the master makes it resign and
 * the other takes over at once; no VIP is ever left on the director that is not master.
 *
 * Serial: the order of the handover's two address changes is timed by the CPU. The old master
 * lets go 100 ms after it hears the new one (daemon/election/part.ts, HANDOFF_GRACE_MS); the new
 * one adds the VIP on its main thread, which, with the rest of the suite on both cores and the
 * daemons not run real-time as their unit runs them, once waited 330 ms for a CPU.
 */
import test from 'ava';
import type { DaemonStatus } from '../../admin/catalogue/status.ts';
import { dsrctl } from '../../lab/binaries.ts';
import { VipWatch } from '../../lab/failover/vip-watch.ts';
import { requireRoot } from '../../lab/index.ts';
import { type Director, DirectorPair } from '../../lab/pair/director-pair.ts';
import { role } from '../../lab/pair/status.ts';
import { until } from '../../lab/wait.ts';

/** Polls `dsrctl status --json` of a director until `pred` holds (bounded); returns the ms it took. */
function ctlUntil(
  pair: DirectorPair,
  d: Director,
  pred: (s: DaemonStatus) => boolean,
  limitMs = 15_000,
): Promise<number> {
  let last: DaemonStatus | null = null;
  return until(
    `dsrctl status of ${d.host.name}`,
    async () => {
      last = await pair.ctlStatus(d);
      return last !== null && pred(last);
    },
    { limitMs, everyMs: 50, detail: () => JSON.stringify(last?.groups) },
  );
}

const skip = requireRoot();
if (skip) console.log(`dsrd failover lab test skipped: ${skip}`);

(skip ? test.skip : test)(
  'two dsrd directors: election, VIP ownership, planned failover, resign on SIGTERM',
  async (t) => {
    // No real servers and no services: the election and the VIPs, with the forwarder attached but
    // not tracked, and no sync.
    const pair = await DirectorPair.create({
      realServers: 0,
      services: [],
      vipGroup: { track: { forwarder: false } },
      sync: { enabled: false },
    });
    try {
      const { a, b } = pair;
      const [, pb] = await Promise.all([pair.start(a), pair.start(b)]);

      // The higher priority wins; both see each other with the same config fingerprint.
      await ctlUntil(pair, a, (s) => role(s) === 'master');
      await ctlUntil(pair, b, (s) => role(s) === 'backup' && s.groups[0].master === a.host.name);
      const sa = (await pair.ctlStatus(a))!;
      t.is(sa.peers[0].id, b.host.name);
      t.true((sa.peers[0].lastHeardMs ?? 1e9) < 1000);
      t.true(sa.peers[0].fingerprintMatch);
      t.true(await pair.holdsVip(a));
      t.false(await pair.holdsVip(b));
      t.is(await pair.vipMac(), a.host.mac);

      // An unknown group: a usage error (exit 2) for failover and drill alike; nothing moves.
      for (const cmd of ['failover', 'drill']) {
        const wrong = await dsrctl(['-s', a.sock, cmd, '--group', 'nope']);
        t.is(wrong.code, 2, `${cmd}: ${wrong.stderr}`);
        t.regex(wrong.stderr, /no VIP group named "nope"/);
      }

      // Planned handover, make-before-break: b takes the VIP, a lets it go after.
      const watch = await VipWatch.start(pair.lab, pair.lab.directors, pair.vip);
      t.teardown(() => watch.stop());
      const handoverAt = Date.now();
      const fo = await dsrctl(['-s', a.sock, 'failover', '--json']);
      t.is(fo.code, 0, fo.stderr);
      const r = JSON.parse(fo.stdout);
      t.like(r, { group: 'web', from: a.host.name, to: b.host.name, ok: true, outcome: 'completed' });
      await ctlUntil(pair, b, (s) => role(s) === 'master');
      await ctlUntil(pair, a, (s) => role(s) === 'backup');
      t.true(await pair.holdsVip(b));
      await watch.waitFor((h) => h.length === 1 && h[0] === b.host.name, 5000, 'b alone');
      const moves = watch.holders.changes.filter((c) => c.at >= handoverAt);
      const added = moves.find((c) => c.host === b.host.name && c.present);
      const removed = moves.find((c) => c.host === a.host.name && !c.present);
      t.log(
        `handover: b added the VIP ${added!.at - handoverAt} ms in, a removed it ${removed!.at - added!.at} ms after`,
      );
      t.true(added!.at <= removed!.at, 'make-before-break: no instant without an owner');
      t.false(await pair.holdsVip(a));
      t.is(await pair.vipMac(), b.host.mac);

      // The backup cannot hand over what it does not hold: a clear refusal, nothing changes.
      const refused = await dsrctl(['-s', a.sock, 'failover']);
      t.is(refused.code, 1);
      t.regex(refused.stderr, /E_ILLEGAL_TRANSITION/);

      // SIGTERM on the master: it resigns (priority 0) and releases; a takes over at once.
      pb.signal('SIGTERM');
      const ms = await ctlUntil(pair, a, (s) => role(s) === 'master', 5000);
      t.log(`takeover after the master's SIGTERM seen by dsrctl polling in ${Math.round(ms)} ms`);
      t.is(await pb.wait(), 0);
      t.true(await pair.holdsVip(a));
      t.false(await pair.holdsVip(b), 'the stopped director released the VIP');
      t.true(pb.lines.some((l) => l.includes('"msg":"released VIPs"')));
    } finally {
      await pair.destroy();
    }
  },
);
