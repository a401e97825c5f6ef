/**
 * From the validated config (`config.alerts`, see config/types.ts) to what the
 * alert engine takes. The input types are structural so this part does not
 * depend on the config module; config's own types fit them.
 *
 * Layout under `alerts.queue_dir`: `spool/` (one file per pending delivery) and
 * `dead-letter.jsonl` (+ `dead-letter.jsonl.1` after rotation).
 */
import { join } from 'node:path';
import type { AlertEngineOptions } from './engine.ts';
import { type AlertTarget, type AlertTargetKind, resolveAlertTarget } from './targets.ts';

export interface ConfiguredAlertTarget {
  name: string;
  kind: AlertTargetKind;
  /** The URL, kept as a secret by config (a Slack webhook URL is a credential). */
  url: { text(): string };
  /** `generic` only: the signing key bytes (config has already decoded `whsec_`). */
  secret: { bytes(): Uint8Array } | null;
  events: readonly string[];
  timeoutMs: number;
  maxAttempts: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
}

export interface ConfiguredAlerts {
  queueDir: string;
  queueMaxEvents: number;
  targets: readonly ConfiguredAlertTarget[];
}

export function alertTargetFromConfig(t: ConfiguredAlertTarget): AlertTarget {
  return resolveAlertTarget({
    name: t.name,
    kind: t.kind,
    url: t.url.text(),
    events: t.events,
    secrets: t.secret ? [t.secret.bytes()] : [],
    policy: {
      timeoutMs: t.timeoutMs,
      maxAttempts: t.maxAttempts,
      baseDelayMs: t.backoffInitialMs,
      maxDelayMs: t.backoffMaxMs,
    },
  });
}

export function alertPaths(queueDir: string): { spoolDir: string; deadLetterPath: string } {
  return { spoolDir: join(queueDir, 'spool'), deadLetterPath: join(queueDir, 'dead-letter.jsonl') };
}

/** Engine options for `AlertEngine.open`; `extra` adds the logger (and, in tests, fakes). */
export function alertEngineOptionsFromConfig(
  alerts: ConfiguredAlerts,
  node: string,
  extra: Partial<AlertEngineOptions> = {},
): AlertEngineOptions {
  return {
    node,
    targets: alerts.targets.map(alertTargetFromConfig),
    ...alertPaths(alerts.queueDir),
    maxQueuedItems: alerts.queueMaxEvents,
    ...extra,
  };
}
