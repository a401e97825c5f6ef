/**
 * Whether the forwarder's last flow count may answer a drain.
 *
 * Flows are counted by walking the connection table on the sweep (every 10 s by default), so the
 * last count can predate connections opened just before a drain began: read as "no flows left",
 * it would end the drain at once while those connections are still open. A drain therefore
 * wants a count whose walk began after it started; until one exists there is no answer (the
 * drain waits for the next tick) and the caller should start a walk now rather than at the next
 * sweep.
 *
 * Times are one monotonic clock (performance.now() in the daemon), injected for tests.
 */
export class FlowCountFreshness {
  /** When the walk behind the last finished count began. */
  #countedAt = Number.NEGATIVE_INFINITY;
  /** Counts whose walk began before this are stale. */
  #wantedAfter = Number.NEGATIVE_INFINITY;

  /** A drain began at `now`: counts from walks begun earlier no longer answer it. */
  want(now: number): void {
    this.#wantedAfter = Math.max(this.#wantedAfter, now);
  }

  /** A count finished; `walkStartedAt` is when its walk began. */
  counted(walkStartedAt: number): void {
    this.#countedAt = Math.max(this.#countedAt, walkStartedAt);
  }

  /** The last count saw every flow opened before the latest drain began. */
  get fresh(): boolean {
    return this.#countedAt >= this.#wantedAfter;
  }
}
