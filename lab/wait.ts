/**
 * Waiting, for tests, benchmarks and the demo: a pause, and polling a condition until it holds,
 * bounded, failing with an error that names what was waited for (and, when asked, the last state
 * seen), so a timed-out wait in a lab log says what did not happen.
 */
import { DsrError } from '../core/errors.ts';

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export interface WaitOptions {
  /** Give up after this long, ms (default 10 000). */
  limitMs?: number;
  /** Pause between polls, ms (default 25). */
  everyMs?: number;
  /** Appended to the timeout error: the last state seen, say. */
  detail?: () => string;
}

/** A number is the time limit, ms. */
export type WaitLimit = number | WaitOptions;

/**
 * Polls `get` until it gives a value other than undefined, and returns that value. Throws
 * E_TIMEOUT naming `what` once `limitMs` has passed without one (`get` is asked at least once).
 */
export async function waitFor<T>(
  what: string,
  get: () => T | undefined | Promise<T | undefined>,
  limit: WaitLimit = {},
): Promise<T> {
  const { limitMs = 10_000, everyMs = 25, detail } = typeof limit === 'number' ? { limitMs: limit } : limit;
  const deadline = performance.now() + limitMs;
  for (;;) {
    const value = await get();
    if (value !== undefined) return value;
    if (performance.now() >= deadline) {
      const seen = detail === undefined ? '' : `; ${detail()}`;
      throw new DsrError('E_TIMEOUT', `${what}: not reached in ${limitMs} ms${seen}`, { what, limitMs });
    }
    await sleep(everyMs);
  }
}

/** Polls `pred` until it holds (see waitFor); returns how long that took, ms. */
export async function until(
  what: string,
  pred: () => boolean | Promise<boolean>,
  limit: WaitLimit = {},
): Promise<number> {
  const t0 = performance.now();
  await waitFor(what, async () => ((await pred()) ? true : undefined), limit);
  return performance.now() - t0;
}
