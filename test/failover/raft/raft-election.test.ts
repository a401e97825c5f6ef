/** Transcripts of the election rules: vote, pre-vote, the promise, check-quorum, restarts, witnesses. */
import test from 'ava';
import type { DsrError } from '../../../core/errors.ts';
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

test('a voter campaigns with a pre-vote first: nobody’s term moves until a quorum would vote (§9.6)', (t) => {
  const a = raftNode(1);
  const b = raftNode(2);
  a.step(0, { kind: 'start' });
  b.step(0, { kind: 'start' });
  t.is(a.nextDeadline(), T);
  const pre = a.step(T, { kind: 'tick' });
  t.deepEqual(types(pre), ['pre-vote>2', 'pre-vote>3']);
  t.is(a.role, 'pre-candidate');
  t.is(a.term, 0, 'a pre-candidate keeps its term');
  t.is(pre.hardState, null);
  const answer = deliver(b, T, only(pre, 'pre-vote', 2));
  t.deepEqual(only(answer, 'pre-vote-response', 1), {
    type: 'pre-vote-response',
    from: 2,
    term: 1,
    granted: true,
  });
  t.is(b.term, 0, 'granting a pre-vote moves no term');
  const campaign = deliver(a, T, only(answer, 'pre-vote-response', 1));
  t.is(a.role, 'candidate');
  t.is(a.term, 1);
  t.deepEqual(
    campaign.hardState,
    { term: 1, vote: 1, commit: 0 },
    'term and own vote persisted with the requests',
  );
  t.deepEqual(only(campaign, 'vote', 3), {
    type: 'vote',
    from: 1,
    term: 1,
    lastIndex: 0,
    lastTerm: 0,
    transfer: false,
  });
});

test('a vote is persisted with the answer that grants it, and given once per term (§5.2)', (t) => {
  const b = raftNode(2);
  b.step(0, { kind: 'start' });
  const vote = { type: 'vote' as const, term: 1, lastIndex: 0, lastTerm: 0, transfer: false };
  const granted = deliver(b, T, { ...vote, from: 1 });
  t.true(only(granted, 'vote-response', 1).granted);
  t.deepEqual(granted.hardState, { term: 1, vote: 1, commit: 0 });
  t.true(
    only(deliver(b, T, { ...vote, from: 1 }), 'vote-response', 1).granted,
    'the same candidate again: yes',
  );
  const other = deliver(b, T, { ...vote, from: 3 });
  t.false(only(other, 'vote-response', 3).granted, 'another candidate of the term: no');
  t.is(other.hardState, null);
});

test('a candidate with an older log gets neither a pre-vote nor a vote (§5.4.1)', (t) => {
  const { nodes, now } = electedCluster();
  const [, b] = nodes;
  const later = now + T; // b's promise to voter 1 is over
  const stale = { term: 5, lastIndex: 0, lastTerm: 0 };
  t.false(only(deliver(b, later, { type: 'pre-vote', from: 3, ...stale }), 'pre-vote-response', 3).granted);
  t.false(
    only(deliver(b, later, { type: 'vote', from: 3, ...stale, transfer: false }), 'vote-response', 3).granted,
  );
  t.is(b.term, 5, 'a vote request of a higher term still moves the term once the promise is over');
});

test('the promise: a voter that answered a leader grants no vote for T, and its term does not move', (t) => {
  const { nodes, now } = electedCluster();
  const [, b] = nodes;
  const request = { type: 'vote' as const, from: 3, term: 9, lastIndex: 5, lastTerm: 9, transfer: false };
  const during = deliver(b, now + T - 1, request);
  t.deepEqual(during.messages, [], 'ignored: not even an answer');
  t.is(b.term, 1);
  t.false(only(deliver(b, now + T - 1, { ...request, type: 'pre-vote' }), 'pre-vote-response', 3).granted);
  const after = deliver(b, now + T, request);
  t.true(only(after, 'vote-response', 3).granted);
  t.is(b.term, 9);
});

test('each append renews the promise', (t) => {
  const { nodes, now } = electedCluster();
  const [a, b] = nodes;
  const heartbeat = a.step(now + HEARTBEAT, { kind: 'tick' });
  deliver(b, now + HEARTBEAT, only(heartbeat, 'append', 2));
  const request = { type: 'vote' as const, from: 3, term: 2, lastIndex: 9, lastTerm: 1, transfer: false };
  t.deepEqual(deliver(b, now + T + 5, request).messages, [], 'promise renewed at now + 10 runs to now + 60');
});

test('a restarted voter keeps its term and vote, and promises from its start', (t) => {
  const b = raftNode(2);
  b.step(0, { kind: 'start' });
  deliver(b, T, { type: 'vote', from: 1, term: 3, lastIndex: 0, lastTerm: 0, transfer: false });
  const restarted = raftNode(
    2,
    {},
    { hardState: { term: 3, vote: 1, commit: 0 }, snapshot: null, entries: [] },
  );
  restarted.step(100, { kind: 'start' });
  t.is(restarted.term, 3);
  const other = { type: 'vote' as const, from: 3, term: 3, lastIndex: 0, lastTerm: 0, transfer: false };
  const higher = { ...other, term: 4 };
  t.deepEqual(deliver(restarted, 100 + T - 1, higher).messages, [], 'within the promise from its start');
  t.false(
    only(deliver(restarted, 100 + T, other), 'vote-response', 3).granted,
    'voted for 1 in term 3 already',
  );
  t.true(only(deliver(restarted, 100 + T, higher), 'vote-response', 3).granted);
});

test('check-quorum: a leader no quorum answers for T steps down, after its lease went (§6.2)', (t) => {
  const { nodes, now } = electedCluster();
  const [a] = nodes;
  t.is(a.role, 'leader');
  let lease: number | null | undefined;
  let at = now;
  while (a.role === 'leader') {
    at = a.nextDeadline();
    const out = a.step(at, { kind: 'tick' });
    if (leaseOf(out) !== undefined) lease = leaseOf(out);
  }
  t.is(lease, null, 'the lease ended on its own deadline');
  t.is(at, now + T + HEARTBEAT, 'stepped down at the first heartbeat tick past T without answers');
  t.is(a.leader, 0);
  t.is(a.status().leaseUntil, null);
});

test('a stale leader learns the new term from a refusal and steps down', (t) => {
  const { nodes, now } = electedCluster();
  const [a, , c] = nodes;
  deliver(c, now + T, { type: 'vote', from: 2, term: 4, lastIndex: 1, lastTerm: 1, transfer: false });
  const heartbeat = a.step(now + HEARTBEAT, { kind: 'tick' });
  const refusal = only(deliver(c, now + T + 1, only(heartbeat, 'append', 3)), 'append-response', 1);
  t.deepEqual([refusal.term, refusal.success], [4, false]);
  const out = deliver(a, now + T + 1, refusal);
  t.is(a.role, 'follower');
  t.is(a.term, 4);
  t.is(leaseOf(out), null);
});

test('a witness never campaigns or takes a transfer, votes without a log, and answers appends', (t) => {
  const options = { witnesses: [3] };
  const w = raftNode(3, options);
  w.step(0, { kind: 'start' });
  t.is(w.nextDeadline(), Number.POSITIVE_INFINITY);
  t.deepEqual(w.step(T, { kind: 'tick' }).messages, []);
  const vote = { type: 'vote' as const, from: 1, term: 2, lastIndex: 0, lastTerm: 0, transfer: false };
  t.true(only(deliver(w, T, vote), 'vote-response', 1).granted);
  const append = {
    type: 'append' as const,
    from: 1,
    term: 2,
    prevIndex: 0,
    prevTerm: 0,
    entries: [],
    commit: 0,
    stamp: 7,
  };
  t.deepEqual(only(deliver(w, T, append), 'append-response', 1), {
    type: 'append-response',
    from: 3,
    term: 2,
    success: true,
    index: 0,
    stamp: 7,
  });
  t.deepEqual(deliver(w, T, { type: 'timeout-now', from: 1, term: 2 }).messages, []);
  t.is(w.role, 'follower');
});

test('a pair and a witness: the witness counts for votes and the lease, not for commits', (t) => {
  const a = raftNode(1, { witnesses: [3] });
  a.step(0, { kind: 'start' });
  const pre = a.step(T, { kind: 'tick' });
  const campaign = deliver(a, T, { type: 'pre-vote-response', from: 3, term: 1, granted: true });
  t.deepEqual(types(pre), ['pre-vote>2', 'pre-vote>3']);
  t.is(only(campaign, 'vote', 3).term, 1);
  const won = deliver(a, T, { type: 'vote-response', from: 3, term: 1, granted: true });
  t.is(a.role, 'leader');
  const toWitness = only(won, 'append', 3);
  t.deepEqual([toWitness.prevIndex, toWitness.entries.length], [0, 0], 'the witness gets heartbeats only');
  const lease = leaseOf(
    deliver(a, T + 1, { type: 'append-response', from: 3, term: 1, success: true, index: 0, stamp: T }),
  );
  t.is(lease, T + LEASE, 'the witness’s answer grants the lease');
  t.is(a.status().commit, 0, 'the no-op waits for the other director');
  const commit = deliver(a, T + 2, {
    type: 'append-response',
    from: 2,
    term: 1,
    success: true,
    index: 1,
    stamp: T,
  });
  t.deepEqual(
    commit.committed.map((e) => e.index),
    [1],
  );
  const error = t.throws<DsrError>(() => a.step(T + 3, { kind: 'transfer', target: 3 }));
  t.is(error?.code, 'E_ELECTION_INPUT', 'leadership never goes to a witness');
});

test('bad inputs fail loudly and change nothing', (t) => {
  const a = raftNode(1);
  t.is(t.throws<DsrError>(() => a.step(0, { kind: 'tick' }))?.code, 'E_ILLEGAL_TRANSITION', 'not started');
  a.step(10, { kind: 'start' });
  t.is(t.throws<DsrError>(() => a.step(5, { kind: 'tick' }))?.code, 'E_ELECTION_INPUT', 'time went back');
  t.is(t.throws<DsrError>(() => a.step(Number.NaN, { kind: 'tick' }))?.code, 'E_ELECTION_INPUT');
  t.is(
    t.throws<DsrError>(() => a.step(10, { kind: 'propose', data: new Uint8Array(1) }))?.code,
    'E_ILLEGAL_TRANSITION',
  );
  t.is(t.throws<DsrError>(() => a.step(10, { kind: 'bogus' } as never))?.code, 'E_ELECTION_INPUT');
  t.deepEqual(
    deliver(a, 10, { type: 'vote', from: 9, term: 7, lastIndex: 0, lastTerm: 0, transfer: false }).messages,
    [],
  );
  t.is(a.term, 0, 'a message from outside the voters changes nothing');
  t.is(t.throws<DsrError>(() => raftNode(1, { voters: [2, 3] }))?.code, 'E_ELECTION_INPUT');
  t.is(t.throws<DsrError>(() => raftNode(1, { witnesses: [2, 3] }))?.code, 'E_ELECTION_INPUT');
  t.is(t.throws<DsrError>(() => raftNode(1, { electionTimeoutMs: 2 }))?.code, 'E_ELECTION_INPUT');
  t.is(t.throws<DsrError>(() => raftNode(1, { heartbeatIntervalMs: 48 }))?.code, 'E_ELECTION_INPUT');
});
