import test from 'ava';
import { createAlertEventFactory } from '../../alerts/events.ts';
import { formatRequest } from '../../alerts/format.ts';
import { alertmanagerAlerts } from '../../alerts/format-alertmanager.ts';
import { escapeMrkdwn, slackMessage } from '../../alerts/format-slack.ts';
import { verifyWebhook, WebhookSecret } from '../../alerts/standard-webhooks.ts';
import { DEFAULT_ALERTMANAGER_TIMES, resolveAlertTarget } from '../../alerts/targets.ts';

const T0 = Date.parse('2026-03-01T12:00:00Z');
const f = createAlertEventFactory({ node: 'dir-a', now: () => T0, newId: () => 'evt_1' });
const times = { firingTtlMs: 3600_000, oneShotTtlMs: 600_000 };

test('generic webhook: Standard Webhooks payload, signed with the send time', (t) => {
  const secret = WebhookSecret.generate();
  const target = resolveAlertTarget({
    name: 'h',
    kind: 'generic',
    url: 'https://x.example/h',
    events: ['*'],
    secrets: [secret],
    headers: { 'X-Env': 'prod' },
  });
  const e = f.make('failover_completed', { group: 'g1', durationSeconds: 0.31, syncLagSeconds: 0.002 });
  const sendAt = T0 + 3_600_000;
  const r = formatRequest(target, e, sendAt);
  t.deepEqual(JSON.parse(r.body), {
    type: 'failover_completed',
    timestamp: '2026-03-01T12:00:00.000Z',
    data: e,
  });
  t.is(r.headers['webhook-timestamp'], String(sendAt / 1000));
  t.is(r.headers['x-env'] ?? r.headers['X-Env'], 'prod');
  t.true(verifyWebhook([WebhookSecret.parse(secret)], r.headers, r.body, sendAt / 1000).ok);
});

test('generic without a secret sends the id and timestamp headers but no signature', (t) => {
  const target = resolveAlertTarget({ name: 'h', kind: 'generic', url: 'http://x.example/h', events: ['*'] });
  const r = formatRequest(target, f.make('peer_lost', { peer: 'p' }), T0);
  t.is(r.headers['webhook-id'], 'evt_1');
  t.is(r.headers['webhook-timestamp'], String(T0 / 1000));
  t.false('webhook-signature' in r.headers);
});

test('a raw-bytes key signs like its whsec_ form', (t) => {
  const key = Buffer.alloc(32, 7);
  const a = resolveAlertTarget({
    name: 'a',
    kind: 'generic',
    url: 'http://x/',
    events: ['*'],
    secrets: [key],
  });
  const b = resolveAlertTarget({
    name: 'b',
    kind: 'generic',
    url: 'http://x/',
    events: ['*'],
    secrets: [`whsec_${key.toString('base64')}`],
  });
  const e = f.make('peer_lost', { peer: 'p' });
  t.is(
    formatRequest(a, e, T0).headers['webhook-signature'],
    formatRequest(b, e, T0).headers['webhook-signature'],
  );
});

test('Slack: header, escaped mrkdwn section with fields, context; limits respected', (t) => {
  const e = f.make('real_server_down', {
    service: 'web<&>',
    realServer: '198.18.1.5',
    reason: 'x'.repeat(5000),
  });
  const m = slackMessage(e);
  t.true(m.text.startsWith(':large_orange_circle: Real server 198.18.1.5 of web<&> is DOWN'));
  const [header, section, context] = m.blocks;
  t.is(header.type, 'header');
  if (header.type !== 'header' || section.type !== 'section' || context.type !== 'context') return t.fail();
  t.true(header.text.text.length <= 150);
  t.true(section.text.text.length <= 3000);
  t.deepEqual(
    section.fields?.map((x) => x.text),
    ['*Node*\ndir-a', '*Severity*\nwarning', '*Service*\nweb&lt;&amp;&gt;', '*Real server*\n198.18.1.5'],
  );
  t.is(context.elements[0].text, 'real_server_down · evt_1 · 2026-03-01T12:00:00.000Z');
  t.is(escapeMrkdwn('a<b>&c'), 'a&lt;b&gt;&amp;c');
});

test('Alertmanager: firing, resolving and one-shot alerts', (t) => {
  const fired = alertmanagerAlerts(
    f.make('split_brain_detected', { group: 'g1', masters: ['a', 'b'] }),
    times,
  );
  const ended = alertmanagerAlerts(f.make('split_brain_resolved', { group: 'g1', master: 'a' }), times);
  t.is(fired.length, 1);
  t.deepEqual(fired[0].labels, {
    alertname: 'DsrSplitBrain',
    severity: 'critical',
    node: 'dir-a',
    group: 'g1',
  });
  t.deepEqual(ended[0].labels, fired[0].labels);
  t.is(fired[0].startsAt, '2026-03-01T12:00:00.000Z');
  t.is(fired[0].endsAt, '2026-03-01T13:00:00.000Z');
  t.is(ended[0].endsAt, '2026-03-01T12:00:00.000Z');
  t.like(fired[0].annotations, { event_id: 'evt_1', event_type: 'split_brain_detected' });

  const drill = alertmanagerAlerts(
    f.make('drill_result', { group: 'g1', passed: false, detail: 'd' }),
    times,
  );
  t.like(drill[0].labels, { alertname: 'DsrDrillResult', severity: 'warning', result: 'failed' });
  t.is(drill[0].endsAt, '2026-03-01T12:10:00.000Z');
});

test('Alertmanager: leaving fault resolves the fault alert and reports the new role', (t) => {
  const fault = alertmanagerAlerts(
    f.make('became_fault', { group: 'g1', previous: 'master', reason: 'link down' }),
    times,
  );
  const back = alertmanagerAlerts(
    f.make('became_backup', { group: 'g1', previous: 'fault', reason: 'link up' }),
    times,
  );
  t.deepEqual(
    back.map((a) => a.labels.alertname),
    ['DsrDirectorFault', 'DsrRoleChanged'],
  );
  t.deepEqual(back[0].labels, fault[0].labels);
  t.is(back[0].endsAt, back[0].startsAt);
  const plain = alertmanagerAlerts(
    f.make('became_master', { group: 'g1', previous: 'backup', reason: 'r' }),
    times,
  );
  t.deepEqual(
    plain.map((a) => a.labels.alertname),
    ['DsrRoleChanged'],
  );
  t.is(plain[0].labels.role, 'master');
});

test('every label name is valid for Prometheus and every value is a string', (t) => {
  const samples = [
    f.make('peer_lost', { peer: 'p' }),
    f.make('sync_lag_high', { lagSeconds: 3, thresholdSeconds: 1 }),
    f.make('heartbeat', { groups: ['g1', 'g2'] }),
    f.make('drain_complete', {
      service: 's',
      realServer: 'r',
      outcome: 'timed_out',
      durationSeconds: 1,
      remainingFlows: 3,
      closingFlows: 0,
    }),
  ];
  for (const e of samples) {
    for (const a of alertmanagerAlerts(e, DEFAULT_ALERTMANAGER_TIMES)) {
      for (const [k, v] of Object.entries(a.labels)) {
        t.regex(k, /^[a-zA-Z_][a-zA-Z0-9_]*$/);
        t.is(typeof v, 'string');
      }
      t.true(Date.parse(a.endsAt) >= Date.parse(a.startsAt));
    }
  }
});

test('target validation names the field and never echoes the URL', (t) => {
  const base = {
    name: 'chat',
    kind: 'slack' as const,
    url: 'https://hooks.slack.test/services/T/B/SECRET',
    events: ['*'],
  };
  const cases: Array<[object, RegExp]> = [
    [{ name: 'bad name!' }, /name/],
    [{ kind: 'email' }, /kind/],
    [{ url: 'not a url SECRET' }, /url: is not a valid absolute URL/],
    [{ url: 'ftp://x/SECRET' }, /must be http or https/],
    [{ url: 'https://user:SECRET@x/' }, /must not hold credentials/],
    [{ events: [] }, /events/],
    [{ events: ['became_mastr'] }, /unknown event type/],
    [{ secrets: [WebhookSecret.generate()] }, /only generic targets are signed/],
    [{ secrets: ['whsec_SECRET'] }, /secrets\[0\]/],
    [{ headers: { 'webhook-signature': 'x' } }, /set by dsrd itself/],
    [{ headers: { 'X-A': 'a\r\nb' } }, /one line/],
    [{ policy: { maxAttempts: 0 } }, /policy.maxAttempts/],
  ];
  for (const [patch, re] of cases) {
    const e = t.throws(() => resolveAlertTarget({ ...base, ...patch } as never));
    t.regex(e.message, re);
    t.false(e.message.includes('SECRET'), e.message);
  }
  t.is(resolveAlertTarget(base).policy.concurrency, 1);
});
