/**
 * The election thread's timers, precise to well under a millisecond.
 *
 * Why not setTimeout alone: libuv counts whole milliseconds from a loop time cached at the start of
 * the loop iteration, so a timer due in 3.4 ms is armed for 4 and may run up to another ms after
 * that. The master-down timer's lateness adds to every unplanned outage (figures: docs/failover.md,
 * "The takeover path").
 *
 * So the libuv timer is armed LEAD_MS early and the rest is slept with Atomics.wait, a futex wait on
 * the kernel's monotonic clock. Pure JavaScript: nothing native is left open when the thread ends
 * (a watched timerfd crashed Node when the worker was terminated with it open).
 *
 * Only takeover deadlines are timed so (`precise`): the thread blocks for at most LEAD_MS + 1 per
 * alarm, and a datagram that arrives meanwhile waits in the socket and is read late, before the
 * runner ticks (afterPendingIo). A backup restarts its master-down timer from when it reads an
 * advert, so blocking before every send (every half interval) would have pushed that timer late;
 * a takeover deadline is only ever reached after ~3 intervals of silence. Sends and peer timeouts
 * use plain setTimeout. Only for a thread that has nothing else to do: on the main thread the
 * blocking would hold up everything.
 */
import { performance } from 'node:perf_hooks';
import type { RunnerTimers } from '../transport/election-runner.ts';

/** How early the libuv timer is armed: its lateness (up to ~2 ms) plus the cached loop time. */
const LEAD_MS = 2;

export function preciseTimers(now: () => number = () => performance.now()): RunnerTimers {
  // Nobody notifies this cell: Atomics.wait on it is a sleep that ends at its timeout.
  const cell = new Int32Array(new SharedArrayBuffer(4));
  let timeout: ReturnType<typeof setTimeout> | undefined;
  let immediate: ReturnType<typeof setImmediate> | undefined;

  const cancel = (): void => {
    clearTimeout(timeout);
    clearImmediate(immediate);
    timeout = undefined;
    immediate = undefined;
  };

  const schedule = (fn: () => void, due: number): void => {
    const fire = (): void => {
      timeout = undefined;
      immediate = undefined;
      const rest = due - now();
      // A libuv timer runs early when the cached loop time was behind; past the lead, arm again
      // rather than block the thread for long.
      if (rest > LEAD_MS + 1) {
        schedule(fn, due);
        return;
      }
      if (rest > 0) Atomics.wait(cell, 0, 0, rest);
      fn();
    };
    const coarse = Math.floor(due - now() - LEAD_MS);
    // setTimeout never waits less than 1 ms: a deadline within the lead (a master-down deadline
    // just after a send) is slept out from the next turn of the loop instead.
    if (coarse >= 1) timeout = setTimeout(fire, coarse);
    else immediate = setImmediate(fire);
  };

  return {
    arm: (fn, delayMs, precise) => {
      cancel();
      if (precise) schedule(fn, now() + delayMs);
      else timeout = setTimeout(fn, Math.ceil(delayMs));
    },
    disarm: cancel,
    afterPendingIo: (fn) => setImmediate(fn),
  };
}
