/**
 * Flap damping for health targets, after BGP route flap damping (RFC 2439).
 *
 * Every time a target falls (up -> down after its fall count), it earns a penalty. The penalty
 * decays exponentially with a half-life. While the penalty is above `suppressAt` the target is
 * suppressed: it is reported down whatever its checks say, so a real server that keeps bouncing
 * stops pulling new flows in and out of the Maglev table. It is released once the penalty decays
 * below `reuseAt` (RFC 2439 section 4.2 "reuse threshold"). The penalty is capped so that a
 * suppression never lasts longer than `maxSuppressMs` after the last flap (RFC 2439 4.2 "maximum
 * hold-down time": ceiling = reuse * 2^(maxSuppress / halfLife)).
 *
 * Only falls are penalised: a rise is the recovery we want, and counting it would double the
 * penalty of a single outage. With the defaults, one or two outages in a row cost nothing visible;
 * a third fall within about a minute suppresses the target for about two minutes (with the default
 * 2 s interval, rise 2 and fall 3, a down/up cycle takes at least 10 s, so a target flapping as fast
 * as its checks allow is suppressed at its third fall).
 *
 * Pure: time comes in as an argument (ms, monotonic) and the state is a plain object.
 */

export interface DampingConfig {
  /** Penalty added on each fall. */
  penalty: number;
  /** Suppress when the penalty goes above this. */
  suppressAt: number;
  /** Release when the penalty decays below this. */
  reuseAt: number;
  halfLifeMs: number;
  /** Longest a target stays suppressed after its last fall. */
  maxSuppressMs: number;
}

export const DEFAULT_DAMPING: DampingConfig = {
  penalty: 1000,
  suppressAt: 2500,
  reuseAt: 750,
  halfLifeMs: 60_000,
  maxSuppressMs: 600_000,
};

export interface DampingState {
  /** Penalty as of `at`. */
  penalty: number;
  at: number;
  suppressed: boolean;
}

export function initialDamping(now: number): DampingState {
  return { penalty: 0, at: now, suppressed: false };
}

export function validateDamping(cfg: DampingConfig): string | null {
  if (!(cfg.penalty > 0)) return 'damping penalty must be > 0';
  if (!(cfg.reuseAt > 0)) return 'damping reuse threshold must be > 0';
  if (!(cfg.suppressAt > cfg.reuseAt)) return 'damping suppress threshold must be above the reuse threshold';
  if (!(cfg.halfLifeMs > 0)) return 'damping half-life must be > 0 ms';
  if (!(cfg.maxSuppressMs >= cfg.halfLifeMs))
    return 'damping max suppress time must be at least one half-life';
  return null;
}

/** RFC 2439 4.2: the penalty above which a suppression would outlast maxSuppressMs. */
export function penaltyCeiling(cfg: DampingConfig): number {
  return cfg.reuseAt * 2 ** (cfg.maxSuppressMs / cfg.halfLifeMs);
}

export function penaltyAt(cfg: DampingConfig, state: DampingState, now: number): number {
  const elapsed = Math.max(0, now - state.at);
  return state.penalty * 2 ** (-elapsed / cfg.halfLifeMs);
}

/** A fall: decay to now, add the penalty (capped), suppress if it crossed the threshold. */
export function recordFall(cfg: DampingConfig, state: DampingState, now: number): DampingState {
  const penalty = Math.min(penaltyAt(cfg, state, now) + cfg.penalty, penaltyCeiling(cfg));
  return { penalty, at: now, suppressed: state.suppressed || penalty > cfg.suppressAt };
}

/** Decays to now and releases a suppression whose penalty went below the reuse threshold. */
export function decay(cfg: DampingConfig, state: DampingState, now: number): DampingState {
  const penalty = penaltyAt(cfg, state, now);
  // Forget tiny residues so an idle target's state settles at exactly zero.
  const settled = penalty < cfg.penalty / 1024 ? 0 : penalty;
  return { penalty: settled, at: now, suppressed: state.suppressed && settled >= cfg.reuseAt };
}

/** When a suppressed target will be released if it does not fall again; null when not suppressed. */
export function reuseTime(cfg: DampingConfig, state: DampingState): number | null {
  if (!state.suppressed) return null;
  if (state.penalty < cfg.reuseAt) return state.at;
  return state.at + cfg.halfLifeMs * Math.log2(state.penalty / cfg.reuseAt);
}
