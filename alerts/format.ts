/**
 * One request (body + headers) for one event to one target, per attempt.
 * Target headers come first so the formatter's own headers (content-type, the
 * signature) always win; targets.ts also rejects those names in config.
 */
import type { AlertEvent } from './events.ts';
import { alertmanagerRequest } from './format-alertmanager.ts';
import { slackRequest } from './format-slack.ts';
import { webhookRequest } from './format-webhook.ts';
import type { AlertTarget } from './targets.ts';

export const USER_AGENT = 'dsr-director-alerts/1';

export interface FormattedRequest {
  body: string;
  headers: Record<string, string>;
}

export function formatRequest(target: AlertTarget, event: AlertEvent, nowMs: number): FormattedRequest {
  let r: FormattedRequest;
  switch (target.kind) {
    case 'generic':
      r = webhookRequest(event, target.secrets, nowMs);
      break;
    case 'slack':
      r = slackRequest(event);
      break;
    case 'alertmanager':
      r = alertmanagerRequest(event, target.alertmanager);
      break;
  }
  return { body: r.body, headers: { 'user-agent': USER_AGENT, ...target.headers, ...r.headers } };
}
