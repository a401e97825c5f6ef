/**
 * Lab (issue 6): `dsrctl drill` on two real dsrd directors with the sync enabled, three real
 * servers, and live TCP streams through the VIP.
 *
 * 1. `dsrctl drill --back` on the master passes: the group goes to the backup and comes back, each
 *    move verified, and not one stream is reset.
 * 2. With the backup's daemon stopped, the drill's preflight fails (peer not healthy): exit 1, and
 *    nothing changes (same master, VIP where it was, no transition, streams untouched).
 * 3. Usage errors exit 2.
 */
import test from 'ava';
import type { DrillReport } from '../../admin/catalogue/drill.ts';
import { dsrctl } from '../../lab/binaries.ts';
import { requireRoot } from '../../lab/index.ts';
import { syncServices } from '../../lab/pair/config.ts';
import { DirectorPair } from '../../lab/pair/director-pair.ts';
import { role } from '../../lab/pair/status.ts';
import { streamsReport } from '../../lab/pair/traffic.ts';
import { sleep, until } from '../../lab/wait.ts';

const STREAMS = 8;

const skip = requireRoot();
if (skip) console.log(`dsrd drill lab test skipped: ${skip}`);

/** Election transitions and handovers a director's daemon has logged so far. */
function moves(lines: readonly string[]): number {
  return lines.filter((l) => /"msg":"(VIP group web: |election: handover-)/.test(l)).length;
}

(skip ? test.skip : test)(
  'dsrctl drill --back passes and loses no connection; a failed preflight changes nothing',
  async (t) => {
    const pair = await DirectorPair.create({ services: syncServices() });
    try {
      const { a, b } = pair;
      await pair.startBoth();
      const { proc: streams, servers } = await pair.streams(STREAMS);
      t.log(`streams on ${JSON.stringify(servers)}`);
      // The backup holds the streams' flows (the sync sent them) before the drill starts.
      await sleep(500);

      // 1. The drill, with the hand back.
      const run = await dsrctl(['-s', a.sock, 'drill', '--back', '--json']);
      const report = JSON.parse(run.stdout) as DrillReport;
      for (const e of report.timeline) t.log(`+${String(e.ms).padStart(5)} ms  ${e.step}`);
      t.is(run.code, 0, `${report.summary}\n${run.stderr}`);
      t.true(report.ok);
      t.is(report.stoppedAt, 'done');
      t.deepEqual(
        report.legs.map((l) => [l.from, l.to, l.moved]),
        [
          [a.host.name, b.host.name, true],
          [b.host.name, a.host.name, true],
        ],
      );
      const all = [...report.preflight, ...report.legs.flatMap((l) => l.checks)];
      t.deepEqual(
        all.filter((c) => c.status !== 'pass').map((c) => `${c.name}: ${c.detail}`),
        [],
        'every check passed (traffic is running, so forwarding is judged too)',
      );
      t.true((report.flows.before?.longLived ?? 0) >= STREAMS, 'the census saw every stream');
      t.true((report.flows.peer?.conns ?? 0) >= STREAMS, 'the new master held every stream');
      t.true((report.flows.after?.live ?? 0) >= STREAMS, 'and so did the old one, back again');

      await pair.until(a, (s) => role(s) === 'master');
      await pair.until(b, (s) => role(s) === 'backup');
      t.true(await pair.holdsVip(a));
      // b lets the VIP go a moment after it stepped down (make-before-break: VipOwner.handOff).
      await until('b without the VIP', async () => !(await pair.holdsVip(b)), { limitMs: 2000, everyMs: 20 });
      t.is(await pair.vipMac(), a.host.mac);
      const r1 = await streamsReport(streams);
      t.log(`after the drill: ${r1.alive}/${r1.count} streams alive, max stall ${r1.maxDelayMs} ms`);
      t.deepEqual(
        r1.streams.filter((s) => s.errors.length > 0).map((s) => `${s.id}: ${s.errors.join('; ')}`),
        [],
        'no stream was reset',
      );
      t.is(r1.alive, STREAMS);

      // 2. The backup's daemon stopped: the preflight fails and nothing changes.
      await b.proc?.stop();
      await pair.until(a, (s) => s.peers[0].lastHeardMs === null || s.peers[0].lastHeardMs > 1000);
      const movesBefore = moves(a.proc?.lines ?? []);
      const refused = await dsrctl(['-s', a.sock, 'drill']);
      t.is(refused.code, 1, refused.stderr);
      t.regex(refused.stdout, /FAIL +peer healthy +d2 is lost/);
      t.regex(refused.stdout, /preflight failed, nothing changed/);
      t.regex(refused.stdout, /^FAIL: preflight: /m);
      const after = (await pair.status(a))!;
      t.is(role(after), 'master');
      t.is(moves(a.proc?.lines ?? []), movesBefore, 'no election transition, no handover');
      t.true(await pair.holdsVip(a));
      t.is(await pair.vipMac(), a.host.mac);
      const r2 = await streamsReport(streams, 'final');
      t.is(r2.alive, STREAMS);
      t.is(r2.withErrors, 0);

      // 3. Usage errors.
      t.is((await dsrctl(['-s', a.sock, 'drill', '--group', 'nope'])).code, 2);
      t.is((await dsrctl(['-s', a.sock, 'drill', '--to', 'nobody'])).code, 2);
      t.is((await dsrctl(['-s', a.sock, 'drill', '--bogus'])).code, 2);
    } finally {
      await pair.destroy();
    }
  },
);
