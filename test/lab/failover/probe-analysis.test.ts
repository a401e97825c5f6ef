import test from 'ava';
import fc from 'fast-check';
import { analyzeProbe, type ProbeReply } from '../../../lab/failover/probe-analysis.ts';

/** Sends every `step` ms from 0; replies `rtt` ms later by `server(seq)`, except the seqs in `lost`. */
function run(
  n: number,
  opts: { step?: number; rtt?: number; lost?: Set<number>; server?: (s: number) => string },
) {
  const step = opts.step ?? 1;
  const rtt = opts.rtt ?? 0.2;
  const sendTimes = Array.from({ length: n }, (_, i) => i * step);
  const replies: ProbeReply[] = [];
  for (let seq = 0; seq < n; seq++) {
    if (opts.lost?.has(seq)) continue;
    replies.push({ seq, at: sendTimes[seq] + rtt, server: opts.server?.(seq) ?? 'r1' });
  }
  return { sendTimes, replies };
}

const range = (a: number, b: number) => new Set(Array.from({ length: b - a }, (_, i) => a + i));

test('no loss: the longest gap is one send interval, nothing lost', (t) => {
  const s = analyzeProbe(run(1000, {}));
  t.is(s.sent, 1000);
  t.is(s.received, 1000);
  t.is(s.lost, 0);
  t.is(s.gap.edge, 'none');
  t.true(Math.abs(s.gap.ms - 1) < 1e-9);
  t.is(s.longestLostRun.count, 0);
  t.is(s.rateHz, 1000);
  t.is(s.maxSendGapMs, 1);
});

test('a run of 300 lost probes is a ~301 ms outage, with the servers on both sides', (t) => {
  const s = analyzeProbe(run(1000, { lost: range(400, 700), server: (q) => (q < 500 ? 'r1' : 'r2') }));
  t.is(s.lost, 300);
  t.is(s.received, 700);
  t.true(Math.abs(s.gap.ms - 301) < 1e-9);
  t.is(s.gap.fromSeq, 399);
  t.is(s.gap.toSeq, 700);
  t.is(s.gap.before, 'r1');
  t.is(s.gap.after, 'r2');
  t.is(s.gap.edge, 'none');
  t.deepEqual(s.longestLostRun, { count: 300, firstSeq: 400, spanMs: 301 });
  t.deepEqual(s.servers, { r1: 400, r2: 300 });
  t.is(s.firstServer, 'r1');
  t.is(s.lastServer, 'r2');
});

test('the longest of several outages wins', (t) => {
  const s = analyzeProbe(
    run(1000, { lost: new Set([...range(100, 120), ...range(500, 560), ...range(800, 810)]) }),
  );
  t.is(s.lost, 90);
  t.is(s.gap.fromSeq, 499);
  t.is(s.gap.toSeq, 560);
  t.is(s.longestLostRun.count, 60);
});

test('replies that never resume show as a gap at the end, not as a short outage', (t) => {
  const s = analyzeProbe(run(1000, { lost: range(900, 1000) }));
  t.is(s.gap.edge, 'end');
  t.is(s.gap.after, null);
  t.is(s.gap.toSeq, null);
  t.true(Math.abs(s.gap.ms - (999 - 899.2)) < 1e-9);
});

test('no reply at all: the whole run is the gap', (t) => {
  const s = analyzeProbe(run(100, { lost: range(0, 100) }));
  t.is(s.received, 0);
  t.is(s.gap.edge, 'both');
  t.is(s.gap.ms, 99);
  t.is(s.firstServer, null);
});

test('a late start shows as a gap at the start', (t) => {
  const s = analyzeProbe(run(500, { lost: range(0, 200) }));
  t.is(s.gap.edge, 'start');
  t.is(s.gap.toSeq, 200);
  t.true(Math.abs(s.gap.ms - 200.2) < 1e-9);
});

test('duplicates, reordering and replies to unknown sequence numbers', (t) => {
  const { sendTimes, replies } = run(10, {});
  const extra: ProbeReply[] = [
    { seq: 3, at: 50, server: 'r1' },
    { seq: 99, at: 51, server: 'evil' },
    { seq: -1, at: 52, server: 'evil' },
    { seq: 1.5, at: 53, server: 'evil' },
  ];
  // Swap the arrival order of 5 and 6.
  const swapped = replies.map((r) => (r.seq === 5 ? { ...r, at: 6.5 } : r.seq === 6 ? { ...r, at: 6.1 } : r));
  const s = analyzeProbe({
    sendTimes,
    replies: [...swapped.filter((r) => r.seq !== 5), swapped[5], ...extra],
  });
  t.is(s.received, 10);
  t.is(s.duplicates, 1);
  t.is(s.reordered, 1);
  t.deepEqual(Object.keys(s.servers), ['r1']);
});

test('a stall of the sender shows in maxSendGapMs and the rate', (t) => {
  const sendTimes = [0, 1, 2, 50, 51];
  const s = analyzeProbe({
    sendTimes,
    replies: sendTimes.map((at, seq) => ({ seq, at: at + 0.1, server: 'r' })),
  });
  t.is(s.maxSendGapMs, 48);
  t.is(s.rateHz, 4000 / 51);
});

test('property: lost = sent - received, and the outage bounds every reply gap and the lost run', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 400 }),
      fc.array(fc.nat(399), { maxLength: 300 }),
      fc.double({ min: 0, max: 5, noNaN: true }),
      (n, lostList, rtt) => {
        const lost = new Set(lostList.filter((x) => x < n));
        const input = run(n, { lost, rtt });
        const s = analyzeProbe(input);
        if (s.sent !== n || s.lost !== lost.size || s.received !== n - lost.size) return false;
        const ats = input.replies.map((r) => r.at);
        for (let i = 1; i < ats.length; i++) if (ats[i] - ats[i - 1] > s.gap.ms + 1e-9) return false;
        // A lost run of k probes between two answers spans k+1 send intervals; the reply gap is the same here.
        if (s.longestLostRun.count > 0 && s.gap.edge === 'none') {
          if (s.longestLostRun.spanMs > s.gap.ms + 1e-9) return false;
        }
        return s.gap.ms >= 0 && s.gap.fromAt <= s.gap.toAt;
      },
    ),
  );
  t.pass();
});
