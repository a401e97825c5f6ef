/** RepeatLimiter: the first of a run of identical errors is logged, then one reminder per period with the count. */
import test from 'ava';
import { RepeatLimiter } from '../../core/repeat-limiter.ts';

test('first occurrence logged, repeats counted, the next after the period logged with the count', (t) => {
  const r = new RepeatLimiter(1000);
  t.deepEqual(r.admit('send ENETUNREACH 198.18.0.3:9777', 0), { log: true, suppressed: 0 });
  for (let at = 100; at < 1000; at += 100) t.false(r.admit('send ENETUNREACH 198.18.0.3:9777', at).log);
  // Another error is not held back by the first.
  t.deepEqual(r.admit('send EPERM 198.18.0.3:9777', 500), { log: true, suppressed: 0 });
  t.deepEqual(r.admit('send ENETUNREACH 198.18.0.3:9777', 1000), { log: true, suppressed: 9 });
  t.deepEqual(r.admit('send ENETUNREACH 198.18.0.3:9777', 1100), { log: false, suppressed: 1 });
});

test('memory stays bounded whatever the keys; an evicted key is logged again', (t) => {
  const r = new RepeatLimiter(1000, 2);
  t.true(r.admit('a', 0).log);
  t.true(r.admit('b', 0).log);
  t.true(r.admit('c', 0).log);
  t.true(r.admit('a', 1).log, 'a was evicted by c');
  t.false(r.admit('c', 2).log);
  t.throws(() => new RepeatLimiter(0), { instanceOf: RangeError });
});
