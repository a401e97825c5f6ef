/**
 * The health part's status for `dsrctl status` / the admin socket: plain JSON, ages instead of
 * clock readings (the monotonic clock means nothing to a reader), no secrets (check specs are not
 * echoed: an exec argv or a Host header may carry a token).
 */
import type { SchedulerStats } from './check-scheduler.ts';
import type { DrainEntry, WeightOverride } from './drain-tracker.ts';
import type { HealthServiceSpec } from './health-spec.ts';
import type { ServiceView } from './service-health.ts';
import type { CheckOutcome, Health, TargetHealthState } from './target-health.ts';
import type { PlannedTarget } from './target-plan.ts';

export interface CheckStatus {
  kind: string;
  address: string;
  port: number;
  status: Health;
  /** What the checks say after rise/fall, before damping. */
  raw: Health;
  suppressed: boolean;
  penalty: number;
  sinceMs: number;
  last: { ok: boolean; latencyMs: number; detail: string; agoMs: number } | null;
  lastFailure: string | null;
  /** Checks run, by result. */
  results: Readonly<Record<CheckOutcome, number>>;
  intervalMs: number;
  rise: number;
  fall: number;
}

export interface RealServerStatus {
  id: string;
  address: string;
  health: Health;
  configuredWeight: number;
  effectiveWeight: number;
  drained: boolean;
  checks: CheckStatus[];
}

export interface ServiceStatus {
  name: string;
  status: Health;
  healthy: number;
  minHealthy: number;
  sorryServer: string | null;
  sorryActive: boolean;
  realServers: RealServerStatus[];
}

export interface HealthStatus {
  running: boolean;
  services: ServiceStatus[];
  drains: DrainEntry[];
  weights: WeightOverride[];
  scheduler: SchedulerStats;
}

export interface StatusInput {
  now: number;
  running: boolean;
  services: {
    spec: HealthServiceSpec;
    status: Health;
    view: ServiceView;
    targets(rs: string): { plan: PlannedTarget; state: TargetHealthState }[];
  }[];
  drains: DrainEntry[];
  weights: WeightOverride[];
  scheduler: SchedulerStats;
}

export function buildStatus(input: StatusInput): HealthStatus {
  const { now } = input;
  return {
    running: input.running,
    services: input.services.map((s) => ({
      name: s.spec.name,
      status: s.status,
      healthy: s.view.healthy,
      minHealthy: s.spec.minHealthy,
      sorryServer: s.spec.sorryServer ?? null,
      sorryActive: s.view.sorryActive,
      realServers: s.spec.realServers.map((rs) => {
        const backend = s.view.backends.find((b) => b.id === rs.id && !b.sorry);
        return {
          id: rs.id,
          address: rs.address,
          health: backend?.health ?? 'unknown',
          configuredWeight: rs.weight,
          effectiveWeight: backend?.weight ?? 0,
          drained: backend?.drained ?? false,
          checks: s.targets(rs.id).map(({ plan, state }) => ({
            kind: plan.kind,
            address: plan.address,
            port: plan.port,
            status: state.status,
            raw: state.raw,
            suppressed: state.damping.suppressed,
            penalty: Math.round(state.damping.penalty),
            sinceMs: Math.round(now - state.since),
            last: state.last
              ? {
                  ok: state.last.ok,
                  latencyMs: Math.round(state.last.latencyMs * 1000) / 1000,
                  detail: state.last.detail,
                  agoMs: Math.round(now - state.last.at),
                }
              : null,
            lastFailure: state.lastFailure,
            results: state.results,
            intervalMs: plan.timing.intervalMs,
            rise: plan.timing.rise,
            fall: plan.timing.fall,
          })),
        };
      }),
    })),
    drains: input.drains,
    weights: input.weights,
    scheduler: input.scheduler,
  };
}
