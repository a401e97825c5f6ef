/**
 * Alert targets: where events go, which events each one wants, and how hard to
 * try. `resolveAlertTarget` turns the config-level spec (secrets already read
 * from their files by the config part) into a validated target; every error is
 * a DsrError that names the target and the field but never echoes a URL or a
 * secret (a Slack webhook URL is itself a secret).
 */
import { DsrError } from '../core/errors.ts';
import { ALERT_EVENT_TYPES, type AlertEventType } from './events.ts';
import { WebhookSecret } from './standard-webhooks.ts';

export const ALERT_TARGET_KINDS = ['generic', 'slack', 'alertmanager'] as const;
export type AlertTargetKind = (typeof ALERT_TARGET_KINDS)[number];

export interface DeliveryPolicy {
  /** Per-request time limit (connect + response headers). */
  timeoutMs: number;
  /** Attempts in total, the first included, before the event goes to the dead-letter log. */
  maxAttempts: number;
  /** An event older than this (since enqueue) is not retried any more. */
  maxAgeMs: number;
  /** Backoff: the n-th retry waits random(0, min(maxDelayMs, baseDelayMs * 2^(n-1))) ("full jitter"). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Retry-After values above this are clamped, so one receiver cannot park a target for days. */
  maxRetryAfterMs: number;
  /**
   * Requests in flight (or waiting to retry) at once for this target. 1 (the
   * default) keeps strict FIFO order per target; above 1 events are started in
   * order but may arrive out of order.
   */
  concurrency: number;
}

/** The defaults, documented in one place. */
export const DEFAULT_DELIVERY_POLICY: Readonly<DeliveryPolicy> = Object.freeze({
  timeoutMs: 5_000,
  maxAttempts: 10,
  maxAgeMs: 24 * 3600_000,
  baseDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
  maxRetryAfterMs: 15 * 60_000,
  concurrency: 1,
});

/** Alertmanager alert lifetimes (see format-alertmanager.ts). */
export interface AlertmanagerTimes {
  /** endsAt of a firing alert that a later event resolves (peer lost, real server down, ...). */
  firingTtlMs: number;
  /** endsAt of a one-shot alert (failover completed, drill result, heartbeat, test). */
  oneShotTtlMs: number;
}

export const DEFAULT_ALERTMANAGER_TIMES: Readonly<AlertmanagerTimes> = Object.freeze({
  firingTtlMs: 24 * 3600_000,
  oneShotTtlMs: 10 * 60_000,
});

/** What config hands over for one target. */
export interface AlertTargetSpec {
  name: string;
  kind: AlertTargetKind;
  url: string;
  /** Event selectors: an exact type (`became_master`), a prefix (`peer_*`) or everything (`*`). */
  events: readonly string[];
  /**
   * `generic` only: Standard Webhooks signing secrets, as `whsec_<base64>` text
   * or raw key bytes; several while rotating. None = unsigned (the
   * `webhook-signature` header is left out; receivers cannot authenticate).
   */
  secrets?: readonly (string | Uint8Array)[];
  /** Extra request headers (e.g. Authorization for Alertmanager). Never logged. */
  headers?: Readonly<Record<string, string>>;
  policy?: Partial<DeliveryPolicy>;
  alertmanager?: Partial<AlertmanagerTimes>;
}

export interface AlertTarget {
  readonly name: string;
  readonly kind: AlertTargetKind;
  readonly url: string;
  readonly selectors: readonly string[];
  readonly secrets: readonly WebhookSecret[];
  readonly headers: Readonly<Record<string, string>>;
  readonly policy: Readonly<DeliveryPolicy>;
  readonly alertmanager: Readonly<AlertmanagerTimes>;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const RESERVED_HEADERS = new Set([
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'content-type',
  'content-length',
  'host',
  'transfer-encoding',
  'connection',
]);

function invalid(target: string, field: string, message: string): DsrError {
  return new DsrError('E_ALERT_TARGET_INVALID', `alert target "${target}": ${field}: ${message}`, {
    target,
    field,
  });
}

/** Checks one event selector; returns an error message or null. */
export function checkEventSelector(selector: string): string | null {
  if (selector === '*') return null;
  if (selector.endsWith('*')) {
    const prefix = selector.slice(0, -1);
    return ALERT_EVENT_TYPES.some((t) => t.startsWith(prefix))
      ? null
      : `no event type starts with "${prefix}"`;
  }
  return (ALERT_EVENT_TYPES as readonly string[]).includes(selector)
    ? null
    : `unknown event type "${selector}" (known: ${ALERT_EVENT_TYPES.join(', ')})`;
}

export function selectorsMatch(selectors: readonly string[], type: AlertEventType): boolean {
  for (const s of selectors) {
    if (s === '*' || s === type) return true;
    if (s.endsWith('*') && type.startsWith(s.slice(0, -1))) return true;
  }
  return false;
}

function positiveInt(target: string, field: string, v: number, min: number): number {
  if (!Number.isInteger(v) || v < min) throw invalid(target, field, `must be an integer >= ${min}`);
  return v;
}

export function resolveAlertTarget(spec: AlertTargetSpec): AlertTarget {
  const name = String(spec.name ?? '');
  if (!NAME.test(name)) {
    throw invalid(
      name,
      'name',
      'must be 1..64 of letters, digits, "_", "." or "-", starting with a letter or digit',
    );
  }
  if (!(ALERT_TARGET_KINDS as readonly string[]).includes(spec.kind)) {
    throw invalid(name, 'kind', `must be one of ${ALERT_TARGET_KINDS.join(', ')}`);
  }
  let url: URL;
  try {
    url = new URL(spec.url);
  } catch {
    throw invalid(name, 'url', 'is not a valid absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw invalid(name, 'url', 'must be http or https');
  if (url.username || url.password) {
    throw invalid(name, 'url', 'must not hold credentials; put them in an Authorization header');
  }
  if (!Array.isArray(spec.events) || spec.events.length === 0) {
    throw invalid(name, 'events', 'must list at least one event type or "*"');
  }
  for (const s of spec.events) {
    const problem = checkEventSelector(s);
    if (problem) throw invalid(name, 'events', problem);
  }
  const secrets = (spec.secrets ?? []).map((s, i) => {
    try {
      return typeof s === 'string' ? WebhookSecret.parse(s) : WebhookSecret.fromKey(s);
    } catch (e) {
      throw invalid(name, `secrets[${i}]`, (e as Error).message.replace(/^E_\w+: /, ''));
    }
  });
  if (spec.kind !== 'generic' && secrets.length > 0) {
    throw invalid(name, 'secrets', 'only generic targets are signed');
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(spec.headers ?? {})) {
    if (!HEADER_NAME.test(k)) throw invalid(name, `headers.${k}`, 'is not a valid header name');
    if (RESERVED_HEADERS.has(k.toLowerCase())) throw invalid(name, `headers.${k}`, 'is set by dsrd itself');
    if (typeof v !== 'string' || /[\r\n\0]/.test(v)) throw invalid(name, `headers.${k}`, 'must be one line');
    headers[k] = v;
  }
  const p = { ...DEFAULT_DELIVERY_POLICY, ...spec.policy };
  const policy: DeliveryPolicy = {
    timeoutMs: positiveInt(name, 'policy.timeoutMs', p.timeoutMs, 1),
    maxAttempts: positiveInt(name, 'policy.maxAttempts', p.maxAttempts, 1),
    maxAgeMs: positiveInt(name, 'policy.maxAgeMs', p.maxAgeMs, 1),
    baseDelayMs: positiveInt(name, 'policy.baseDelayMs', p.baseDelayMs, 0),
    maxDelayMs: positiveInt(name, 'policy.maxDelayMs', p.maxDelayMs, 0),
    maxRetryAfterMs: positiveInt(name, 'policy.maxRetryAfterMs', p.maxRetryAfterMs, 0),
    concurrency: positiveInt(name, 'policy.concurrency', p.concurrency, 1),
  };
  const am = { ...DEFAULT_ALERTMANAGER_TIMES, ...spec.alertmanager };
  return {
    name,
    kind: spec.kind,
    url: url.href,
    selectors: [...spec.events],
    secrets,
    headers,
    policy,
    alertmanager: {
      firingTtlMs: positiveInt(name, 'alertmanager.firingTtlMs', am.firingTtlMs, 1),
      oneShotTtlMs: positiveInt(name, 'alertmanager.oneShotTtlMs', am.oneShotTtlMs, 1),
    },
  };
}
