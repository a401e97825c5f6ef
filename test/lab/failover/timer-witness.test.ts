import test from 'ava';
import { LatenessTally } from '../../../lab/failover/timer-witness.ts';

test('the witness tallies timer lateness by bucket, its maximum and the stalls over 30 ms', (t) => {
  const tally = new LatenessTally();
  const late = [0.2, 12, 25, 31, 55, 80, 140, 3];
  for (const [i, ms] of late.entries()) tally.add(ms, 1000 + i);
  const r = tally.result();
  t.is(r.ticks, 8);
  t.is(r.maxLateMs, 140);
  t.deepEqual(r.lateOver, { '10': 6, '20': 5, '30': 4, '50': 3, '70': 2, '100': 1 });
  t.deepEqual(
    r.stalls.map((s) => s.lateMs),
    [31, 55, 80, 140],
  );
  t.is(r.stalls[0].at, 1003);
});
