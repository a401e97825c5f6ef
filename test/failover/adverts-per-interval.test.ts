/**
 * advertsPerInterval: a director sends k adverts per advertisement interval while peers keep RFC
 * 5798's timers (Master_Down_Interval = 3 × the interval in the packet + skew, from the first
 * advert of the master's interval: each advert says how far into its interval it was sent), so a
 * backup rides out about 3k - 1 lost adverts in a row instead of 2, and detects a dead master as
 * soon as with one advert per interval.
 */
import test from 'ava';
import { isDsrError } from '../../core/errors.ts';
import { ElectionGroup } from '../../failover/election/group.ts';
import type { AdvertMessage } from '../../failover/election/messages.ts';
import { masterDownIntervalMs } from '../../failover/election/timing.ts';
import type { ElectionOutput } from '../../failover/election/types.ts';

const fp = new Uint8Array(16).fill(3);
const INTERVAL = 20;

function director(nodeId: number, priority: number, advertsPerInterval?: number): ElectionGroup {
  return new ElectionGroup({
    groupId: 9,
    nodeId,
    priority,
    advertIntervalMs: INTERVAL,
    advertsPerInterval,
    fingerprint: fp,
    peers: [nodeId === 1 ? 2 : 1],
    random: () => 0.5,
  });
}

interface Run {
  /** Times (ms) at which B became master. */
  takeovers: number[];
  /** Adverts A sent as master, in order, with their send time and phase. */
  sent: { at: number; interval: number; phase: number }[];
}

/**
 * A (master, priority 200) and B (backup, priority 100) on a link from A to B that drops A's
 * master adverts whose index `drop(i)` selects; A is silenced for good at `silenceAt`. B's adverts
 * reach A. Both are ticked at their deadlines up to `until`.
 */
function runPair(k: number, drop: (i: number) => boolean, until: number, silenceAt = Infinity): Run {
  const a = director(1, 200, k);
  const b = director(2, 100, k);
  const run: Run = { takeovers: [], sent: [] };
  let now = 0;
  const deliver = (from: ElectionGroup, to: ElectionGroup, out: ElectionOutput) => {
    for (const m of out.messages) {
      const msg = m.message as AdvertMessage;
      if (from === a) {
        if (now >= silenceAt) continue;
        if (msg.state === 'master') {
          run.sent.push({ at: now, interval: msg.intervalMs, phase: msg.phase ?? 0 });
          if (drop(run.sent.length - 1)) continue;
        }
      }
      const reply = to.step(now, { kind: 'message', message: msg });
      if (to === b) note(reply);
      deliver(to, from, reply);
    }
  };
  const note = (out: ElectionOutput) => {
    for (const t of out.transitions) if (t.to === 'master') run.takeovers.push(t.at);
  };
  // A starts first and wins its startup listen; B starts once A is master.
  deliver(a, b, a.step(now, { kind: 'start' }));
  while (a.state !== 'master') {
    now = a.nextDeadline()!;
    deliver(a, b, a.step(now, { kind: 'tick' }));
  }
  deliver(b, a, b.step(now, { kind: 'start' }));
  while (now < until) {
    now = Math.min(a.nextDeadline()!, b.nextDeadline()!);
    if (now > until) break;
    if (a.nextDeadline()! <= now) deliver(a, b, a.step(now, { kind: 'tick' }));
    if (b.nextDeadline()! <= now) {
      const out = b.step(now, { kind: 'tick' });
      note(out);
      deliver(b, a, out);
    }
  }
  return run;
}

test('a master sends k adverts per interval, each carrying the configured interval', (t) => {
  for (const k of [1, 2, 4]) {
    const run = runPair(k, () => false, 1000);
    const inSecond = run.sent.filter((s) => s.at >= 200 && s.at < 1000);
    t.is(inSecond.length, Math.round((800 / INTERVAL) * k), `k=${k}`);
    t.true(run.sent.every((s) => s.interval === INTERVAL));
    t.deepEqual(run.takeovers, [], `k=${k}: no takeover with no loss`);
  }
});

test('three adverts lost in a row make a plain VRRP backup take over; with 2 per interval it rides out 5', (t) => {
  const lose = (from: number, n: number) => (i: number) => i >= from && i < from + n;
  t.is(runPair(1, lose(20, 3), 2000).takeovers.length, 1, 'k=1: 3 lost → false failover');
  t.deepEqual(runPair(2, lose(40, 3), 2000).takeovers, [], 'k=2: 3 lost → nothing');
  // Adverts 0, 2, 4... start an interval (phase 0); 1, 3, 5... are sent half way (phase 128).
  t.deepEqual(runPair(2, lose(40, 5), 2000).takeovers, [], 'k=2: 5 lost → nothing');
  t.deepEqual(runPair(2, lose(41, 6), 2000).takeovers, [], 'k=2: 6 lost after an interval start → nothing');
  t.is(runPair(2, lose(40, 6), 2000).takeovers.length, 1, 'k=2: 3 whole intervals lost → takeover');
});

test('a dead master is detected in the RFC 5798 master-down interval whatever k', (t) => {
  const downMs = masterDownIntervalMs(100, INTERVAL);
  for (const k of [1, 2, 3]) {
    const run = runPair(k, () => false, 2000, 1000);
    t.is(run.takeovers.length, 1, `k=${k}`);
    const last = run.sent.filter((s) => s.at < 1000).at(-1)!;
    const intervalStart = last.at - (last.phase / 256) * INTERVAL;
    t.is(
      run.takeovers[0] - intervalStart,
      downMs,
      `k=${k}: master-down after the start of the last interval heard`,
    );
    t.true(run.takeovers[0] - last.at <= downMs);
  }
});

test('advertsPerInterval outside 1..10 fails with E_ELECTION_INPUT', (t) => {
  for (const k of [0, 11, 1.5]) {
    const e = t.throws(() => director(1, 100, k));
    t.true(isDsrError(e, 'E_ELECTION_INPUT'), String(e));
  }
});
