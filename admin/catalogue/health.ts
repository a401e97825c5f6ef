/**
 * Results of the health part's commands: drain, enable, weight and health. They are the JSON the
 * health subsystem produces (health/drain-tracker.ts, health/health-status.ts), written out here
 * for the operator's side; the daemon's handlers are checked against them.
 */

export interface DrainEntry {
  rs: string;
  /** null: every service the real server is in. */
  service: string | null;
  state: 'draining' | 'drained';
  /** Monotonic ms on the daemon that started it. */
  startedAt: number;
  /** 0: no timeout, wait for the last flow. */
  timeoutMs: number;
  /** Refuse new persistence entries for this real server while drained. */
  stopPersistence: boolean;
  /** Open flows left at the last tick (the drain waits for these); null before the first. */
  remaining: number | null;
  /** Closing TCP flows at the last tick: still forwarded until they time out, not waited for. */
  closing: number | null;
  finishedAt: number | null;
  outcome: 'no-flows' | 'timeout' | null;
}

/** Sent by `drain` with `wait` as the flows count down. */
export interface DrainProgress {
  rs: string;
  service: string | null;
  /** Open flows left. */
  remaining: number;
  /** Closing TCP flows (not waited for). */
  closing: number;
  /** Seconds left before the timeout; null without one. */
  secondsLeft: number | null;
}

export interface EnableResult {
  rs: string;
  service: string | null;
}

export interface WeightResult {
  rs: string;
  service: string | null;
  /** null: back to the configured weight. */
  weight: number | null;
}

export type Health = 'unknown' | 'up' | 'down';

export interface CheckReport {
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
  intervalMs: number;
  rise: number;
  fall: number;
}

export interface RealServerHealth {
  id: string;
  address: string;
  health: Health;
  configuredWeight: number;
  effectiveWeight: number;
  drained: boolean;
  checks: CheckReport[];
}

export interface ServiceHealth {
  name: string;
  status: Health;
  healthy: number;
  minHealthy: number;
  sorryServer: string | null;
  sorryActive: boolean;
  realServers: RealServerHealth[];
}

/** The result of `health`. */
export interface HealthReport {
  running: boolean;
  services: ServiceHealth[];
  drains: DrainEntry[];
  /** Runtime weights (dsrctl weight) in force. */
  weights: { rs: string; service: string | null; weight: number }[];
  /** The check scheduler: jobs, running now, waiting for a slot, and stuck past their timeout. */
  scheduler: { jobs: number; running: number; queued: number; stuck: number };
}
