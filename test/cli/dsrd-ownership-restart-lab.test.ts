/**
 * Lab (issue 21, cases 2 and 3 with real daemons): a hung main thread, and replay state across
 * restarts.
 *
 * - Hung main thread on the master: its main thread alone is frozen (ptrace, lab/ownership/
 *   freeze-thread.ts; the election thread runs on). After the heartbeat bound the election makes
 *   its group Fault, the backup takes over, and the election thread removes the VIP once it hears
 *   the new master: one owner while the main thread is still frozen. Thawed, it takes the VIP back.
 * - Hung main thread on the backup: nothing moves, and the backup reports Fault while frozen.
 * - A clock set back 2 min before a restart (libfaketime on the restarted daemon): the peer does
 *   not drop its adverts as replays (the session id grows across restarts, core/auth/session-store.ts),
 *   so it preempts and the other steps down: one owner.
 * - A replayed capture after restarts: a's adverts recorded (tcpdump on b), a killed (and cleaned
 *   up, as ExecStopPost does), b restarted, then the recording played to b from a's address. b drops
 *   it as replays (its guard's state survived the restart: replay-election.json) and takes over.
 *
 * Needs root; about 60 s.
 */
import { join } from 'node:path';
import test from 'ava';
import { clockBehind } from '../../lab/clock.ts';
import { requireRoot } from '../../lab/index.ts';
import {
  freezeMainThread,
  killAndCleanUp,
  recordAdverts,
  replayAdverts,
  thaw,
} from '../../lab/ownership/adverts.ts';
import { DirectorPair } from '../../lab/pair/director-pair.ts';
import { sampleHolders } from '../../lab/pair/holders.ts';
import { electionDrops, role } from '../../lab/pair/status.ts';
import { sleep, until } from '../../lab/wait.ts';

const skip = requireRoot();
if (skip) console.log(`dsrd ownership restart lab test skipped: ${skip}`);

(skip ? test.skip : test.serial)(
  'a hung main thread: the master hands over and lets go while still hung; a hung backup moves nothing',
  async (t) => {
    t.timeout(120_000);
    const pair = await DirectorPair.create({ realServers: 1, sync: { enabled: false } });
    try {
      const { a, b } = pair;
      await pair.startBoth();
      await pair.settled(a, b);

      // ---- the master's main thread hangs ----
      const frozen = await freezeMainThread(pair, a);
      const hung = await sampleHolders(pair, 4000);
      t.log(
        `master hung: both held the VIP for at most ${hung.bothMaxMs.toFixed(0)} ms; at 4 s: ${hung.last}`,
      );
      t.deepEqual(hung.last, [b.host.name], 'b took over and a let go, with a still hung');
      // The handover waits for b's first advert as master: a poll or two of 20 ms.
      t.true(hung.bothMaxMs < 500, `two owners for ${hung.bothMaxMs.toFixed(0)} ms`);
      await thaw(frozen);
      await pair.until(a, (s) => role(s) === 'master', 15_000);
      await pair.until(b, (s) => role(s) === 'backup', 5000);
      t.true(
        pair.logs(a).some((l) => l.includes('the election thread removed the VIPs of the hung main thread')),
        'a says what its election thread did',
      );
      // b lets go a make-before-break grace after a took the VIP back (vip-owner.ts handOff).
      await sleep(300);
      t.true(await pair.holdsVip(a));
      t.false(await pair.holdsVip(b));

      // ---- the backup's main thread hangs: nothing moves ----
      const before = JSON.stringify((await pair.status(a))!.groups[0]);
      const frozenB = await freezeMainThread(pair, b);
      const quiet = await sampleHolders(pair, 3000);
      await thaw(frozenB);
      t.deepEqual(quiet.last, [a.host.name]);
      t.is(quiet.bothMaxMs, 0);
      t.is(JSON.stringify((await pair.status(a))!.groups[0]), before, 'a saw nothing move');
      // b was Fault while hung (it could not have taken over); it says so once it runs again.
      await until(
        'b logs its hang',
        () => pair.logs(b).some((l) => l.includes('the main thread did not run')),
        {
          limitMs: 5000,
        },
      );
      await pair.until(b, (s) => role(s) === 'backup', 5000);
    } catch (e) {
      for (const d of pair.directors) t.log(`${d.host.name}:\n${pair.logTail(d, 15).join('\n')}`);
      throw e;
    } finally {
      await pair.destroy();
    }
  },
);

(skip ? test.skip : test.serial)(
  'replay state across restarts: a clock set back does not silence a director, a replayed capture does not hold its backup',
  async (t) => {
    t.timeout(120_000);
    let clockBack = false;
    const pair = await DirectorPair.create({
      realServers: 1,
      sync: { enabled: false },
      // libfaketime: this daemon's wall clock 2 min behind; its monotonic clock as it is.
      launch: (d) => (clockBack && d.host.name === 'd1' ? clockBehind(120) : []),
    });
    try {
      const { a, b } = pair;
      await pair.startBoth();
      await pair.settled(a, b);

      // ---- a restarted with its clock 2 min behind its last run ----
      await a.proc!.stop();
      await pair.until(b, (s) => role(s) === 'master');
      const replaysBefore = electionDrops((await pair.status(b))!).replay ?? 0;
      clockBack = true;
      await pair.start(a);
      clockBack = false;
      await pair.until(a, (s) => role(s) === 'master', 15_000);
      await pair.until(b, (s) => role(s) === 'backup', 5000);
      await sleep(300); // b's make-before-break grace
      const held = await sampleHolders(pair, 1000);
      t.deepEqual(held.last, [a.host.name], 'a preempted and b stepped down: b heard it');
      t.is(held.bothMaxMs, 0);
      t.is(
        electionDrops((await pair.status(b))!).replay ?? 0,
        replaysBefore,
        "b dropped none of a's adverts as replays",
      );

      // ---- a's adverts recorded, a killed, b restarted, the recording played to b ----
      const pcap = join(pair.dir, 'adverts.pcap');
      const recorded = await recordAdverts(pair, a, b, pcap, 6);
      t.true(recorded > 50, `${recorded} adverts recorded`);
      await killAndCleanUp(pair, a);
      await pair.until(b, (s) => role(s) === 'master');
      await b.proc!.stop();
      const replay = await replayAdverts(pair, a, b, pcap);
      const restartedAt = performance.now();
      await pair.start(b);
      // Its start, then one master-down interval: well inside the 6 s the replay lasts. Had it
      // accepted the replay, it would follow "a" to the end of the recording.
      await pair.until(b, (s) => role(s) === 'master', 3000);
      t.log(
        `b master ${(performance.now() - restartedAt).toFixed(0)} ms after its restart began, under the replay`,
      );
      await sleep(1000);
      t.true(
        (electionDrops((await pair.status(b))!).replay ?? 0) > 0,
        'the replayed adverts were dropped as replays',
      );
      t.is(role((await pair.status(b))!), 'master', 'and b stays master while the replay goes on');
      const { sent } = JSON.parse(await replay.waitForLine(/^\{/, 15_000)) as { sent: number };
      t.is(sent, recorded);
      t.true(await pair.holdsVip(b));
    } catch (e) {
      for (const d of pair.directors) t.log(`${d.host.name}:\n${pair.logTail(d, 15).join('\n')}`);
      throw e;
    } finally {
      await pair.destroy();
    }
  },
);
