import test from 'ava';
import fc from 'fast-check';
import { z } from 'zod';
import { LineSplitter } from '../../admin/line-splitter.ts';
import { errorFromBody, MAX_REQUEST_BYTES, parseRequest, parseServerLine } from '../../admin/protocol.ts';
import { CommandRegistry } from '../../admin/registry.ts';
import { DsrError, isDsrError } from '../../core/errors.ts';

const ctx = { progress: () => {}, signal: new AbortController().signal };

/** Each malformed request, what id the error answers, and a bit of the message. */
const malformed: [string, string, string | number | null, RegExp][] = [
  ['not JSON', '{"v":1,', null, /not valid JSON/],
  ['a JSON array', '[1,2]', null, /must be a JSON object/],
  ['a JSON string', '"status"', null, /must be a JSON object/],
  ['null', 'null', null, /must be a JSON object/],
  ['no id', '{"v":1,"cmd":"status"}', null, /needs an "id"/],
  ['empty string id', '{"v":1,"id":"","cmd":"status"}', null, /needs an "id"/],
  ['object id', '{"v":1,"id":{},"cmd":"status"}', null, /needs an "id"/],
  ['fractional id', '{"v":1,"id":1.5,"cmd":"status"}', null, /needs an "id"/],
  ['huge id', `{"v":1,"id":"${'x'.repeat(200)}","cmd":"status"}`, null, /needs an "id"/],
  ['no version', '{"id":1,"cmd":"status"}', 1, /version null is not supported/],
  ['version 2', '{"v":2,"id":"a","cmd":"status"}', 'a', /version 2 is not supported; this daemon speaks v1/],
  ['version as string', '{"v":"1","id":3,"cmd":"status"}', 3, /version "1"/],
  ['no cmd', '{"v":1,"id":4}', 4, /needs a "cmd"/],
  ['numeric cmd', '{"v":1,"id":5,"cmd":7}', 5, /needs a "cmd"/],
  ['cmd with odd characters', '{"v":1,"id":6,"cmd":"../etc"}', 6, /needs a "cmd"/],
  ['args an array', '{"v":1,"id":7,"cmd":"status","args":[]}', 7, /"args" must be a JSON object/],
  ['args a string', '{"v":1,"id":8,"cmd":"status","args":"x"}', 8, /"args" must be a JSON object/],
  ['extra field', '{"v":1,"id":9,"cmd":"status","sudo":true}', 9, /unknown request field "sudo"/],
];

for (const [name, line, id, message] of malformed) {
  test(`malformed request: ${name}`, (t) => {
    const parsed = parseRequest(line);
    t.false(parsed.ok);
    if (parsed.ok) return;
    t.is(parsed.response.id, id);
    t.false(parsed.response.ok);
    if (parsed.response.ok) return;
    t.is(parsed.response.error.code, 'E_ADMIN_REQUEST');
    t.regex(parsed.response.error.message, message);
    t.false(
      parsed.response.error.message.startsWith('E_ADMIN_REQUEST:'),
      'the code is not repeated in the message',
    );
  });
}

test('a good request parses, args defaulting to {}', (t) => {
  t.deepEqual(parseRequest('{"v":1,"id":"x","cmd":"config.reload"}'), {
    ok: true,
    request: { v: 1, id: 'x', cmd: 'config.reload', args: {} },
  });
});

test('parseRequest never throws on arbitrary input', (t) => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string(),
        fc.json(),
        fc.jsonValue().map((v) => JSON.stringify(v)),
      ),
      (line) => {
        const r = parseRequest(line);
        return r.ok || r.response.ok === false;
      },
    ),
  );
  t.pass();
});

test('line splitter: lines across chunks, CRLF, several lines per chunk', (t) => {
  const s = new LineSplitter(100);
  t.deepEqual(s.push(Buffer.from('ab')), []);
  t.deepEqual(s.push(Buffer.from('c\r\nde\nf')), [
    { kind: 'line', line: 'abc' },
    { kind: 'line', line: 'de' },
  ]);
  t.deepEqual(s.push(Buffer.from('\n')), [{ kind: 'line', line: 'f' }]);
});

test('line splitter: an over-long line is dropped as it arrives and reported once, then lines resume', (t) => {
  const s = new LineSplitter(10);
  t.deepEqual(s.push(Buffer.from('0123456789')), []);
  t.deepEqual(s.push(Buffer.from('abcdef')), []);
  t.is(s.bufferedBytes, 0, 'nothing of the over-long line is kept');
  t.deepEqual(s.push(Buffer.from('gh\nok\n')), [
    { kind: 'overflow', bytes: 18 },
    { kind: 'line', line: 'ok' },
  ]);
});

test('line splitter: a multi-byte character split across chunks survives', (t) => {
  const s = new LineSplitter(100);
  const bytes = Buffer.from('é\n');
  t.deepEqual(s.push(bytes.subarray(0, 1)), []);
  t.deepEqual(s.push(bytes.subarray(1)), [{ kind: 'line', line: 'é' }]);
});

test('MAX_REQUEST_BYTES is 64 KiB', (t) => {
  t.is(MAX_REQUEST_BYTES, 65536);
});

test('registry: unknown command, bad args, handler errors and bugs become error responses', async (t) => {
  const r = new CommandRegistry();
  r.register({
    name: 'log.level',
    summary: 'set level',
    args: z.object({ level: z.enum(['info', 'debug']) }).strict(),
    run: ({ level }) => ({ level }),
  });
  r.register({
    name: 'fails',
    summary: 'x',
    args: z.object({}).strict(),
    run: () => {
      throw new DsrError('E_RELOAD', 'nope', { why: 1 });
    },
  });
  r.register({
    name: 'bug',
    summary: 'x',
    args: z.object({}).strict(),
    run: () => {
      throw new TypeError('x is undefined');
    },
  });
  const call = (cmd: string, args: Record<string, unknown> = {}) =>
    r.dispatch({ v: 1, id: 1, cmd, args }, ctx);
  t.deepEqual(await call('log.level', { level: 'debug' }), {
    v: 1,
    id: 1,
    ok: true,
    result: { level: 'debug' },
  });
  const unknown = await call('nope');
  t.false(unknown.ok);
  if (!unknown.ok)
    t.regex(unknown.error.message, /unknown command "nope" \(this daemon offers: bug, fails, log.level\)/);
  const bad = await call('log.level', { level: 'loud' });
  if (!bad.ok) t.regex(bad.error.message, /bad arguments for "log.level": args.level: /);
  else t.fail();
  const extra = await call('log.level', { level: 'info', x: 1 });
  if (!extra.ok) t.regex(extra.error.message, /bad arguments/);
  else t.fail();
  const fails = await call('fails');
  if (!fails.ok) t.deepEqual(fails.error, { code: 'E_RELOAD', message: 'nope', context: { why: 1 } });
  else t.fail();
  const bug = await call('bug');
  if (!bug.ok)
    t.deepEqual(bug.error, { code: 'E_INTERNAL', message: 'internal error: x is undefined', context: {} });
  else t.fail();
});

test('registry: duplicate names are refused; unregister removes a command', (t) => {
  const r = new CommandRegistry();
  const off = r.register({ name: 'a', summary: '', args: z.object({}), run: () => 1 });
  t.throws(() => r.register({ name: 'a', summary: '', args: z.object({}), run: () => 2 }), {
    message: /twice/,
  });
  t.throws(() => r.register({ name: 'Bad Name', summary: '', args: z.object({}), run: () => 2 }));
  off();
  t.false(r.has('a'));
});

test('client side: error bodies become DsrErrors; foreign lines are decode errors', (t) => {
  const e = errorFromBody({ code: 'E_RELOAD', message: 'kept old config', context: { line: 3 } });
  t.true(isDsrError(e, 'E_RELOAD'));
  t.is(e.message, 'E_RELOAD: kept old config');
  const foreign = errorFromBody({ code: 'E_FUTURE', message: 'x', context: {} });
  t.true(isDsrError(foreign, 'E_ADMIN_REQUEST'));
  t.regex(foreign.message, /E_FUTURE: x/);
  t.throws(() => parseServerLine('hello'), { message: /not JSON/ });
  t.throws(() => parseServerLine('{"v":2,"id":1,"ok":true}'), { message: /another protocol version/ });
  t.deepEqual(parseServerLine('{"v":1,"id":1,"event":{"left":3}}'), {
    kind: 'progress',
    progress: { v: 1, id: 1, event: { left: 3 } },
  });
});
