/**
 * Prometheus Alertmanager target: the JSON body of `POST /api/v2/alerts`, an
 * array of `{ labels, annotations, startsAt, endsAt }`.
 *
 * Alertmanager identifies an alert by its label set, so an event and the event
 * that ends it (peer_lost / peer_recovered, real_server_down / up, ...) map to
 * the same alertname and labels, including `severity`, which is fixed per
 * alertname rather than taken from the resolving event. A resolving event sends
 * the alert with `endsAt` = event time, which resolves it.
 *
 * dsrd sends on change only (it is not a Prometheus rule evaluator that resends
 * every interval), so a firing alert gets an explicit `endsAt` of event time +
 * `firingTtlMs`: long enough to stay firing until its resolving event, bounded
 * so that a lost resolve does not leave it firing forever. One-shot events
 * (failover completed, drill result, heartbeat, test) fire for `oneShotTtlMs`;
 * for the heartbeat that makes a dead-man's switch: when heartbeats stop the
 * alert resolves.
 */
import { describeEvent } from './event-text.ts';
import type { AlertEvent, Severity } from './events.ts';
import type { AlertmanagerTimes } from './targets.ts';

export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
}

type Mapping = {
  alertname: string;
  severity: Severity;
  /** firing: stays until resolved; resolved: ends the alert; oneshot: fires for oneShotTtlMs. */
  status: 'firing' | 'resolved' | 'oneshot';
  labels: Record<string, string | undefined>;
};

function mappings(e: AlertEvent): Mapping[] {
  switch (e.type) {
    case 'became_fault':
      return [
        { alertname: 'DsrDirectorFault', severity: 'critical', status: 'firing', labels: { group: e.group } },
      ];
    case 'became_master':
    case 'became_backup': {
      const role = e.type === 'became_master' ? 'master' : 'backup';
      const change: Mapping = {
        alertname: 'DsrRoleChanged',
        severity: 'info',
        status: 'oneshot',
        labels: { group: e.group, role },
      };
      if (e.previous !== 'fault') return [change];
      const end: Mapping = {
        alertname: 'DsrDirectorFault',
        severity: 'critical',
        status: 'resolved',
        labels: { group: e.group },
      };
      return [end, change];
    }
    case 'failover_completed':
      return [
        {
          alertname: 'DsrFailoverCompleted',
          severity: 'info',
          status: 'oneshot',
          labels: { group: e.group },
        },
      ];
    case 'quorum_lost':
    case 'quorum_regained':
      return [
        {
          alertname: 'DsrQuorumLost',
          severity: 'critical',
          status: e.type === 'quorum_lost' ? 'firing' : 'resolved',
          labels: {},
        },
      ];
    case 'leader_changed':
      return [
        { alertname: 'DsrLeaderChanged', severity: 'info', status: 'oneshot', labels: { leader: e.leader } },
      ];
    case 'peer_lost':
    case 'peer_recovered':
      return [
        {
          alertname: 'DsrPeerLost',
          severity: 'warning',
          status: e.type === 'peer_lost' ? 'firing' : 'resolved',
          labels: { peer: e.peer },
        },
      ];
    case 'split_brain_detected':
    case 'split_brain_resolved':
      return [
        {
          alertname: 'DsrSplitBrain',
          severity: 'critical',
          status: e.type === 'split_brain_detected' ? 'firing' : 'resolved',
          labels: { group: e.group },
        },
      ];
    case 'vip_conflict':
      return [
        {
          alertname: 'DsrVipConflict',
          severity: 'critical',
          status: 'oneshot',
          labels: { group: e.group, vip: e.vip, mac: e.mac, own_mac: e.ownMac },
        },
      ];
    case 'fingerprint_mismatch':
    case 'fingerprint_match':
      return [
        {
          alertname: 'DsrConfigMismatch',
          severity: 'warning',
          status: e.type === 'fingerprint_mismatch' ? 'firing' : 'resolved',
          labels: { peer: e.peer },
        },
      ];
    case 'real_server_down':
    case 'real_server_up':
      return [
        {
          alertname: 'DsrRealServerDown',
          severity: 'warning',
          status: e.type === 'real_server_down' ? 'firing' : 'resolved',
          labels: { service: e.service, real_server: e.realServer },
        },
      ];
    case 'service_down':
    case 'service_up':
      return [
        {
          alertname: 'DsrServiceDown',
          severity: 'critical',
          status: e.type === 'service_down' ? 'firing' : 'resolved',
          labels: { service: e.service },
        },
      ];
    case 'sync_lag_high':
    case 'sync_lag_normal':
      return [
        {
          alertname: 'DsrSyncLagHigh',
          severity: 'warning',
          status: e.type === 'sync_lag_high' ? 'firing' : 'resolved',
          labels: { peer: e.peer },
        },
      ];
    case 'drain_complete':
      return [
        {
          alertname: 'DsrDrainComplete',
          severity: 'info',
          status: 'oneshot',
          labels: { service: e.service, real_server: e.realServer },
        },
      ];
    case 'drill_result':
      return [
        {
          alertname: 'DsrDrillResult',
          severity: e.severity,
          status: 'oneshot',
          labels: { group: e.group, result: e.passed ? 'passed' : 'failed' },
        },
      ];
    case 'heartbeat':
      return [{ alertname: 'DsrMasterHeartbeat', severity: 'info', status: 'oneshot', labels: {} }];
    case 'test':
      return [{ alertname: 'DsrTestAlert', severity: 'info', status: 'oneshot', labels: {} }];
  }
}

export function alertmanagerAlerts(e: AlertEvent, times: AlertmanagerTimes): AlertmanagerAlert[] {
  const { title, detail } = describeEvent(e);
  const iso = (ms: number) => new Date(ms).toISOString();
  return mappings(e).map((m) => {
    const labels: Record<string, string> = { alertname: m.alertname, severity: m.severity, node: e.node };
    for (const [k, v] of Object.entries(m.labels)) if (v !== undefined) labels[k] = v;
    const ttl = m.status === 'firing' ? times.firingTtlMs : m.status === 'oneshot' ? times.oneShotTtlMs : 0;
    // A resolved alert must not start after it ends; its real start is unknown here.
    return {
      labels,
      annotations: { summary: title, description: detail, event_id: e.id, event_type: e.type },
      startsAt: iso(e.time),
      endsAt: iso(e.time + ttl),
    };
  });
}

export function alertmanagerRequest(
  e: AlertEvent,
  times: AlertmanagerTimes,
): { body: string; headers: Record<string, string> } {
  return {
    body: JSON.stringify(alertmanagerAlerts(e, times)),
    headers: { 'content-type': 'application/json' },
  };
}
