/**
 * Generic JSON target: the Standard Webhooks payload shape
 * `{ type, timestamp, data }` (spec "Payload structure"), signed per attempt.
 */
import type { AlertEvent } from './events.ts';
import { signWebhook, type WebhookSecret } from './standard-webhooks.ts';

export interface WebhookPayload {
  type: AlertEvent['type'];
  /** ISO 8601 time of the event (not of the send attempt). */
  timestamp: string;
  data: AlertEvent;
}

export function webhookPayload(event: AlertEvent): WebhookPayload {
  return { type: event.type, timestamp: new Date(event.time).toISOString(), data: event };
}

/**
 * Body and signed headers for one attempt. The timestamp is the send time, so a
 * retry hours later still passes the receiver's tolerance window; the id stays
 * the event id so the receiver can drop duplicates.
 */
export function webhookRequest(
  event: AlertEvent,
  secrets: readonly WebhookSecret[],
  nowMs: number,
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify(webhookPayload(event));
  const signed = signWebhook(secrets, event.id, Math.floor(nowMs / 1000), body);
  return { body, headers: { 'content-type': 'application/json', ...signed } };
}
