/**
 * Time for the health part, injected so the scheduler and drain logic run under a fake clock in
 * unit tests. `now` is monotonic (intervals, timeouts, damping); `wallNow` is epoch ms, used only
 * where a time must mean the same on another director (drain deadlines carried across failover)
 * or reach an operator (event timestamps).
 */
export interface Timers {
  now(): number;
  wallNow(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemTimers: Timers = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
