/**
 * Standard Webhooks signing (https://www.standardwebhooks.com/, spec "Signature scheme"):
 *
 *   webhook-id:        the message id (stable across retries, for receiver de-duplication)
 *   webhook-timestamp: integer seconds since the epoch, at send time
 *   webhook-signature: space-separated list of "v1,<base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`))>"
 *
 * Secrets are written `whsec_<base64 key>`; the spec recommends keys of 24 to
 * 64 bytes. Several secrets may be active at once during rotation; the sender
 * then signs with each and the receiver accepts any one match.
 *
 * Keys live only inside `WebhookSecret`, which prints as `[redacted]` in
 * logs, JSON and util.inspect, so a secret cannot leak by being logged.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';
import { DsrError } from '../core/errors.ts';

const PREFIX = 'whsec_';
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
export const MIN_SECRET_BYTES = 24;
export const MAX_SECRET_BYTES = 64;
/** Receivers should reject timestamps further than this from their clock (spec default 5 min). */
export const DEFAULT_TOLERANCE_SECONDS = 300;

export class WebhookSecret {
  readonly #key: Buffer;

  private constructor(key: Buffer) {
    this.#key = key;
  }

  /** Parses `whsec_<base64>`; the error never echoes the secret. */
  static parse(text: string): WebhookSecret {
    const trimmed = text.trim();
    if (!trimmed.startsWith(PREFIX)) {
      throw new DsrError('E_ALERT_TARGET_INVALID', `a webhook secret must start with "${PREFIX}"`);
    }
    const b64 = trimmed.slice(PREFIX.length);
    if (!BASE64.test(b64)) {
      throw new DsrError('E_ALERT_TARGET_INVALID', `a webhook secret must be "${PREFIX}" followed by base64`);
    }
    return WebhookSecret.fromKey(Buffer.from(b64, 'base64'));
  }

  /** Wraps raw key bytes (a config secret file that holds bytes rather than `whsec_` text). */
  static fromKey(key: Uint8Array): WebhookSecret {
    if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) {
      throw new DsrError(
        'E_ALERT_TARGET_INVALID',
        `a webhook key must be ${MIN_SECRET_BYTES}..${MAX_SECRET_BYTES} bytes, this one has ${key.length}`,
        { bytes: key.length },
      );
    }
    return new WebhookSecret(Buffer.from(key));
  }

  /** A fresh random secret in `whsec_` form (for `dsrctl` to suggest one). */
  static generate(bytes = 32): string {
    return PREFIX + randomBytes(bytes).toString('base64');
  }

  /** base64(HMAC-SHA256(key, `${id}.${timestamp}.${body}`)). */
  sign(id: string, timestampSeconds: number, body: string): string {
    return createHmac('sha256', this.#key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }

  [inspect.custom](): string {
    return 'WebhookSecret([redacted])';
  }
}

export type SignedHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  /** Absent when the target has no secret (unsigned). */
  'webhook-signature'?: string;
};

/** The Standard Webhooks headers for one send attempt. */
export function signWebhook(
  secrets: readonly WebhookSecret[],
  id: string,
  timestampSeconds: number,
  body: string,
): SignedHeaders {
  const ts = Math.floor(timestampSeconds);
  const headers: SignedHeaders = { 'webhook-id': id, 'webhook-timestamp': String(ts) };
  if (secrets.length > 0) {
    headers['webhook-signature'] = secrets.map((s) => `v1,${s.sign(id, ts, body)}`).join(' ');
  }
  return headers;
}

export type VerifyResult = { ok: true } | { ok: false; reason: string };

/**
 * Receiver-side check: headers present, timestamp within tolerance, and one
 * `v1,` signature equal (in constant time) to one computed with a known secret.
 */
export function verifyWebhook(
  secrets: readonly WebhookSecret[],
  headers: Record<string, string | string[] | undefined>,
  body: string,
  nowSeconds: number,
  toleranceSeconds = DEFAULT_TOLERANCE_SECONDS,
): VerifyResult {
  const one = (k: string) => {
    const v = headers[k];
    return Array.isArray(v) ? v[0] : v;
  };
  const id = one('webhook-id');
  const tsText = one('webhook-timestamp');
  const sigText = one('webhook-signature');
  if (!id || !tsText || !sigText) return { ok: false, reason: 'missing header' };
  if (!/^\d+$/.test(tsText)) return { ok: false, reason: 'bad timestamp' };
  const ts = Number(tsText);
  if (Math.abs(nowSeconds - ts) > toleranceSeconds)
    return { ok: false, reason: 'timestamp outside tolerance' };
  const offered = sigText
    .split(' ')
    .filter((p) => p.startsWith('v1,'))
    .map((p) => Buffer.from(p.slice(3), 'base64'));
  for (const s of secrets) {
    const expected = Buffer.from(s.sign(id, ts, body), 'base64');
    for (const sig of offered) {
      if (sig.length === expected.length && timingSafeEqual(sig, expected)) return { ok: true };
    }
  }
  return { ok: false, reason: 'no matching signature' };
}
