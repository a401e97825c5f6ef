/**
 * The names of the events an alert target can subscribe to (issue 8). The config validates
 * `alerts.targets[].events` against this list; the alert sender uses the same names.
 */
export const ALERT_EVENTS = [
  'became_master',
  'became_backup',
  'became_fault',
  'failover_completed',
  'peer_lost',
  'peer_recovered',
  'split_brain_detected',
  'split_brain_resolved',
  'fingerprint_mismatch',
  'real_server_down',
  'real_server_up',
  'service_down',
  'service_up',
  'drain_complete',
  'sync_lag_high',
  'drill_result',
  'heartbeat',
] as const;

export type AlertEvent = (typeof ALERT_EVENTS)[number];
