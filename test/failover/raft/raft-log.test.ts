/** Transcripts of log replication (§5.3), the commit rule (§5.4.2), snapshots and compaction (§7), restarts. */
import test from 'ava';
import type { DsrError } from '../../../core/errors.ts';
import { RaftLog } from '../../../failover/raft/log.ts';
import type { Entry, PersistedState } from '../../../failover/raft/types.ts';
import { deliver, electedCluster, HEARTBEAT, only, raftNode, T } from './raft-harness.ts';

const bytes = (...values: number[]) => Uint8Array.from(values);
const entry = (index: number, term: number, value = index): Entry => ({ index, term, data: bytes(value) });

test('a proposal is persisted, sent, committed with one follower’s answer, then applied and sent on', (t) => {
  const { nodes, now } = electedCluster();
  const [a, b, c] = nodes;
  const out = a.step(now + 1, { kind: 'propose', data: bytes(7) });
  t.deepEqual(out.entries, [{ index: 2, term: 1, data: bytes(7) }], 'persisted before it is sent');
  const append = only(out, 'append', 2);
  t.deepEqual([append.prevIndex, append.prevTerm, append.entries.length, append.commit], [1, 1, 1, 1]);
  const received = deliver(b, now + 2, append);
  t.deepEqual(
    received.entries.map((e) => e.index),
    [2],
    'the follower persists it before answering',
  );
  const committed = deliver(a, now + 3, only(received, 'append-response', 1));
  t.deepEqual(
    committed.committed.map((e) => [e.index, [...e.data]]),
    [[2, [7]]],
  );
  t.deepEqual(committed.hardState, { term: 1, vote: 1, commit: 2 });
  const toC = only(committed, 'append', 3);
  t.is(toC.commit, 2, 'the new commit index goes out at once');
  const applied = deliver(c, now + 4, toC);
  t.deepEqual(
    applied.committed.map((e) => e.index),
    [1, 2],
    'voter 3 gets the no-op and the entry, and applies both',
  );
});

test('a follower drops entries that conflict with the leader’s and keeps the rest (§5.3)', (t) => {
  const stale: PersistedState = {
    hardState: { term: 2, vote: 0, commit: 1 },
    snapshot: null,
    entries: [entry(1, 1), entry(2, 2), entry(3, 2)],
  };
  const b = raftNode(2, {}, stale);
  b.step(0, { kind: 'start' });
  const append = {
    type: 'append' as const,
    from: 1,
    term: 3,
    prevIndex: 1,
    prevTerm: 1,
    commit: 2,
    stamp: 0,
  };
  const out = deliver(b, 1, { ...append, entries: [entry(2, 3, 9)] });
  t.is(out.truncateFrom, 2);
  t.deepEqual(out.entries, [entry(2, 3, 9)]);
  t.deepEqual(
    out.committed.map((e) => [e.index, e.term]),
    [[2, 3]],
  );
  t.is(b.status().lastIndex, 2);
  // The same append again (a duplicate): nothing to persist, the answer the same.
  const again = deliver(b, 2, { ...append, entries: [entry(2, 3, 9)] });
  t.deepEqual([again.truncateFrom, again.entries.length], [null, 0]);
  t.true(only(again, 'append-response', 1).success);
});

test('a follower whose log diverges refuses with a hint, and the leader backs off to the match (§5.3)', (t) => {
  const a = raftNode(
    1,
    {},
    { hardState: { term: 2, vote: 0, commit: 1 }, snapshot: null, entries: [entry(1, 1), entry(2, 1)] },
  );
  const c = raftNode(
    3,
    {},
    { hardState: { term: 2, vote: 0, commit: 1 }, snapshot: null, entries: [entry(1, 1), entry(2, 2)] },
  );
  a.step(0, { kind: 'start' });
  c.step(0, { kind: 'start' });
  a.step(T, { kind: 'tick' });
  deliver(a, T, { type: 'pre-vote-response', from: 2, term: 3, granted: true });
  const won = deliver(a, T, { type: 'vote-response', from: 2, term: 3, granted: true });
  const first = only(won, 'append', 3);
  t.deepEqual([first.prevIndex, first.prevTerm], [2, 1]);
  const refusal = only(deliver(c, T + 1, first), 'append-response', 1);
  t.deepEqual([refusal.success, refusal.index], [false, 1]);
  const retry = only(deliver(a, T + 2, refusal), 'append', 3);
  t.deepEqual(
    [retry.prevIndex, retry.entries.map((e) => [e.index, e.term])],
    [
      1,
      [
        [2, 1],
        [3, 3],
      ],
    ],
  );
  const repaired = deliver(c, T + 3, retry);
  t.is(repaired.truncateFrom, 2, 'the entry of term 2 that no quorum held goes');
  t.deepEqual(only(repaired, 'append-response', 1).index, 3);
  t.deepEqual(
    deliver(a, T + 4, only(repaired, 'append-response', 1)).committed.map((e) => e.index),
    [2, 3],
  );
});

test('only an entry of the leader’s own term commits by counting (§5.4.2, Figure 8)', (t) => {
  // Voter 1 leads term 3 with an entry of term 2 it never committed.
  const persisted: PersistedState = {
    hardState: { term: 2, vote: 1, commit: 1 },
    snapshot: null,
    entries: [entry(1, 1), entry(2, 2)],
  };
  const a = raftNode(1, {}, persisted);
  a.step(0, { kind: 'start' });
  a.step(T, { kind: 'tick' });
  deliver(a, T, { type: 'pre-vote-response', from: 2, term: 3, granted: true });
  const won = deliver(a, T, { type: 'vote-response', from: 2, term: 3, granted: true });
  t.is(a.role, 'leader');
  t.deepEqual(
    won.entries.map((e) => [e.index, e.term]),
    [[3, 3]],
    'the no-op of term 3',
  );
  const answer = { type: 'append-response' as const, from: 2, term: 3, success: true, stamp: T };
  t.deepEqual(
    deliver(a, T + 1, { ...answer, index: 2 }).committed,
    [],
    'index 2 on a quorum, of term 2: not committed',
  );
  const out = deliver(a, T + 2, { ...answer, index: 3 });
  t.deepEqual(
    out.committed.map((e) => e.index),
    [2, 3],
    'with the no-op, both commit',
  );
});

test('compaction drops applied entries; a follower behind the snapshot gets the snapshot, then entries', (t) => {
  const { nodes, now } = electedCluster();
  const [a, b, c] = nodes;
  let at = now;
  for (let i = 0; i < 4; i++) {
    at += 1;
    const out = a.step(at, { kind: 'propose', data: bytes(i) });
    deliver(a, at, only(deliver(b, at, only(out, 'append', 2)), 'append-response', 1));
  }
  t.is(a.status().commit, 5);
  const compacted = a.step(at, { kind: 'compact', index: 4, data: bytes(4, 4) });
  t.deepEqual(compacted.snapshot, { index: 4, term: 1, data: bytes(4, 4) });
  t.is(a.status().snapshotIndex, 4);
  t.is(
    t.throws<DsrError>(() => a.step(at, { kind: 'compact', index: 6, data: bytes() }))?.code,
    'E_ILLEGAL_TRANSITION',
  );
  // Voter 3 has index 1 only: its next entry was compacted away.
  const heartbeat = a.step(now + HEARTBEAT, { kind: 'tick' });
  const snapshot = only(heartbeat, 'snapshot', 3);
  t.is(snapshot.snapshot.index, 4);
  const restored = deliver(c, now + HEARTBEAT, snapshot);
  t.deepEqual(restored.restore, snapshot.snapshot, 'the state machine is replaced');
  t.deepEqual(restored.snapshot, snapshot.snapshot, 'and the snapshot persisted');
  t.is(restored.truncateFrom, 5, 'with every entry after it dropped');
  const answer = only(restored, 'append-response', 1);
  t.deepEqual([answer.success, answer.index], [true, 4]);
  const rest = only(deliver(a, now + HEARTBEAT + 1, answer), 'append', 3);
  t.deepEqual(
    rest.entries.map((e) => e.index),
    [5],
  );
  t.deepEqual(
    deliver(c, now + HEARTBEAT + 1, rest).committed.map((e) => e.index),
    [5],
  );
});

test('a restart rebuilds from the snapshot and re-applies the committed entries after it', (t) => {
  const persisted: PersistedState = {
    hardState: { term: 4, vote: 2, commit: 6 },
    snapshot: { index: 4, term: 3, data: bytes(1, 2) },
    entries: [entry(5, 4), entry(6, 4), entry(7, 4)],
  };
  const node = raftNode(1, {}, persisted);
  const out = node.step(0, { kind: 'start' });
  t.deepEqual(out.restore, persisted.snapshot);
  t.deepEqual(
    out.committed.map((e) => e.index),
    [5, 6],
    'entry 7 is not known committed',
  );
  t.is(out.hardState, null, 'nothing new to persist');
  t.deepEqual([node.term, node.status().lastIndex], [4, 7]);
});

test('a persisted log that does not hold together is refused at construction', (t) => {
  const broken = (state: Partial<PersistedState>) => () =>
    new RaftLog({ hardState: { term: 1, vote: 0, commit: 0 }, snapshot: null, entries: [], ...state });
  t.is(t.throws<DsrError>(broken({ entries: [entry(2, 1)] }))?.code, 'E_ELECTION_INPUT');
  t.is(
    t.throws<DsrError>(broken({ hardState: { term: 1, vote: 0, commit: 3 }, entries: [entry(1, 1)] }))?.code,
    'E_ELECTION_INPUT',
  );
  t.notThrows(broken({ snapshot: { index: 3, term: 1, data: bytes() }, entries: [entry(4, 1)] }));
});

test('entries up to a follower’s commit index are never rewritten', (t) => {
  const b = raftNode(
    2,
    {},
    { hardState: { term: 2, vote: 0, commit: 2 }, snapshot: null, entries: [entry(1, 1), entry(2, 2)] },
  );
  b.step(0, { kind: 'start' });
  const append = {
    type: 'append' as const,
    from: 1,
    term: 3,
    prevIndex: 2,
    prevTerm: 2,
    entries: [entry(3, 3)],
    commit: 2,
    stamp: 0,
  };
  t.true(only(deliver(b, 1, append), 'append-response', 1).success);
  // A late append from before the commit index: answered with the commit index, nothing touched.
  const late = deliver(b, 2, { ...append, prevIndex: 0, prevTerm: 0, entries: [entry(1, 3)] });
  const answer = only(late, 'append-response', 1);
  t.deepEqual([answer.success, answer.index], [true, 2]);
  t.deepEqual([late.truncateFrom, late.entries.length], [null, 0]);
  // The log itself refuses to: a leader that asked would have broken Leader Completeness.
  const log = new RaftLog({
    hardState: { term: 2, vote: 0, commit: 2 },
    snapshot: null,
    entries: [entry(1, 1), entry(2, 2)],
  });
  t.is(t.throws<DsrError>(() => log.appendAfter(1, [entry(2, 3)]))?.code, 'E_ILLEGAL_TRANSITION');
  t.is(log.lastTerm(), 2);
});
