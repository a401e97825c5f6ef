/** The Raft state on disk: what a step persists comes back after a restart; a broken file is an error, never an empty start. */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { DsrError } from '../../../core/errors.ts';
import { RAFT_STATE_FILE, RaftStorage } from '../../../failover/raft/storage.ts';
import { EMPTY_STATE, type Entry, type RaftOutput } from '../../../failover/raft/types.ts';

const entry = (index: number, term: number): Entry => ({ index, term, data: Uint8Array.of(index, term) });
const output = (over: Partial<RaftOutput>): RaftOutput => ({
  hardState: null,
  truncateFrom: null,
  entries: [],
  snapshot: null,
  messages: [],
  restore: null,
  committed: [],
  effects: [],
  ...over,
});

test('steps persisted in order come back after a restart: truncation, appends, snapshot', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dsr-raft-state-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const storage = RaftStorage.open(dir);
  t.deepEqual(storage.state, EMPTY_STATE);
  storage.save(output({}));
  t.throws(
    () => statSync(join(dir, RAFT_STATE_FILE)),
    undefined,
    'a step with nothing to persist writes nothing',
  );
  storage.save(
    output({ hardState: { term: 2, vote: 1, commit: 0 }, entries: [entry(1, 1), entry(2, 2), entry(3, 2)] }),
  );
  storage.save(
    output({ hardState: { term: 3, vote: 0, commit: 1 }, truncateFrom: 2, entries: [entry(2, 3)] }),
  );
  storage.save(output({ snapshot: { index: 1, term: 1, data: Uint8Array.of(9) } }));
  t.is(statSync(join(dir, RAFT_STATE_FILE)).mode & 0o777, 0o600);
  const back = RaftStorage.open(dir).state;
  t.deepEqual(back, {
    hardState: { term: 3, vote: 0, commit: 1 },
    snapshot: { index: 1, term: 1, data: Uint8Array.of(9) },
    entries: [entry(2, 3)],
  });
});

test('a state file that does not read back stops the start with E_STATE_FILE', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dsr-raft-state-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, RAFT_STATE_FILE);
  for (const text of [
    '{',
    '{"format":2}',
    '{"format":1,"hardState":{"term":1,"vote":0},"entries":[]}',
    '{"format":1,"hardState":{"term":1,"vote":0,"commit":0},"entries":[{"index":"x"}]}',
  ]) {
    writeFileSync(path, text);
    t.is(t.throws<DsrError>(() => RaftStorage.open(dir))?.code, 'E_STATE_FILE', text);
  }
  t.is(readFileSync(path, 'utf8').length > 0, true, 'the file is left for the operator');
});
