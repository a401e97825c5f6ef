/** Transcripts of the lease and of leadership transfer (TimeoutNow, thesis §3.10). */
import test from 'ava';
import type { DsrError } from '../../../core/errors.ts';
import { leaseDurationMs, quorumStamp } from '../../../failover/raft/lease.ts';
import {
  deliver,
  electedCluster,
  HEARTBEAT,
  LEASE,
  leaseOf,
  only,
  raftNode,
  T,
  types,
} from './raft-harness.ts';

test('the lease length: L = T·(1 − ρ)/(1 + ρ) − M, and none when nothing is left', (t) => {
  t.is(leaseDurationMs(50, 0.005, 1), LEASE);
  t.is(leaseDurationMs(1000, 0, 0), 1000);
  t.is(leaseDurationMs(1000, 0.01, 0), 980); // 1000 · 0.99 / 1.01 = 980.2
  t.is(t.throws<DsrError>(() => leaseDurationMs(50, 1, 0))?.code, 'E_ELECTION_INPUT');
  t.is(t.throws<DsrError>(() => leaseDurationMs(1, 0.005, 1))?.code, 'E_ELECTION_INPUT');
});

test('the lease starts at the newest stamp a quorum answered, the leader counting itself now', (t) => {
  t.is(quorumStamp(100, [90, 80], 2), 90);
  t.is(quorumStamp(100, [90, 80], 3), 80);
  t.is(quorumStamp(100, [Number.NEGATIVE_INFINITY, 80, 95, 70], 3), 80);
  t.is(quorumStamp(100, [], 2), Number.NEGATIVE_INFINITY);
});

test('a leader holds the lease from a quorum’s answers, extends it with each, and loses it on its deadline', (t) => {
  const { nodes, now } = electedCluster();
  const [a, b] = nodes;
  t.is(a.status().leaseUntil, now + LEASE, 'voter 2 answered the append stamped at election');
  const heartbeat = a.step(now + HEARTBEAT, { kind: 'tick' });
  const append = only(heartbeat, 'append', 2);
  t.is(append.stamp, now + HEARTBEAT);
  const answer = only(deliver(b, now + HEARTBEAT + 3, append), 'append-response', 1);
  t.is(answer.stamp, now + HEARTBEAT, 'the answer echoes the stamp');
  const extended = deliver(a, now + HEARTBEAT + 4, answer);
  t.is(leaseOf(extended), now + HEARTBEAT + LEASE, 'from the stamp, not from the answer’s arrival');
  // An older answer arriving late does not shorten it.
  t.is(leaseOf(deliver(a, now + HEARTBEAT + 5, { ...answer, stamp: now })), undefined);
  t.is(a.nextDeadline(), now + 2 * HEARTBEAT);
  let at = now + HEARTBEAT + 5;
  let ended: number | null = null;
  while (ended === null && at < now + 200) {
    at = a.nextDeadline();
    if (leaseOf(a.step(at, { kind: 'tick' })) === null) ended = at;
  }
  t.is(ended, now + HEARTBEAT + LEASE, 'a tick falls on the deadline and gives the lease up');
});

test('a lease needs a vote quorum of answers: two of five are not enough, three are', (t) => {
  const a = raftNode(1, { voters: [1, 2, 3, 4, 5] });
  a.step(0, { kind: 'start' });
  a.step(T, { kind: 'tick' });
  for (const from of [2, 3]) deliver(a, T, { type: 'pre-vote-response', from, term: 1, granted: true });
  for (const from of [2, 3]) deliver(a, T, { type: 'vote-response', from, term: 1, granted: true });
  t.is(a.role, 'leader');
  const answer = { type: 'append-response' as const, term: 1, success: true, index: 1, stamp: T };
  t.is(leaseOf(deliver(a, T + 1, { ...answer, from: 2 })), undefined);
  t.is(a.status().leaseUntil, null);
  t.is(leaseOf(deliver(a, T + 2, { ...answer, from: 4 })), T + LEASE);
});

test('transfer: the lease goes first, then TimeoutNow; the target wins with forced votes inside the promise', (t) => {
  const { nodes, now } = electedCluster();
  const [a, b, c] = nodes;
  const out = a.step(now + 1, { kind: 'transfer', target: 2 });
  t.deepEqual(
    out.effects[0],
    { type: 'lease', until: null },
    'the lease is given up before any message of the step',
  );
  t.deepEqual(types(out), ['timeout-now>2'], 'voter 2 has every entry: TimeoutNow at once');
  t.is(
    t.throws<DsrError>(() => a.step(now + 1, { kind: 'propose', data: new Uint8Array(1) }))?.code,
    'E_ILLEGAL_TRANSITION',
  );
  const campaign = deliver(b, now + 2, only(out, 'timeout-now', 2));
  t.is(b.role, 'candidate');
  const vote = only(campaign, 'vote', 3);
  t.true(vote.transfer);
  t.is(vote.term, 2);
  // Voter 3 answered voter 1 at `now`: its promise runs to now + T, yet it votes for a transfer.
  const granted = only(deliver(c, now + 3, vote), 'vote-response', 2);
  t.true(granted.granted);
  const won = deliver(b, now + 3, granted);
  t.is(b.role, 'leader');
  t.is(leaseOf(won), undefined, 'no lease before a quorum answers the new leader');
  const answer = only(deliver(c, now + 4, only(won, 'append', 3)), 'append-response', 2);
  t.is(leaseOf(deliver(b, now + 5, answer)), now + 3 + LEASE);
  const stepped = deliver(a, now + 5, only(won, 'append', 1));
  t.is(a.role, 'follower');
  t.is(a.leader, 2);
  t.is(leaseOf(stepped), undefined, 'the old leader had no lease to give up');
});

test('transfer to a lagging target: entries first, TimeoutNow when it has them all', (t) => {
  const { nodes, now } = electedCluster();
  const [a, , c] = nodes;
  const out = a.step(now + 1, { kind: 'transfer', target: 3 });
  const append = only(out, 'append', 3);
  t.deepEqual(types(out), ['append>3']);
  const caughtUp = deliver(a, now + 2, only(deliver(c, now + 2, append), 'append-response', 1));
  t.deepEqual(types(caughtUp), ['timeout-now>3']);
});

test('a transfer that does not finish within T: the old leader steps down, it never takes the lease back in that term', (t) => {
  const { nodes, now } = electedCluster();
  const [a, b] = nodes;
  a.step(now + 1, { kind: 'transfer', target: 2 });
  // Answers keep coming during the transfer, yet no lease.
  const heartbeat = a.step(now + HEARTBEAT, { kind: 'tick' });
  const answer = only(deliver(b, now + HEARTBEAT, only(heartbeat, 'append', 2)), 'append-response', 1);
  t.is(leaseOf(deliver(a, now + HEARTBEAT + 1, answer)), undefined);
  t.is(a.status().leaseUntil, null);
  let at = now + HEARTBEAT + 1;
  while (a.role === 'leader') {
    at = a.nextDeadline();
    a.step(at, { kind: 'tick' });
  }
  t.is(at, now + 1 + T);
  t.is(a.term, 1);
  t.is(a.status().transferTarget, null);
});

test('a TimeoutNow from anyone but the current leader, or of another term, is ignored', (t) => {
  const { nodes, now } = electedCluster();
  const [, b] = nodes;
  t.deepEqual(deliver(b, now + 1, { type: 'timeout-now', from: 3, term: 1 }).messages, []);
  t.deepEqual(deliver(b, now + 1, { type: 'timeout-now', from: 1, term: 0 }).messages, []);
  t.is(b.role, 'follower');
  t.is(b.term, 1);
});
