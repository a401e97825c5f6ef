/**
 * The one interface every health checker implements, and the small helpers they share.
 *
 * A checker is built once from its check spec (what to ask and what answer counts as healthy) and
 * is then asked `check(target, signal)` for one real server at a time. It never throws and never
 * outlives its deadline: every failure, including a timeout or an abort, is a result with ok=false
 * and a detail an operator can read. When the promise settles, every socket or child process the
 * check opened has been destroyed.
 */

/** Where one check goes: a real server's address and the port to probe. */
export interface CheckTarget {
  /**
   * IPv4 or IPv6 literal of the real server (never the VIP: the RS answers the VIP on lo only).
   * Checkers parse it with core/net: a name fails the check, never a DNS lookup on the check path.
   */
  address: string;
  /** TCP/UDP port; ignored by checkers that do not use one (exec). */
  port: number;
}

export interface CheckResult {
  ok: boolean;
  /** Wall time from the start of the check to its verdict, in ms (fractional). */
  latencyMs: number;
  /** Why it failed, or a short description of the success; never contains secrets. */
  detail: string;
  /** A failure because the check ran out of time (counted apart in metrics). */
  timedOut?: boolean;
}

export interface Checker {
  /** The check kind, for status and logs. */
  readonly kind: string;
  /** The hard timeout this checker enforces on itself, whatever signal it is given. */
  readonly timeoutMs: number;
  check(target: CheckTarget, signal: AbortSignal): Promise<CheckResult>;
}

/**
 * A signal that aborts when the caller's signal does or when `timeoutMs` has passed, whichever is
 * first. `timedOut()` tells the two apart so the detail can say which happened.
 */
export interface Deadline {
  signal: AbortSignal;
  timedOut(): boolean;
  /** Clears the timer; call it when the check settles so no timer outlives the check. */
  dispose(): void;
}

export function deadline(outer: AbortSignal, timeoutMs: number): Deadline {
  const controller = new AbortController();
  let timedOut = false;
  const onOuterAbort = (): void => controller.abort(outer.reason);
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort(new Error(`timeout after ${timeoutMs} ms`));
  }, timeoutMs);
  timer.unref?.();
  if (outer.aborted) onOuterAbort();
  else outer.addEventListener('abort', onOuterAbort, { once: true });
  return {
    signal: controller.signal,
    timedOut: () => timedOut,
    dispose: () => {
      clearTimeout(timer);
      outer.removeEventListener('abort', onOuterAbort);
    },
  };
}

/** Measures latency and turns the outcome of `body` into a CheckResult; exceptions become failures. */
export async function timedCheck(
  outer: AbortSignal,
  timeoutMs: number,
  body: (signal: AbortSignal) => Promise<{ ok: boolean; detail: string }>,
): Promise<CheckResult> {
  const started = performance.now();
  const dl = deadline(outer, timeoutMs);
  try {
    if (dl.signal.aborted) {
      return { ok: false, latencyMs: 0, detail: abortDetail(dl, timeoutMs), timedOut: dl.timedOut() };
    }
    const verdict = await body(dl.signal);
    return { ok: verdict.ok, latencyMs: performance.now() - started, detail: verdict.detail };
  } catch (err) {
    const detail = dl.signal.aborted ? abortDetail(dl, timeoutMs) : errorDetail(err);
    return { ok: false, latencyMs: performance.now() - started, detail, timedOut: dl.timedOut() };
  } finally {
    dl.dispose();
  }
}

function abortDetail(dl: Deadline, timeoutMs: number): string {
  return dl.timedOut() ? `timeout after ${timeoutMs} ms` : 'aborted';
}

/** A one-line description of an error from a socket or process (code first: it is what operators grep). */
export function errorDetail(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/**
 * Resolves when `signal` aborts, rejecting with its reason; the listener is removed by `cleanup`.
 * Checkers race their I/O against this so an abort always settles the check.
 */
export function abortPromise(signal: AbortSignal): { promise: Promise<never>; cleanup: () => void } {
  let onAbort: () => void = () => {};
  const promise = new Promise<never>((_, reject) => {
    onAbort = () => reject(signal.reason ?? new Error('aborted'));
    if (signal.aborted) onAbort();
    else signal.addEventListener('abort', onAbort, { once: true });
  });
  // The race partner may win; an unobserved rejection here must not crash the process.
  promise.catch(() => {});
  return { promise, cleanup: () => signal.removeEventListener('abort', onAbort) };
}

/** Shortens text for a detail string (a body or stderr excerpt), on one line. */
export function excerpt(text: string, max = 120): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > max ? `${oneLine.slice(0, max)}…` : oneLine;
}
