/**
 * Session ids recorded on disk (issue 21, item 3): each start gets a greater id than the last,
 * whatever the wall clock says, the file is replaced atomically and kept private, and a damaged
 * file is a clear error, not a silent reset.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { nextSessionId } from '../../core/auth/session-store.ts';
import { isDsrError } from '../../core/errors.ts';

function dir(t: { teardown(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'dsr-state-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('a restart with the clock two minutes behind still gets a greater session id', (t) => {
  const d = join(dir(t), 'state');
  const now = 1_780_000_000_000;
  const first = nextSessionId(d, 'election', now, 0xffff);
  const second = nextSessionId(d, 'election', now - 120_000, 0);
  t.true(second > first, `${second} > ${first}`);
  t.is(second, first + 1n);
  // Ahead of the last one: the wall clock's id, not a counter.
  const third = nextSessionId(d, 'election', now + 1000, 7);
  t.is(third, (BigInt(now + 1000) << 16n) | 7n);
});

test('streams are kept apart; the file is private and holds only the ids', (t) => {
  const d = dir(t);
  const e = nextSessionId(d, 'election', 1_780_000_000_000, 1);
  const s = nextSessionId(d, 'sync', 1_700_000_000_000, 2);
  t.is(s, (1_700_000_000_000n << 16n) | 2n, 'the sync stream has its own history');
  const path = join(d, 'sessions.json');
  t.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { election: e.toString(16), sync: s.toString(16) });
  t.is(statSync(path).mode & 0o777, 0o600);
});

test('a damaged file is an E_STATE_FILE error naming it, and is left as it is', (t) => {
  const d = dir(t);
  const path = join(d, 'sessions.json');
  writeFileSync(path, '{"election": 12}');
  const err = t.throws(() => nextSessionId(d, 'election', 1_780_000_000_000, 0));
  t.true(isDsrError(err, 'E_STATE_FILE'), String(err));
  t.regex(err!.message, /sessions\.json is not a session file/);
  t.is(readFileSync(path, 'utf8'), '{"election": 12}');
});

test('a state directory that cannot be made is an E_STATE_FILE error', (t) => {
  const d = dir(t);
  writeFileSync(join(d, 'file'), '');
  const err = t.throws(() => nextSessionId(join(d, 'file', 'state'), 'sync', 1_780_000_000_000, 0));
  t.true(isDsrError(err, 'E_STATE_FILE'), String(err));
});
