/**
 * The delivery engine against a real HTTP receiver (node:http on 127.0.0.1):
 * signatures recomputed on the receiver side, per-target order, retries after
 * 500s, Retry-After, timeouts against a receiver that hangs, dead-lettering,
 * restart with a queued event, Slack and Alertmanager payloads, and enqueue
 * never waiting on a hung receiver. Short timeouts and backoffs come from
 * injected policy; nothing asserts speed.
 */
import { createHmac } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import test, { type ExecutionContext } from 'ava';
import { AlertEngine, type AlertEngineOptions } from '../../alerts/engine.ts';
import { type AlertEvent, createAlertEventFactory } from '../../alerts/events.ts';
import { WebhookSecret } from '../../alerts/standard-webhooks.ts';
import { type AlertTargetSpec, resolveAlertTarget } from '../../alerts/targets.ts';
import { sleep, until } from '../../lab/wait.ts';
import { captureLogger, recordingTimers, tempDir } from './helpers.ts';
import { freePort, Receiver } from './receiver.ts';

/** The engine's work lands within a turn or two of the event loop: poll often. */
const POLL = { everyMs: 2 };

// A generous request timeout: on a loaded CI machine a local 500 can take longer than 300 ms, and
// a timeout where a status was expected is a different outcome. Tests of timeouts set their own.
const fastPolicy = { timeoutMs: 5000, baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 5 };
const events = createAlertEventFactory({ node: 'dir-a' });

function rsDown(n: number): AlertEvent {
  return events.make('real_server_down', {
    service: 'web',
    realServer: `198.18.1.${n}`,
    reason: 'tcp connect refused',
  });
}

async function startReceiver(t: ExecutionContext, port = 0): Promise<Receiver> {
  const r = await new Receiver().start(port);
  t.teardown(() => r.close());
  return r;
}

async function openEngine(
  t: ExecutionContext,
  dir: string,
  specs: AlertTargetSpec[],
  extra: Partial<AlertEngineOptions> = {},
): Promise<AlertEngine> {
  const engine = await AlertEngine.open({
    node: 'dir-a',
    targets: specs.map(resolveAlertTarget),
    spoolDir: join(dir, 'spool'),
    deadLetterPath: join(dir, 'dead-letter.jsonl'),
    ...extra,
  });
  t.teardown(() => engine.close());
  return engine;
}

function webhookSpec(url: string, secret: string, policy = {}): AlertTargetSpec {
  return {
    name: 'hook',
    kind: 'generic',
    url,
    events: ['*'],
    secrets: [secret],
    policy: { ...fastPolicy, ...policy },
  };
}

function ids(received: { body: string }[]): string[] {
  return received.map((r) => (JSON.parse(r.body) as { data: AlertEvent }).data.id);
}

async function deadLetters(dir: string): Promise<Array<Record<string, unknown>>> {
  const text = await readFile(join(dir, 'dead-letter.jsonl'), 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

test('Standard Webhooks signature verifies when recomputed on the receiver', async (t) => {
  const dir = await tempDir(t);
  const rx = await startReceiver(t);
  const secret = WebhookSecret.generate();
  const engine = await openEngine(t, dir, [webhookSpec(rx.url, secret)]);
  const sent = [
    rsDown(1),
    events.make('became_master', { group: 'g1', previous: 'backup', reason: 'peer silent' }),
  ];
  for (const e of sent) engine.enqueue(e);
  const got = await rx.waitFor(2);
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  for (const [i, r] of got.entries()) {
    const id = r.headers['webhook-id'] as string;
    const ts = r.headers['webhook-timestamp'] as string;
    const expected = createHmac('sha256', key).update(`${id}.${ts}.${r.body}`).digest('base64');
    t.is(r.headers['webhook-signature'], `v1,${expected}`);
    t.is(id, sent[i].id);
    t.true(Math.abs(Number(ts) - Date.now() / 1000) < 300, 'timestamp is the send time');
    t.is(r.headers['content-type'], 'application/json');
    const body = JSON.parse(r.body);
    t.is(body.type, sent[i].type);
    t.is(body.timestamp, new Date(sent[i].time).toISOString());
    t.deepEqual(body.data, sent[i]);
  }
});

test('per-target order holds while the head is retried after 500s', async (t) => {
  const dir = await tempDir(t);
  const rx = await startReceiver(t);
  rx.answer = (_r, n) => (n < 2 ? { status: 500 } : { status: 200 });
  const engine = await openEngine(t, dir, [webhookSpec(rx.url, WebhookSecret.generate())]);
  const sent = [rsDown(1), rsDown(2), rsDown(3)];
  for (const e of sent) engine.enqueue(e);
  const got = await rx.waitFor(5);
  t.deepEqual(ids(got), [sent[0].id, sent[0].id, sent[0].id, sent[1].id, sent[2].id]);
  await until('three deliveries succeeded', () => engine.stats().targets[0].deliveries.success === 3, POLL);
  t.deepEqual(engine.stats().targets[0].deliveries, { success: 3, retry: 2, failed: 0, dropped: 0 });
});

test('Retry-After in seconds is honoured instead of the jittered backoff', async (t) => {
  const dir = await tempDir(t);
  const rx = await startReceiver(t);
  rx.answer = (_r, n) => (n === 0 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 200 });
  const rec = recordingTimers();
  const engine = await openEngine(t, dir, [webhookSpec(rx.url, WebhookSecret.generate())], {
    timers: rec.timers,
  });
  engine.enqueue(rsDown(1));
  const got = await rx.waitFor(2);
  t.deepEqual(rec.delays, [1000], 'one retry, scheduled for exactly the 1 s asked');
  t.true(got[1].at - got[0].at >= 900, 'the retry did not come before the receiver allowed it');
  t.is(got[0].headers['webhook-id'], got[1].headers['webhook-id'], 'a retry keeps the message id');
});

test('a receiver that accepts and never answers times out and the delivery is retried', async (t) => {
  const dir = await tempDir(t);
  const rx = await startReceiver(t);
  rx.answer = (_r, n) => (n === 0 ? 'hang' : { status: 200 });
  const log = captureLogger();
  const engine = await openEngine(
    t,
    dir,
    // 1 s: long enough that the answered retry never times out on a loaded machine too.
    [webhookSpec(rx.url, WebhookSecret.generate(), { timeoutMs: 1000 })],
    {
      logger: log.logger,
    },
  );
  engine.enqueue(rsDown(1));
  await rx.waitFor(2);
  await until('one delivery succeeded', () => engine.stats().targets[0].deliveries.success === 1, POLL);
  t.deepEqual(engine.stats().targets[0].deliveries, { success: 1, retry: 1, failed: 0, dropped: 0 });
  t.true(log.lines.some((l) => (l.obj as { error?: string }).error === 'timeout'));
});

test('enqueue returns at once and queues behind a hung receiver', async (t) => {
  const dir = await tempDir(t);
  const rx = await startReceiver(t);
  rx.answer = () => 'hang';
  const engine = await openEngine(t, dir, [
    webhookSpec(rx.url, WebhookSecret.generate(), { timeoutMs: 60_000 }),
  ]);
  engine.enqueue(rsDown(0));
  await rx.waitFor(1);
  // The receiver now holds the only slot of this target and will not answer.
  for (let i = 1; i <= 50; i++) t.is(engine.enqueue(rsDown(i)), undefined);
  const s = engine.stats().targets[0];
  t.is(s.active, 1);
  t.is(s.queued, 50);
  t.is(rx.received.length, 1, 'nothing else was sent while the head hangs');
});

test('after max attempts the event goes to the dead-letter log, without secrets', async (t) => {
  const dir = await tempDir(t);
  const rx = await startReceiver(t);
  rx.answer = () => ({ status: 500 });
  const secret = WebhookSecret.generate();
  const log = captureLogger();
  const engine = await openEngine(
    t,
    dir,
    [
      webhookSpec(rx.url, secret, { maxAttempts: 3 }),
      {
        name: 'chat',
        kind: 'slack',
        url: `http://127.0.0.1:${rx.port}/services/T0/B0/SLACKTOKEN123`,
        events: ['real_server_*'],
        policy: { ...fastPolicy, maxAttempts: 2 },
      },
    ],
    { logger: log.logger },
  );
  const e = rsDown(1);
  engine.enqueue(e);
  await rx.waitFor(5);
  await until('both dead-lettered', () => engine.stats().targets.every((s) => s.deliveries.failed === 1), {
    ...POLL,
    limitMs: 10_000,
  });
  await engine.close();
  const dl = await deadLetters(dir);
  t.deepEqual(dl.map((r) => [r.target, r.reason, r.attempts, r.lastStatus]).sort(), [
    ['chat', 'max-attempts', 2, 500],
    ['hook', 'max-attempts', 3, 500],
  ]);
  t.deepEqual(dl[0].event, e);
  const stats = Object.fromEntries(engine.stats().targets.map((s) => [s.target, s.deliveries]));
  t.deepEqual(stats.hook, { success: 0, retry: 2, failed: 1, dropped: 0 });
  t.deepEqual(stats.chat, { success: 0, retry: 1, failed: 1, dropped: 0 });
  t.is(rx.received.length, 5);
  const everything = `${log.text()}\n${await readFile(join(dir, 'dead-letter.jsonl'), 'utf8')}`;
  t.false(everything.includes('SLACKTOKEN123'), 'the Slack URL secret is not logged');
  t.false(everything.includes(secret.slice(6)), 'the signing secret is not logged');
  t.false(everything.includes('/hook'), 'URLs are not logged');
});

test('a 4xx is permanent: dead-lettered after one attempt', async (t) => {
  const dir = await tempDir(t);
  const rx = await startReceiver(t);
  rx.answer = () => ({ status: 400 });
  const engine = await openEngine(t, dir, [webhookSpec(rx.url, WebhookSecret.generate())]);
  engine.enqueue(rsDown(1));
  await rx.waitFor(1);
  await until('the event dead-lettered', () => engine.stats().targets[0].deliveries.failed === 1, POLL);
  await engine.close();
  const dl = await deadLetters(dir);
  t.is(dl.length, 1);
  t.is(dl[0].reason, 'rejected');
  t.is(dl[0].lastStatus, 400);
  t.is(rx.received.length, 1);
});

test('an event queued while the receiver is down survives a restart and is delivered exactly once', async (t) => {
  const dir = await tempDir(t);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/hook`;
  const spec = webhookSpec(url, WebhookSecret.generate(), {
    baseDelayMs: 50,
    maxDelayMs: 100,
    maxAttempts: 1000,
  });
  const first = await openEngine(t, dir, [spec]);
  const e = rsDown(7);
  first.enqueue(e);
  await until('a refused attempt', () => first.stats().targets[0].deliveries.retry >= 1, {
    ...POLL,
    limitMs: 10_000,
  });
  await first.close();
  t.is((await readdir(join(dir, 'spool'))).length, 1, 'the event is in the spool');

  const rx = await startReceiver(t, port);
  const second = await openEngine(t, dir, [spec]);
  await rx.waitFor(1);
  await until(
    'the second engine delivered it',
    () => second.stats().targets[0].deliveries.success === 1,
    POLL,
  );
  await second.close();
  t.deepEqual(await readdir(join(dir, 'spool')), [], 'the spool is empty once delivered');

  const third = await openEngine(t, dir, [spec]);
  await sleep(100);
  await third.close();
  t.deepEqual(ids(rx.received), [e.id], 'delivered once, by the second engine only');
});

test('Slack target gets text + blocks', async (t) => {
  const dir = await tempDir(t);
  const rx = await startReceiver(t);
  const engine = await openEngine(t, dir, [
    { name: 'chat', kind: 'slack', url: `${rx.url}/slack`, events: ['split_brain_*'], policy: fastPolicy },
  ]);
  engine.enqueue(rsDown(1)); // not selected by this target
  engine.enqueue(events.make('split_brain_detected', { group: 'g<1>', masters: ['dir-a', 'dir-b'] }));
  const [r] = await rx.waitFor(1);
  const body = JSON.parse(r.body);
  t.is(typeof body.text, 'string');
  t.true(body.text.includes('Split brain'));
  t.deepEqual(
    body.blocks.map((b: { type: string }) => b.type),
    ['header', 'section', 'context'],
  );
  t.is(body.blocks[0].text.type, 'plain_text');
  t.true(body.blocks[1].fields.some((f: { text: string }) => f.text === '*Group*\ng&lt;1&gt;'));
  t.is(r.headers['webhook-signature'], undefined);
  await new Promise((res) => setTimeout(res, 50));
  t.is(rx.received.length, 1, 'the unselected event was not sent');
});

test('Alertmanager target gets a /api/v2/alerts array that fires and resolves', async (t) => {
  const dir = await tempDir(t);
  const rx = await startReceiver(t);
  const engine = await openEngine(t, dir, [
    {
      name: 'am',
      kind: 'alertmanager',
      url: `http://127.0.0.1:${rx.port}/api/v2/alerts`,
      events: ['peer_*'],
      headers: { Authorization: 'Bearer abc' },
      policy: fastPolicy,
    },
  ]);
  const lost = events.make('peer_lost', { peer: 'dir-b', lastHeardSecondsAgo: 3.2 });
  const back = events.make('peer_recovered', { peer: 'dir-b', downSeconds: 40 });
  engine.enqueue(lost);
  engine.enqueue(back);
  const [a, b] = await rx.waitFor(2);
  t.is(a.path, '/api/v2/alerts');
  t.is(a.headers.authorization, 'Bearer abc');
  const [fired] = JSON.parse(a.body);
  const [resolved] = JSON.parse(b.body);
  t.deepEqual(fired.labels, { alertname: 'DsrPeerLost', severity: 'warning', node: 'dir-a', peer: 'dir-b' });
  t.deepEqual(resolved.labels, fired.labels, 'same label set, so Alertmanager resolves the same alert');
  t.true(Date.parse(fired.endsAt) > Date.parse(fired.startsAt));
  t.is(resolved.endsAt, new Date(back.time).toISOString());
  t.is(fired.annotations.event_id, lost.id);
});
