/**
 * Quorum mode's view of the majority: hasQuorum (daemon/quorum/views.ts) and the alerts' rule
 * (daemon/quorum/quorum-watch.ts): lost after two checks without, regained at the first with.
 */
import test from 'ava';
import type { Config } from '../../config/index.ts';
import { QuorumWatch } from '../../daemon/quorum/quorum-watch.ts';
import { hasQuorum, type QuorumViewInput } from '../../daemon/quorum/views.ts';
import type { RaftStatus } from '../../failover/index.ts';

test('one check without a majority is no event; two are quorum_lost, once; a majority again is quorum_regained', (t) => {
  const w = new QuorumWatch(['lb1', 'lb2', 'w1']);
  t.is(w.observe(0, true, ['lb1', 'lb2', 'w1']), null);
  t.is(w.observe(50, false, ['lb1']), null, 'one missed round');
  t.is(w.observe(100, true, ['lb1', 'w1']), null, 'back before it counted');
  t.is(w.observe(150, false, ['lb1']), null);
  t.deepEqual(w.observe(200, false, ['lb1']), {
    type: 'quorum_lost',
    voters: ['lb1', 'lb2', 'w1'],
    reachable: ['lb1'],
  });
  t.true(w.lost);
  t.is(w.observe(250, false, ['lb1']), null, 'raised once');
  t.deepEqual(w.observe(3450, true, ['lb1', 'w1']), {
    type: 'quorum_regained',
    reachable: ['lb1', 'w1'],
    downSeconds: 3.3,
  });
  t.false(w.lost);
  t.is(w.observe(3500, true, ['lb1', 'lb2', 'w1']), null);
});

/** A voter of five (ids 1..5, itself 1) at `now` 1000, T = 50: `heard` are the peers heard 10 ms ago. */
function view(role: RaftStatus['role'], leader: number, heard: number[]): QuorumViewInput {
  const peers = [2, 3, 4, 5].map((id) => ({
    id,
    witness: false,
    lastHeard: heard.includes(id) ? 990 : null,
    match: null,
  }));
  return {
    config: { election: { raft: { electionTimeoutMs: 50 } } } as unknown as Config,
    status: { role, leader, peers } as unknown as RaftStatus,
    transport: null,
    names: new Map(),
    now: 1000,
    leaderChanges: 0,
    transitions: { master: 0, backup: 0 },
  };
}

test('a follower of five hears only its leader and is on the majority side; a leader needs a majority of answers', (t) => {
  t.true(hasQuorum(view('follower', 3, [3])), 'followers never hear each other');
  t.false(hasQuorum(view('follower', 3, [])), 'its leader silent for T');
  t.false(hasQuorum(view('follower', 0, [2])), 'no leader, one peer heard');
  t.true(hasQuorum(view('pre-candidate', 0, [2, 4])), 'it hears a majority itself');
  t.true(hasQuorum(view('leader', 1, [2, 3])));
  t.false(hasQuorum(view('leader', 1, [2])), 'a leader answered by one of four');
});
