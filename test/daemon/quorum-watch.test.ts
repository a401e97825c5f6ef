/** The quorum alerts' rule (daemon/quorum/quorum-watch.ts): lost after two checks without a majority, regained at the first with one. */
import test from 'ava';
import { QuorumWatch } from '../../daemon/quorum/quorum-watch.ts';

test('one check without a majority is no event; two are quorum_lost, once; a majority again is quorum_regained', (t) => {
  const w = new QuorumWatch(['lb1', 'lb2', 'w1']);
  t.is(w.observe(0, ['lb1', 'lb2', 'w1']), null);
  t.is(w.observe(50, ['lb1']), null, 'one missed round');
  t.is(w.observe(100, ['lb1', 'w1']), null, 'back before it counted');
  t.is(w.observe(150, ['lb1']), null);
  t.deepEqual(w.observe(200, ['lb1']), {
    type: 'quorum_lost',
    voters: ['lb1', 'lb2', 'w1'],
    reachable: ['lb1'],
  });
  t.true(w.lost);
  t.is(w.observe(250, ['lb1']), null, 'raised once');
  t.deepEqual(w.observe(3450, ['lb1', 'w1']), {
    type: 'quorum_regained',
    reachable: ['lb1', 'w1'],
    downSeconds: 3.3,
  });
  t.false(w.lost);
  t.is(w.observe(3500, ['lb1', 'lb2', 'w1']), null);
});

test('five voters need three', (t) => {
  const w = new QuorumWatch(['a', 'b', 'c', 'd', 'e']);
  w.observe(0, ['a', 'b']);
  t.like(w.observe(1, ['a', 'b']), { type: 'quorum_lost' });
  t.like(w.observe(2, ['a', 'b', 'c']), { type: 'quorum_regained' });
});
