import test from 'ava';
import { createAlertEventFactory } from '../../alerts/events.ts';
import { formatRequest } from '../../alerts/format.ts';
import { alertEngineOptionsFromConfig, type ConfiguredAlerts } from '../../alerts/from-config.ts';
import { verifyWebhook, WebhookSecret } from '../../alerts/standard-webhooks.ts';

const key = Buffer.alloc(32, 3);
const secretText = (text: string) => ({ text: () => text });

const alerts: ConfiguredAlerts = {
  queueDir: '/var/lib/dsr-director/alerts',
  queueMaxEvents: 500,
  targets: [
    {
      name: 'ops',
      kind: 'generic',
      url: secretText('https://ops.example/hook'),
      secret: { bytes: () => key },
      events: ['became_master', 'split_brain_detected'],
      timeoutMs: 2000,
      maxAttempts: 4,
      backoffInitialMs: 250,
      backoffMaxMs: 60_000,
    },
    {
      name: 'chat',
      kind: 'slack',
      url: secretText('https://hooks.slack.test/services/T/B/x'),
      secret: null,
      events: ['peer_lost'],
      timeoutMs: 5000,
      maxAttempts: 10,
      backoffInitialMs: 1000,
      backoffMaxMs: 300_000,
    },
  ],
};

test('config alerts become engine options: paths, bounds, policy, signing key', (t) => {
  const o = alertEngineOptionsFromConfig(alerts, 'dir-a');
  t.is(o.node, 'dir-a');
  t.is(o.spoolDir, '/var/lib/dsr-director/alerts/spool');
  t.is(o.deadLetterPath, '/var/lib/dsr-director/alerts/dead-letter.jsonl');
  t.is(o.maxQueuedItems, 500);
  const [ops, chat] = o.targets;
  t.like(ops.policy, {
    timeoutMs: 2000,
    maxAttempts: 4,
    baseDelayMs: 250,
    maxDelayMs: 60_000,
    concurrency: 1,
  });
  t.deepEqual(chat.selectors, ['peer_lost']);
  t.is(chat.secrets.length, 0);
  const e = createAlertEventFactory({ node: 'dir-a' }).make('became_master', {
    group: 'g1',
    previous: 'backup',
    reason: 'peer silent',
  });
  const r = formatRequest(ops, e, Date.now());
  const whsec = WebhookSecret.parse(`whsec_${key.toString('base64')}`);
  t.true(verifyWebhook([whsec], r.headers, r.body, Date.now() / 1000).ok);
});
