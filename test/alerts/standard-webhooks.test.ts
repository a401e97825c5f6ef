import { inspect } from 'node:util';
import test from 'ava';
import { signWebhook, verifyWebhook, WebhookSecret } from '../../alerts/standard-webhooks.ts';
import { isDsrError } from '../../core/errors.ts';

// The reference vector of the Standard Webhooks JavaScript library ("sign function works").
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

test('signs the Standard Webhooks reference vector', (t) => {
  const h = signWebhook([WebhookSecret.parse(VECTOR.secret)], VECTOR.id, VECTOR.timestamp, VECTOR.body);
  t.deepEqual(h, {
    'webhook-id': VECTOR.id,
    'webhook-timestamp': String(VECTOR.timestamp),
    'webhook-signature': VECTOR.signature,
  });
});

test('verifies the reference vector and rejects tampering, staleness and missing headers', (t) => {
  const s = [WebhookSecret.parse(VECTOR.secret)];
  const headers = {
    'webhook-id': VECTOR.id,
    'webhook-timestamp': String(VECTOR.timestamp),
    'webhook-signature': VECTOR.signature,
  };
  t.deepEqual(verifyWebhook(s, headers, VECTOR.body, VECTOR.timestamp + 10), { ok: true });
  t.false(verifyWebhook(s, headers, `${VECTOR.body} `, VECTOR.timestamp).ok);
  t.false(verifyWebhook(s, { ...headers, 'webhook-id': 'msg_other' }, VECTOR.body, VECTOR.timestamp).ok);
  t.deepEqual(verifyWebhook(s, headers, VECTOR.body, VECTOR.timestamp + 301), {
    ok: false,
    reason: 'timestamp outside tolerance',
  });
  t.false(verifyWebhook(s, { ...headers, 'webhook-signature': 'v1,' }, VECTOR.body, VECTOR.timestamp).ok);
  t.false(verifyWebhook(s, { ...headers, 'webhook-timestamp': 'soon' }, VECTOR.body, VECTOR.timestamp).ok);
  t.false(verifyWebhook(s, { 'webhook-id': VECTOR.id }, VECTOR.body, VECTOR.timestamp).ok);
});

test('rotation: signs with every active secret; either one verifies', (t) => {
  const oldS = WebhookSecret.parse(WebhookSecret.generate());
  const newS = WebhookSecret.parse(WebhookSecret.generate());
  const h = signWebhook([oldS, newS], 'evt_1', 1700000000, '{}');
  t.is(h['webhook-signature']?.split(' ').length, 2);
  t.true(verifyWebhook([newS], h, '{}', 1700000000).ok);
  t.true(verifyWebhook([oldS], h, '{}', 1700000000).ok);
  t.false(verifyWebhook([WebhookSecret.parse(WebhookSecret.generate())], h, '{}', 1700000000).ok);
});

test('secret parsing wants whsec_ + base64 of 24..64 bytes and never echoes the secret', (t) => {
  const bad = [
    'MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    'whsec_not base64!',
    `whsec_${Buffer.alloc(8).toString('base64')}`,
  ];
  for (const b of bad) {
    const e = t.throws(() => WebhookSecret.parse(b));
    t.true(isDsrError(e, 'E_ALERT_TARGET_INVALID'));
    t.false(e.message.includes(b.slice(6, 20)));
  }
  const s = WebhookSecret.parse(WebhookSecret.generate());
  t.is(String(s), '[redacted]');
  t.is(JSON.stringify({ s }), '{"s":"[redacted]"}');
  t.is(inspect(s), 'WebhookSecret([redacted])');
});
