import test from 'ava';
import { EventLoopMonitor, StallDetector } from '../../core/eventloop.ts';
import { sleep } from '../../lab/wait.ts';

test('stall detector: gaps above the threshold are stalls, others are not', (t) => {
  const d = new StallDetector(100);
  t.is(d.tick(1000), undefined, 'the first tick only sets the reference');
  t.is(d.tick(1020), undefined);
  t.is(d.tick(1120), undefined, 'exactly the threshold is not a stall');
  t.deepEqual(d.tick(1621), { at: 1621, gapMs: 501, cpuMs: null, cause: null });
  t.is(d.tick(1641), undefined);
  t.is(d.stalls, 1);
  t.is(d.maxGapMs, 501);
  t.deepEqual(d.lastStall, { at: 1621, gapMs: 501, cpuMs: null, cause: null });
});

test("stall detector: the thread's CPU time over the gap tells busy from not scheduled", (t) => {
  const d = new StallDetector(100);
  d.tick(0, 0);
  t.like(d.tick(600, 580), { gapMs: 600, cpuMs: 580, cause: 'busy' }, 'a long task on the loop');
  t.like(d.tick(1200, 600), { gapMs: 600, cpuMs: 20, cause: 'not-scheduled' }, 'starved or stopped');
});

test('stall detector: reset forgets the last tick, so a deliberate pause is not a stall', (t) => {
  const d = new StallDetector(100);
  d.tick(0);
  d.reset();
  t.is(d.tick(10_000), undefined);
  t.is(d.stalls, 0);
});

test('stall detector refuses a non-positive threshold', (t) => {
  t.throws(() => new StallDetector(0), { instanceOf: RangeError });
});

test('monitor reports stalls to subscribers through its injected clock', async (t) => {
  let now = 0;
  const m = new EventLoopMonitor({ tickMs: 1, stallThresholdMs: 50, now: () => now, cpuNow: () => 0 });
  const seen: number[] = [];
  const off = m.onStall((s) => seen.push(s.gapMs));
  m.start();
  t.true(m.running);
  now = 1000; // the next tick sees a 1 s gap
  await sleep(20);
  m.stop();
  off();
  t.false(m.running);
  t.deepEqual(seen, [1000]);
  const s = m.status();
  t.is(s.stalls, 1);
  t.is(s.lastStall?.gapMs, 1000);
  t.is(s.lastStall?.cause, 'not-scheduled', 'no CPU used over the gap');
  t.is(s.stallThresholdMs, 50);
  t.true(s.delay.maxMs >= 0);
});
