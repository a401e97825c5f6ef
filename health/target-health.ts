/**
 * The health of one check target, as a pure state machine: check results in, status and events out.
 *
 * - Rise/fall: a down target comes up after `rise` consecutive successes; an up target goes down
 *   after `fall` consecutive failures. A target whose first result has not arrived is 'unknown';
 *   with `initial: 'unknown'` (default) the first result decides at once, so a freshly started
 *   director knows where it stands after one round of checks. `initial: 'down'` makes a new target
 *   earn its `rise` first (keepalived's "alpha" mode); `initial: 'up'` trusts it until `fall`.
 * - Damping (flap-damping.ts): a target that keeps falling is suppressed, i.e. reported down,
 *   until its penalty decays.
 * - Events are transitions only: a status change, a suppression starting or ending. A steady
 *   target produces no events however many checks it passes or fails.
 *
 * `raw` is what the checks say after rise/fall; `status` is what we report (raw, unless suppressed).
 */
import type { CheckResult } from './checker.ts';
import {
  type DampingConfig,
  type DampingState,
  decay,
  initialDamping,
  recordFall,
  reuseTime,
} from './flap-damping.ts';

export type Health = 'unknown' | 'up' | 'down';

export interface TargetHealthConfig {
  rise: number;
  fall: number;
  initial?: Health;
  /** null: no damping. */
  damping: DampingConfig | null;
}

export interface LastCheck {
  ok: boolean;
  latencyMs: number;
  detail: string;
  at: number;
}

export interface TargetHealthState {
  raw: Health;
  status: Health;
  /** Consecutive successes / failures, the current streak only. */
  successes: number;
  failures: number;
  damping: DampingState;
  last: LastCheck | null;
  /** Last failed check's detail: why the target is (or last went) down. */
  lastFailure: string | null;
  /** Time of the last change of `status`. */
  since: number;
  /** Falls counted since the target was created. */
  falls: number;
  /** Checks run since the target was created, by result. */
  results: Readonly<Record<CheckOutcome, number>>;
}

export type CheckOutcome = 'success' | 'failure' | 'timeout';

export function outcomeOf(result: CheckResult): CheckOutcome {
  if (result.ok) return 'success';
  return result.timedOut === true ? 'timeout' : 'failure';
}

export type TargetEvent =
  | { type: 'status'; from: Health; to: Health; at: number; cause: 'checks' | 'damping'; detail: string }
  | { type: 'suppressed'; at: number; penalty: number; releaseAt: number | null }
  | { type: 'released'; at: number; penalty: number };

export interface Step {
  state: TargetHealthState;
  events: TargetEvent[];
}

export function validateTargetConfig(cfg: TargetHealthConfig): string | null {
  if (!Number.isInteger(cfg.rise) || cfg.rise < 1) return 'rise must be an integer >= 1';
  if (!Number.isInteger(cfg.fall) || cfg.fall < 1) return 'fall must be an integer >= 1';
  return null;
}

export function initialTargetState(cfg: TargetHealthConfig, now: number): TargetHealthState {
  const start = cfg.initial ?? 'unknown';
  return {
    raw: start,
    status: start,
    successes: 0,
    failures: 0,
    damping: initialDamping(now),
    last: null,
    lastFailure: null,
    since: now,
    falls: 0,
    results: { success: 0, failure: 0, timeout: 0 },
  };
}

function nextRaw(cfg: TargetHealthConfig, s: TargetHealthState): Health {
  if (s.raw === 'unknown') return s.last?.ok ? 'up' : 'down';
  if (s.raw === 'down' && s.successes >= cfg.rise) return 'up';
  if (s.raw === 'up' && s.failures >= cfg.fall) return 'down';
  return s.raw;
}

/** Applies one check result taken at `now`. */
export function observe(
  cfg: TargetHealthConfig,
  prev: TargetHealthState,
  result: CheckResult,
  now: number,
): Step {
  const s: TargetHealthState = {
    ...prev,
    successes: result.ok ? prev.successes + 1 : 0,
    failures: result.ok ? 0 : prev.failures + 1,
    last: { ok: result.ok, latencyMs: result.latencyMs, detail: result.detail, at: now },
    lastFailure: result.ok ? prev.lastFailure : result.detail,
    results: { ...prev.results, [outcomeOf(result)]: prev.results[outcomeOf(result)] + 1 },
  };
  const events: TargetEvent[] = [];
  const raw = nextRaw(cfg, s);
  if (raw === 'down' && prev.raw === 'up') {
    s.falls++;
    if (cfg.damping) {
      const before = s.damping.suppressed;
      s.damping = recordFall(cfg.damping, s.damping, now);
      if (!before && s.damping.suppressed) {
        events.push({
          type: 'suppressed',
          at: now,
          penalty: s.damping.penalty,
          releaseAt: reuseTime(cfg.damping, s.damping),
        });
      }
    }
  }
  s.raw = raw;
  return settle(cfg, s, now, events, 'checks');
}

/** Advances time without a result: lets a suppression end when its penalty has decayed. */
export function tick(cfg: TargetHealthConfig, prev: TargetHealthState, now: number): Step {
  return settle(cfg, { ...prev }, now, [], 'damping');
}

function settle(
  cfg: TargetHealthConfig,
  s: TargetHealthState,
  now: number,
  events: TargetEvent[],
  cause: 'checks' | 'damping',
): Step {
  let released = false;
  if (cfg.damping) {
    const wasSuppressed = s.damping.suppressed;
    s.damping = decay(cfg.damping, s.damping, now);
    released = wasSuppressed && !s.damping.suppressed;
    if (released) events.push({ type: 'released', at: now, penalty: s.damping.penalty });
  }
  const status: Health = s.damping.suppressed ? 'down' : s.raw;
  if (status !== s.status) {
    const viaDamping = cause === 'damping' || released;
    const detail = status === 'down' ? (s.lastFailure ?? 'down') : (s.last?.detail ?? 'up');
    events.push({
      type: 'status',
      from: s.status,
      to: status,
      at: now,
      cause: viaDamping ? 'damping' : 'checks',
      detail: viaDamping && status === 'up' ? `released from flap damping; ${detail}` : detail,
    });
    s.status = status;
    s.since = now;
  }
  return { state: s, events };
}

/** When `tick` could next change something (a suppression ending); null when nothing is pending. */
export function nextWakeup(cfg: TargetHealthConfig, s: TargetHealthState): number | null {
  return cfg.damping ? reuseTime(cfg.damping, s.damping) : null;
}
