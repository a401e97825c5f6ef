/**
 * The health part's metrics snapshot (issue 26, item 1): a sample set per service and real server
 * that has checks, with the verdict, the slowest last latency and the results of all its checks.
 */
import test from 'ava';
import { healthSnapshot } from '../../daemon/health/metrics.ts';
import type { CheckStatus, HealthStatus } from '../../health/health-status.ts';

function check(over: Partial<CheckStatus>): CheckStatus {
  return {
    kind: 'tcp',
    address: '198.18.1.2',
    port: 80,
    status: 'up',
    raw: 'up',
    suppressed: false,
    penalty: 0,
    sinceMs: 0,
    last: null,
    lastFailure: null,
    results: { success: 0, failure: 0, timeout: 0 },
    intervalMs: 1000,
    rise: 2,
    fall: 2,
    ...over,
  };
}

test('one sample set per checked real server; unchecked ones have none', (t) => {
  const status: HealthStatus = {
    running: true,
    drains: [],
    weights: [],
    scheduler: { jobs: 3, running: 0, queued: 0, stuck: 0 },
    services: [
      {
        name: 'web',
        status: 'up',
        healthy: 1,
        minHealthy: 1,
        sorryServer: null,
        sorryActive: false,
        realServers: [
          {
            id: 'a',
            address: '198.18.1.2',
            health: 'down',
            configuredWeight: 1,
            effectiveWeight: 0,
            drained: false,
            checks: [
              check({
                last: { ok: false, latencyMs: 190, detail: 'timeout', agoMs: 5 },
                results: { success: 7, failure: 1, timeout: 2 },
              }),
              check({
                port: 443,
                last: { ok: true, latencyMs: 2.5, detail: 'ok', agoMs: 5 },
                results: { success: 10, failure: 0, timeout: 0 },
              }),
            ],
          },
          {
            id: 'b',
            address: '198.18.1.3',
            health: 'up',
            configuredWeight: 1,
            effectiveWeight: 1,
            drained: false,
            checks: [check({ address: '198.18.1.3' })],
          },
          {
            id: 'c',
            address: '198.18.1.4',
            health: 'up',
            configuredWeight: 1,
            effectiveWeight: 1,
            drained: false,
            checks: [],
          },
        ],
      },
    ],
  };
  t.deepEqual(healthSnapshot(status).checks, [
    {
      service: 'web',
      realServer: '198.18.1.2',
      up: false,
      latencySeconds: 0.19,
      results: { success: 17, failure: 1, timeout: 2 },
    },
    {
      service: 'web',
      realServer: '198.18.1.3',
      up: true,
      latencySeconds: null,
      results: { success: 0, failure: 0, timeout: 0 },
    },
  ]);
  t.deepEqual(healthSnapshot(null), { checks: [] });
});
