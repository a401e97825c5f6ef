/**
 * Delivery engine logic with a scripted sender and manual timers: backoff
 * delays from the injected random source, age limits, queue bounds, reload,
 * test sends, and spool recovery. The real-HTTP behaviour is in
 * delivery-http.test.ts.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { AlertEngine, type AlertEngineOptions } from '../../alerts/engine.ts';
import { createAlertEventFactory } from '../../alerts/events.ts';
import type { SendRequest, SendResult } from '../../alerts/http-sender.ts';
import { encodeSpoolRecord } from '../../alerts/spool.ts';
import { type AlertTargetSpec, resolveAlertTarget } from '../../alerts/targets.ts';
import { isDsrError } from '../../core/errors.ts';
import { sleep, until } from '../../lab/wait.ts';
import { manualTimers, tempDir } from './helpers.ts';

/** The engine's work lands within a turn or two of the event loop: poll often. */
const POLL = { everyMs: 2 };

const events = createAlertEventFactory({ node: 'dir-a' });
const ev = (n: number) =>
  events.make('service_down', { service: `svc${n}`, reason: 'no healthy real server' });

function spec(name: string, policy: Record<string, number> = {}, selectors = ['*']): AlertTargetSpec {
  return { name, kind: 'slack', url: `http://127.0.0.1:9/${name}`, events: selectors, policy };
}

/** A sender whose answers the test scripts; `hold` keeps requests open until released or aborted. */
function scriptedSender(answer: (req: SendRequest, n: number) => SendResult | 'hold') {
  const requests: SendRequest[] = [];
  const held: Array<(r: SendResult) => void> = [];
  const send = (req: SendRequest): Promise<SendResult> => {
    const a = answer(req, requests.length);
    requests.push(req);
    if (a !== 'hold') return Promise.resolve(a);
    return new Promise((resolve) => {
      held.push(resolve);
      req.signal.addEventListener('abort', () => resolve({ kind: 'error', error: 'aborted' }));
    });
  };
  return { send, requests, held };
}

async function open(
  t: ExecutionContext,
  dir: string,
  o: Partial<AlertEngineOptions> & { specs: AlertTargetSpec[] },
) {
  const { specs, ...rest } = o;
  const engine = await AlertEngine.open({
    node: 'dir-a',
    targets: specs.map(resolveAlertTarget),
    spoolDir: join(dir, 'spool'),
    deadLetterPath: join(dir, 'dl.jsonl'),
    ...rest,
  });
  t.teardown(() => engine.close());
  return engine;
}

async function deadLetters(dir: string) {
  const text = await readFile(join(dir, 'dl.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

const http500: SendResult = { kind: 'response', status: 500, retryAfter: null };
const http200: SendResult = { kind: 'response', status: 200, retryAfter: null };

test('retries wait full-jitter delays drawn from the injected random source, then dead-letter', async (t) => {
  const dir = await tempDir(t);
  const s = scriptedSender(() => http500);
  const clock = manualTimers();
  const engine = await open(t, dir, {
    specs: [spec('a', { baseDelayMs: 100, maxDelayMs: 1000, maxAttempts: 6 })],
    send: s.send,
    timers: clock.timers,
    random: () => 0.5,
  });
  engine.enqueue(ev(1));
  for (let attempt = 1; attempt <= 5; attempt++) {
    await until(`retry timer ${attempt}`, () => clock.pending() === 1, { ...POLL, limitMs: 5000 });
    t.is(s.requests.length, attempt);
    clock.fireAll();
  }
  await until('the event dead-lettered', () => engine.stats().targets[0].deliveries.failed === 1, POLL);
  t.deepEqual(clock.delays, [50, 100, 200, 400, 500], 'half of min(1000, 100 * 2^(n-1))');
  t.is(s.requests.length, 6);
  await engine.close();
  t.like((await deadLetters(dir))[0], { reason: 'max-attempts', attempts: 6, lastError: 'HTTP 500' });
});

test('an event older than maxAgeMs is not retried again', async (t) => {
  const dir = await tempDir(t);
  let now = 1_000_000;
  const s = scriptedSender(() => ({ kind: 'error', error: 'network', code: 'ECONNREFUSED' }));
  const clock = manualTimers();
  const engine = await open(t, dir, {
    specs: [spec('a', { baseDelayMs: 1000, maxDelayMs: 1000, maxAgeMs: 60_000 })],
    send: s.send,
    timers: clock.timers,
    now: () => now,
    random: () => 0.999,
  });
  engine.enqueue(ev(1));
  await until('a retry timer', () => clock.pending() === 1, POLL);
  now += 59_500; // the next retry would be due after the age limit
  clock.fireAll();
  await until('the event dead-lettered', () => engine.stats().targets[0].deliveries.failed === 1, POLL);
  await engine.close();
  t.like((await deadLetters(dir))[0], { reason: 'max-age', attempts: 2, lastError: 'network ECONNREFUSED' });
});

test('over the queue bound the oldest delivery not on the wire is dropped and counted', async (t) => {
  const dir = await tempDir(t);
  const s = scriptedSender(() => 'hold');
  const engine = await open(t, dir, { specs: [spec('a')], send: s.send, maxQueuedItems: 3 });
  const sent = [1, 2, 3, 4, 5].map(ev);
  engine.enqueue(sent[0]);
  await until('the first request', () => s.requests.length === 1, POLL);
  for (const e of sent.slice(1)) engine.enqueue(e);
  const st = engine.stats();
  t.deepEqual(st.targets[0].deliveries, { success: 0, retry: 0, failed: 0, dropped: 2 });
  t.is(st.targets[0].queued, 2);
  t.is(st.spool.items, 3);
  await engine.close();
  const dl = await deadLetters(dir);
  t.deepEqual(
    dl.map((r) => [r.reason, r.event.id]),
    [
      ['queue-full', sent[1].id],
      ['queue-full', sent[2].id],
    ],
  );
  t.is((await readdir(join(dir, 'spool'))).length, 3, 'the head on the wire and the two newest stay queued');
});

test('concurrency bounds the deliveries active at once per target', async (t) => {
  const dir = await tempDir(t);
  const s = scriptedSender((_r, n) => (n < 4 ? 'hold' : http200));
  const engine = await open(t, dir, { specs: [spec('a', { concurrency: 3 }), spec('b')], send: s.send });
  for (let i = 0; i < 5; i++) engine.enqueue(ev(i));
  await until('four requests', () => s.requests.length === 4, POLL);
  await sleep(20);
  const byTarget = Object.fromEntries(engine.stats().targets.map((x) => [x.target, [x.active, x.queued]]));
  t.deepEqual(byTarget, { a: [3, 2], b: [1, 4] });
  for (const release of s.held.splice(0)) release(http200);
  await until('ten requests', () => s.requests.length === 10, POLL);
});

test('a reload that removes a target dead-letters its queue; kept targets keep theirs', async (t) => {
  const dir = await tempDir(t);
  const s = scriptedSender((_r, n) => (n < 2 ? 'hold' : http200));
  const engine = await open(t, dir, { specs: [spec('a'), spec('b')], send: s.send });
  for (let i = 0; i < 3; i++) engine.enqueue(ev(i));
  await until('two requests', () => s.requests.length === 2, POLL);
  engine.setTargets([resolveAlertTarget(spec('a'))]);
  const st = engine.stats();
  t.deepEqual(
    st.targets.map((x) => x.target),
    ['a'],
  );
  t.is(st.targets[0].queued, 2);
  for (const release of s.held.splice(0)) release(http200);
  await until('three deliveries succeeded', () => engine.stats().targets[0].deliveries.success === 3, POLL);
  await engine.close();
  const dl = await deadLetters(dir);
  t.deepEqual(
    dl.map((r) => [r.target, r.reason]),
    [
      ['b', 'target-removed'],
      ['b', 'target-removed'],
    ],
  );
  t.throws(() => engine.setTargets([resolveAlertTarget(spec('a')), resolveAlertTarget(spec('a'))]));
});

test('sendTest sends one test event now, outside the queue, and reports the answer', async (t) => {
  const dir = await tempDir(t);
  const s = scriptedSender((_r, n) =>
    n === 0 ? { kind: 'response', status: 404, retryAfter: null } : http200,
  );
  const engine = await open(t, dir, { specs: [spec('a', {}, ['became_*'])], send: s.send });
  const bad = await engine.sendTest('a');
  t.like(bad, { target: 'a', ok: false, status: 404 });
  const good = await engine.sendTest('a');
  t.like(good, { target: 'a', ok: true, status: 200 });
  t.regex(s.requests[1].body, /Test alert from dir-a/);
  t.deepEqual(engine.stats().targets[0].deliveries, { success: 1, retry: 0, failed: 1, dropped: 0 });
  t.is(engine.stats().spool.items, 0);
  const e = await t.throwsAsync(engine.sendTest('nope'));
  t.true(isDsrError(e, 'E_ALERT_TARGET_UNKNOWN'));
});

test('on open, corrupt spool files and deliveries for unknown targets go to the dead-letter log', async (t) => {
  const dir = await tempDir(t);
  const spoolDir = join(dir, 'spool');
  const first = await open(t, dir, { specs: [spec('a')], send: scriptedSender(() => 'hold').send });
  await first.close();
  const old = ev(1);
  const keep = ev(2);
  await writeFile(join(spoolDir, '0000000000000005.json'), 'garbage{');
  await writeFile(
    join(spoolDir, '0000000000000006.json'),
    encodeSpoolRecord({ seq: 6, target: 'gone', enqueuedAt: 1, event: old }),
  );
  await writeFile(
    join(spoolDir, '0000000000000007.json'),
    encodeSpoolRecord({ seq: 7, target: 'a', enqueuedAt: Date.now(), event: keep }),
  );
  await writeFile(join(spoolDir, '0000000000000008.json.tmp'), 'half a write');
  const s = scriptedSender(() => http200);
  const engine = await open(t, dir, { specs: [spec('a')], send: s.send });
  await until('one delivery succeeded', () => engine.stats().targets[0].deliveries.success === 1, POLL);
  t.is(engine.stats().spool.corrupt, 1);
  t.true(s.requests[0].body.includes('svc2'));
  engine.enqueue(ev(3));
  await until('two requests', () => s.requests.length === 2, POLL);
  await engine.close();
  t.deepEqual(await readdir(spoolDir), []);
  const dl = await deadLetters(dir);
  t.deepEqual(
    dl.map((r) => [r.reason, r.target]),
    [
      ['corrupt', ''],
      ['target-removed', 'gone'],
    ],
  );
  t.is(dl[0].file, '0000000000000005.json');
});

test('enqueue after close counts a drop and does not throw', async (t) => {
  const dir = await tempDir(t);
  const engine = await open(t, dir, { specs: [spec('a')], send: scriptedSender(() => http200).send });
  await engine.close();
  t.notThrows(() => engine.enqueue(ev(1)));
  t.is(engine.stats().targets[0].deliveries.dropped, 1);
});

test('the byte bound also drops the oldest deliveries', async (t) => {
  const dir = await tempDir(t);
  const s = scriptedSender(() => 'hold');
  const engine = await open(t, dir, { specs: [spec('a')], send: s.send, maxQueuedBytes: 1500 });
  for (let i = 0; i < 10; i++) engine.enqueue(ev(i));
  const st = engine.stats();
  t.true(st.spool.bytes <= 1500);
  t.true(st.targets[0].deliveries.dropped > 0);
  t.is(st.spool.items + st.targets[0].deliveries.dropped, 10);
});
