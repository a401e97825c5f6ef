/** Public surface of the alerts part: what the daemon, config and dsrctl use. */
export { fullJitterDelay, isRetryableStatus, parseRetryAfter } from './backoff.ts';
export type { DeadLetterReason, DeadLetterRecord } from './dead-letter.ts';
export {
  AlertEngine,
  type AlertEngineOptions,
  type AlertEngineStats,
  type AlertLogger,
  type AlertTargetStats,
  type DeliveryCounts,
  type EngineTimers,
  type TestDeliveryResult,
} from './engine.ts';
export { describeEvent, type EventText } from './event-text.ts';
export {
  ALERT_EVENT_TYPES,
  type AlertEvent,
  type AlertEventFactory,
  type AlertEventFields,
  type AlertEventOf,
  AlertEventSchema,
  type AlertEventType,
  createAlertEventFactory,
  type DirectorRole,
  parseAlertEvent,
  type Severity,
  severityOf,
} from './events.ts';
export { formatRequest } from './format.ts';
export { type AlertmanagerAlert, alertmanagerAlerts } from './format-alertmanager.ts';
export { type SlackMessage, slackMessage } from './format-slack.ts';
export { type WebhookPayload, webhookPayload } from './format-webhook.ts';
export {
  alertEngineOptionsFromConfig,
  alertPaths,
  alertTargetFromConfig,
  type ConfiguredAlerts,
  type ConfiguredAlertTarget,
} from './from-config.ts';
export { MasterHeartbeat, type MasterHeartbeatOptions } from './heartbeat.ts';
export { createFetchSender, type HttpSender, type SendRequest, type SendResult } from './http-sender.ts';
export { signWebhook, verifyWebhook, WebhookSecret } from './standard-webhooks.ts';
export {
  ALERT_TARGET_KINDS,
  type AlertmanagerTimes,
  type AlertTarget,
  type AlertTargetKind,
  type AlertTargetSpec,
  checkEventSelector,
  DEFAULT_ALERTMANAGER_TIMES,
  DEFAULT_DELIVERY_POLICY,
  type DeliveryPolicy,
  resolveAlertTarget,
  selectorsMatch,
} from './targets.ts';
