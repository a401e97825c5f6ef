/**
 * The alert event model: every event a director can tell an operator about.
 *
 * One zod schema per event type is the single source of truth: the TypeScript
 * types are inferred from it, and events read back from the on-disk spool after
 * a restart are validated against it (a corrupt file becomes a counted drop,
 * never a crash).
 *
 * Every event carries `id` (unique; it is the Standard Webhooks `webhook-id`, so
 * receivers can de-duplicate retries), `time` (ms since the epoch, when it
 * happened), `node` (the director that saw it) and `severity`. Events about one
 * VIP group carry `group`; events about one service carry `service`.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';

export const SEVERITIES = ['critical', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

const RoleSchema = z.enum(['init', 'backup', 'master', 'fault']);
export type DirectorRole = z.infer<typeof RoleSchema>;

const text = z.string().max(1024);
const name = z.string().min(1).max(256);
const seconds = z.number().finite().nonnegative();

const base = {
  id: z.string().min(1).max(128),
  time: z.number().int().nonnegative(),
  node: name,
  severity: z.enum(SEVERITIES),
};

function event<T extends string, S extends z.ZodRawShape>(type: T, shape: S) {
  return z.object({ ...base, type: z.literal(type), ...shape });
}

const roleChange = { group: name, previous: RoleSchema, reason: text };

export const AlertEventSchema = z.discriminatedUnion('type', [
  event('became_master', roleChange),
  event('became_backup', roleChange),
  event('became_fault', roleChange),
  /**
   * This node finished taking over a group from another master (docs/observability.md, "Failover
   * timing"): durationSeconds runs from the last message heard from the old master to our VIPs
   * added and first announced; the sync fields say how far our copy of its tables lagged.
   */
  event('failover_completed', {
    group: name,
    previousMaster: name.optional(),
    /** The election's reason: master-down, master-resigned, handover, preempt. */
    reason: text.optional(),
    durationSeconds: seconds,
    syncLagSeconds: seconds,
    /** Absent when the sync is off. */
    syncInSync: z.boolean().optional(),
    syncBehindMessages: z.number().int().nonnegative().optional(),
  }),
  event('peer_lost', { peer: name, lastHeardSecondsAgo: seconds.optional() }),
  event('peer_recovered', { peer: name, downSeconds: seconds.optional() }),
  /**
   * Quorum mode (docs/quorum.md): this voter hears neither a majority of the voters nor a leader,
   * so no leader stands on its side; `reachable` are the voters it hears, itself included.
   */
  event('quorum_lost', { voters: z.array(name).max(64), reachable: z.array(name).max(64) }),
  event('quorum_regained', { reachable: z.array(name).max(64), downSeconds: seconds }),
  /** Quorum mode: this voter became the leader (and holds the VIPs while its lease lasts). */
  event('leader_changed', { leader: name, previous: name.optional(), term: z.number().int().nonnegative() }),
  event('split_brain_detected', { group: name, masters: z.array(name).max(64) }),
  event('split_brain_resolved', { group: name, master: name.optional() }),
  /** Another MAC claims (ARP/ND) a VIP this director holds as master: a second owner on the wire. */
  event('vip_conflict', { group: name, vip: text, mac: text, ownMac: text }),
  event('fingerprint_mismatch', { peer: name, localFingerprint: text, peerFingerprint: text }),
  event('fingerprint_match', { peer: name, fingerprint: text }),
  event('real_server_down', { service: name, realServer: name, reason: text }),
  event('real_server_up', { service: name, realServer: name }),
  event('service_down', { service: name, reason: text }),
  event('service_up', { service: name, realServersUp: z.number().int().nonnegative() }),
  event('drain_complete', {
    service: name,
    realServer: name,
    /** no_flows: no open flow left; timed_out: the drain's timeout passed first. */
    outcome: z.enum(['no_flows', 'timed_out']),
    durationSeconds: seconds,
    /** Open flows left (0 unless timed out), and closing ones (forwarded until they time out). */
    remainingFlows: z.number().int().nonnegative(),
    closingFlows: z.number().int().nonnegative(),
  }),
  event('sync_lag_high', { peer: name.optional(), lagSeconds: seconds, thresholdSeconds: seconds }),
  event('sync_lag_normal', { peer: name.optional(), lagSeconds: seconds, thresholdSeconds: seconds }),
  event('drill_result', {
    group: name,
    passed: z.boolean(),
    outageSeconds: seconds.optional(),
    detail: text,
  }),
  /** Periodic "still master" heartbeat: a receiver that stops seeing it knows the director is gone. */
  event('heartbeat', { groups: z.array(name).max(1024), uptimeSeconds: seconds.optional() }),
  event('test', { message: text, target: name.optional() }),
]);

export type AlertEvent = z.infer<typeof AlertEventSchema>;
export type AlertEventType = AlertEvent['type'];
export type AlertEventOf<T extends AlertEventType> = Extract<AlertEvent, { type: T }>;
/** What a caller supplies for an event: everything but the fields the factory fills in. */
export type AlertEventFields<T extends AlertEventType> = Omit<
  AlertEventOf<T>,
  'id' | 'time' | 'node' | 'severity' | 'type'
>;

export const ALERT_EVENT_TYPES: readonly AlertEventType[] = AlertEventSchema.options.map(
  (o) => o.shape.type.value,
);

/** Severity is a function of the event, so every target ranks the same event the same way. */
export function severityOf(type: AlertEventType, fields: { passed?: boolean }): Severity {
  switch (type) {
    case 'became_fault':
    case 'quorum_lost':
    case 'split_brain_detected':
    case 'vip_conflict':
    case 'service_down':
      return 'critical';
    case 'peer_lost':
    case 'fingerprint_mismatch':
    case 'real_server_down':
    case 'sync_lag_high':
      return 'warning';
    case 'drill_result':
      return fields.passed === false ? 'warning' : 'info';
    default:
      return 'info';
  }
}

export interface AlertEventFactoryOptions {
  /** This director's node name, stamped on every event. */
  node: string;
  /** Wall clock in ms since the epoch (injected for tests). */
  now?: () => number;
  /** Unique id source (injected for tests). */
  newId?: () => string;
}

export interface AlertEventFactory {
  make<T extends AlertEventType>(type: T, fields: AlertEventFields<T>): AlertEventOf<T>;
}

export function defaultEventId(): string {
  return `evt_${randomUUID().replaceAll('-', '')}`;
}

/** Builds events stamped with id, time, node and severity. */
export function createAlertEventFactory(options: AlertEventFactoryOptions): AlertEventFactory {
  const now = options.now ?? Date.now;
  const newId = options.newId ?? defaultEventId;
  return {
    make(type, fields) {
      const severity = severityOf(type, fields as { passed?: boolean });
      return {
        ...fields,
        id: newId(),
        time: Math.trunc(now()),
        node: options.node,
        severity,
        type,
      } as unknown as AlertEventOf<typeof type>;
    },
  };
}

/** Parses an event from untrusted input (the spool); returns null when it does not fit the schema. */
export function parseAlertEvent(value: unknown): AlertEvent | null {
  const r = AlertEventSchema.safeParse(value);
  return r.success ? r.data : null;
}
