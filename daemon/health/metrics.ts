/**
 * The health part's metrics snapshot (dsr_health_check_*): one sample set per service and real
 * server, as the other `real_server` series are labelled. A real server with several checks is up
 * when its health is (every check passes); its latency is that of its slowest last check, and its
 * result counts are those of all its checks together.
 */
import type { HealthStatus } from '../../health/health-status.ts';
import type { CheckOutcome } from '../../health/target-health.ts';
import type { HealthSnapshot } from '../metrics/snapshots.ts';

export function healthSnapshot(status: HealthStatus | null): HealthSnapshot {
  if (status === null) return { checks: [] };
  const checks: HealthSnapshot['checks'] = [];
  for (const service of status.services) {
    for (const rs of service.realServers) {
      if (rs.checks.length === 0) continue; // not checked: no check series, only its weight
      const results: Record<CheckOutcome, number> = { success: 0, failure: 0, timeout: 0 };
      let latencyMs: number | null = null;
      for (const c of rs.checks) {
        for (const k of Object.keys(results) as CheckOutcome[]) results[k] += c.results[k];
        if (c.last !== null) latencyMs = Math.max(latencyMs ?? 0, c.last.latencyMs);
      }
      checks.push({
        service: service.name,
        realServer: rs.address,
        up: rs.health === 'up',
        latencySeconds: latencyMs === null ? null : latencyMs / 1000,
        results,
      });
    }
  }
  return { checks };
}
