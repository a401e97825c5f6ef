/** The admin catalogue: well-formed entries, strict schemas, and handlers registered from them. */
import test from 'ava';
import { CATALOGUE } from '../../admin/catalogue/commands.ts';
import { isCommandName } from '../../admin/protocol.ts';
import { CommandRegistry } from '../../admin/registry.ts';

const entries = Object.values(CATALOGUE);

test('every entry has a command name of its own and a one-line summary', (t) => {
  for (const e of entries) {
    t.true(isCommandName(e.name), e.name);
    t.regex(e.summary, /^[^\n]{10,100}$/, e.name);
  }
  t.is(new Set(entries.map((e) => e.name)).size, entries.length, 'names are unique');
});

test('every schema refuses arguments it does not name', (t) => {
  for (const e of entries) t.false(e.args.safeParse({ bogus: 1 }).success, e.name);
});

test('handle() registers the entry: its summary is listed, its schema checks and fills in the arguments', async (t) => {
  const registry = new CommandRegistry();
  const seen: unknown[] = [];
  const off = registry.handle(CATALOGUE.drain, (args, ctx) => {
    seen.push(args);
    ctx.progress({ rs: args.rs, service: null, remaining: 1, closing: 0, secondsLeft: null });
    return {
      rs: args.rs,
      service: args.service ?? null,
      state: 'draining',
      startedAt: 0,
      timeoutMs: 0,
      stopPersistence: true,
      remaining: 1,
      closing: 0,
      finishedAt: null,
      outcome: null,
    };
  });
  t.deepEqual(registry.list(), [{ name: 'drain', summary: CATALOGUE.drain.summary }]);

  const progress: unknown[] = [];
  const ctx = { progress: (e: unknown) => progress.push(e), signal: new AbortController().signal };
  const ok = await registry.dispatch({ v: 1, id: 1, cmd: 'drain', args: { rs: '198.18.0.101' } }, ctx);
  t.like(ok, { ok: true, result: { rs: '198.18.0.101', state: 'draining' } });
  t.deepEqual(seen, [{ rs: '198.18.0.101', wait: false }], 'the default is filled in');
  t.is(progress.length, 1);

  const bad = await registry.dispatch({ v: 1, id: 2, cmd: 'drain', args: { rs: 'web1' } }, ctx);
  t.like(bad, { ok: false, error: { code: 'E_ADMIN_REQUEST' } });
  t.is(seen.length, 1, 'the handler does not run on bad arguments');

  off();
  t.false(registry.has('drain'));
});
