/** The per-source budget of the election transport (issue 21, item 5): a token bucket, pure. */
import test from 'ava';
import { budgetFor, SourceBudget } from '../../failover/transport/source-budget.ts';

test('a budget several times what the groups send: two adverts per interval each', (t) => {
  t.deepEqual(budgetFor([10]), { perSecond: 800, burst: 160 });
  t.deepEqual(budgetFor([10, 100]), { perSecond: 880, burst: 176 });
  t.deepEqual(budgetFor([1000]), { perSecond: 100, burst: 20 }, 'never below a floor');
});

test('the bucket: a burst, then the rate; refilled by time, never beyond the burst', (t) => {
  const b = new SourceBudget({ perSecond: 100, burst: 5 });
  const taken = (now: number, n: number) =>
    Array.from({ length: n }, () => b.take(now)).filter(Boolean).length;
  t.is(taken(0, 10), 5, 'the burst');
  t.is(taken(10, 10), 1, '10 ms at 100/s: one more');
  t.is(taken(60, 10), 5, 'a quiet 50 ms refills up to the burst, no further');
  t.is(taken(10_060, 100), 5);
});

test('a peer at its normal rate is never cut', (t) => {
  const rate = budgetFor([10]);
  const b = new SourceBudget(rate);
  // Two adverts every 10 ms for 10 s, with jitter.
  let refused = 0;
  for (let i = 0; i < 2000; i++) if (!b.take(i * 5 + (i % 3))) refused++;
  t.is(refused, 0);
});
