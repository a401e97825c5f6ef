/**
 * The main thread's liveness, as the election thread sees it (issue 21, item 2). Tracked
 * conditions, VIP adds and refreshes, health, drains and the sync all run on dsrd's main thread;
 * the election runs on a thread of its own and would advertise at full priority through a hang of
 * the main thread: a master whose uplink drops during the hang keeps its VIP, and a hung backup can
 * win an election and never add the VIP. So the main thread beats into shared memory, and the
 * election thread makes every group Fault (a master leaves at once: its next adverts say Fault and
 * the backup takes over, RFC 5798 §6.4.3 as for a shutdown) while the beat is older than
 * STALE_AFTER_MS.
 *
 * The bound: longer than any stall the main thread has in normal work (the longest we saw is the
 * start-up's module compile, about half a second; the event-loop stall detector reports anything
 * over 250 ms) and shorter than the watchdog (WatchdogSec=10s), which kills a process that stays
 * hung. A whole-process pause (SIGSTOP, a VM pause) stops both threads: that is the election's
 * own stall detection (group-core.ts #selfFence), so a gap in the election thread's own checks
 * restarts the count from when it ran again.
 */

/** The tracked condition (fault) the election thread sets on every group while the beat is stale. */
export const MAIN_THREAD_CONDITION = 'main-thread';

/** A beat older than this makes the groups Fault. */
export const STALE_AFTER_MS = 2000;
/** How often the main thread beats, and the election thread looks. */
export const BEAT_MS = 100;

/** The main thread's side: a Float64Array(1) over shared memory, the time of the last beat. */
export class MainHeartbeat {
  readonly buffer = new SharedArrayBuffer(8);
  readonly #beat = new Float64Array(this.buffer);

  /** `now` in the main thread's performance.now() clock (the election thread's clock too). */
  beat(now: number): void {
    this.#beat[0] = now;
  }
}

/** The election thread's side: whether the main thread is stale now (pure but for the shared read). */
export class HeartbeatWatch {
  readonly #beat: Float64Array;
  readonly #staleAfterMs: number;
  #lastLook: number | undefined;
  /** The election thread's own last resume after a gap: the count starts no earlier. */
  #countFrom = Number.NEGATIVE_INFINITY;

  constructor(buffer: SharedArrayBuffer, staleAfterMs = STALE_AFTER_MS) {
    this.#beat = new Float64Array(buffer);
    this.#staleAfterMs = staleAfterMs;
  }

  /** Called every BEAT_MS on the election thread; true while the main thread counts as hung. */
  stale(now: number): boolean {
    // The first look, or the first after this thread itself did not run: count from now.
    if (this.#lastLook === undefined || now - this.#lastLook > 4 * BEAT_MS) this.#countFrom = now;
    this.#lastLook = now;
    const since = Math.max(this.#beat[0], this.#countFrom);
    return now - since > this.#staleAfterMs;
  }
}
