/** The soak's own stall counts: read from dsrd's status, and taken as the difference over the soak. */
import test from 'ava';
import { stallCountsOf } from '../../../lab/failover/dsrd-stack.ts';
import { stallsDuring } from '../../../lab/failover/soak.ts';

const status = (election: unknown) => ({
  parts: [{ name: 'election', state: 'running', status: { election } }],
});

test('stall counts come from the election part, keeper limit included; anything else is null', (t) => {
  t.deepEqual(stallCountsOf(status({ stalls: { relearned: 2, covered: 25 }, keeper: { gaveUp: 1 } })), {
    relearned: 2,
    covered: 25,
    keeperLimit: 1,
  });
  t.deepEqual(stallCountsOf(status({ stalls: { relearned: 0, covered: 0 }, keeper: null })), {
    relearned: 0,
    covered: 0,
    keeperLimit: 0,
  });
  t.is(stallCountsOf(status({ keeper: null })), null, 'an older dsrd without stall counts');
  t.is(stallCountsOf(status({ stalls: { relearned: '2', covered: 1 } })), null);
  t.is(stallCountsOf({ parts: [] }), null);
});

test('the soak counts what happened during it; a restarted or silent director makes it unknown', (t) => {
  const c = (relearned: number, covered: number, keeperLimit = 0) => ({ relearned, covered, keeperLimit });
  const before = new Map([
    ['d1', c(1, 4)],
    ['d2', c(3, 0)],
  ]);
  const during = stallsDuring(
    before,
    new Map([
      ['d1', c(1, 29, 1)],
      ['d2', c(28, 0)],
    ]),
  );
  t.deepEqual(Object.fromEntries(during ?? []), { d1: c(0, 25, 1), d2: c(25, 0) });
  t.is(stallsDuring(before, new Map([['d1', c(1, 29)]])), null, 'd2 did not answer');
  t.is(
    stallsDuring(
      before,
      new Map([
        ['d1', c(0, 2)],
        ['d2', c(3, 0)],
      ]),
    ),
    null,
    'd1 restarted',
  );
  t.is(stallsDuring(undefined, undefined), null, 'a stack without counts');
  t.is(stallsDuring(new Map(), new Map()), null);
});
