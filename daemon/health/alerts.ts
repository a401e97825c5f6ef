/**
 * Health transitions raised as alert events (issue 8): real server and service down/up, drain
 * complete. "Up" is raised only as a recovery (from down): the first verdict after a start or a
 * reload is not news, and a restart would otherwise send one "up" per real server.
 *
 * Every director checks every real server and holds the same drains, so each would raise the same
 * event: only the one that speaks for the service (the master of its VIP group) does.
 */

import type { HealthEvent } from '../../health/index.ts';
import type { AlertsPart } from '../alerts/part.ts';

type AlertSink = Pick<AlertsPart, 'emit'>;

/** Who raises a service's alerts (the election part: the master of the service's VIP group). */
export interface AlertSpeaker {
  speaksFor(service: string | null): boolean;
}

export function raiseHealthAlert(alerts: AlertSink, e: HealthEvent): void {
  switch (e.type) {
    case 'realserver.down':
      alerts.emit('real_server_down', { service: e.service, realServer: e.realserver, reason: e.reason });
      return;
    case 'realserver.up':
      if (e.from !== 'down') return;
      alerts.emit('real_server_up', { service: e.service, realServer: e.realserver });
      return;
    case 'service.down':
      alerts.emit('service_down', { service: e.service, reason: e.reason });
      return;
    case 'service.up':
      if (e.from !== 'down') return;
      alerts.emit('service_up', { service: e.service, realServersUp: e.realServersUp });
      return;
    case 'drain.complete':
      alerts.emit('drain_complete', {
        service: e.service ?? '*',
        realServer: e.rs,
        outcome: e.outcome === 'timeout' ? 'timed_out' : 'no_flows',
        durationSeconds: e.durationMs / 1000,
        remainingFlows: e.remaining,
        closingFlows: e.closing,
      });
      return;
    default:
      return;
  }
}

/** Subscribes for the life of the process (the three objects live as long as the daemon). */
export function bridgeHealthAlerts(
  health: { on(event: 'event', listener: (e: HealthEvent) => void): unknown },
  alerts: AlertSink,
  speaker: AlertSpeaker,
): void {
  health.on('event', (e) => {
    if ('service' in e && !speaker.speaksFor(e.service)) return;
    raiseHealthAlert(alerts, e);
  });
}
