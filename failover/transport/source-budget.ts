/**
 * What one source address may make the election thread verify (issue 21, item 5). A datagram from
 * a peer's address costs an HMAC (and, if that passes, a state-machine step) on the real-time
 * election thread; a flood spoofing that address must not take the thread's CPU from its own
 * adverts. Each peer address has a token bucket; a datagram over it is dropped and counted before
 * any MAC is computed. The peer's own adverts stay well inside: the budget is several times what
 * its groups send (two adverts per interval each, failover/election/timing.ts), so only a flood is
 * cut, and a flood spoofing the peer costs at most the budget's CPU. (Other sources never reach
 * the budget: they are dropped by address first.)
 */

export interface BudgetRate {
  /** Datagrams per second on average. */
  readonly perSecond: number;
  /** Datagrams at once after a quiet spell. */
  readonly burst: number;
}

/** Headroom over what a peer's groups send: handovers, retransmits, timer jitter. */
const HEADROOM = 4;

/** A peer's budget for groups advertising at these intervals (two adverts per interval each). */
export function budgetFor(advertIntervalsMs: readonly number[]): BudgetRate {
  const adverts = advertIntervalsMs.reduce((n, ms) => n + 2000 / ms, 0);
  const perSecond = Math.max(100, Math.ceil(HEADROOM * adverts));
  return { perSecond, burst: Math.max(20, Math.ceil(perSecond / 5)) };
}

/** A token bucket over an injected monotonic clock (ms). */
export class SourceBudget {
  readonly #rate: BudgetRate;
  #tokens: number;
  #at: number | undefined;

  constructor(rate: BudgetRate) {
    this.#rate = rate;
    this.#tokens = rate.burst;
  }

  /** Spends one datagram's worth at `now`; false when the source is over its budget. */
  take(now: number): boolean {
    if (this.#at !== undefined && now > this.#at) {
      this.#tokens = Math.min(
        this.#rate.burst,
        this.#tokens + ((now - this.#at) * this.#rate.perSecond) / 1000,
      );
    }
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
