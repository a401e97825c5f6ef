/**
 * Retry timing, pure: exponential backoff with "full jitter" (AWS Architecture
 * Blog, "Exponential Backoff And Jitter": sleep = random(0, min(cap, base * 2^n)))
 * and the HTTP Retry-After header (RFC 9110 section 10.2.3: either
 * delay-seconds or an HTTP-date).
 */

/** Delay before retry number `retry` (1 for the first retry). `random` returns [0, 1). */
export function fullJitterDelay(retry: number, baseMs: number, capMs: number, random: () => number): number {
  const exp = Math.min(capMs, baseMs * 2 ** Math.max(0, Math.min(retry - 1, 52)));
  const r = random();
  const unit = Number.isFinite(r) ? Math.min(Math.max(r, 0), 1) : 0;
  return Math.floor(unit * exp);
}

/**
 * Milliseconds the server asked us to wait, or null when the header is absent
 * or unreadable. A date in the past means "now" (0).
 */
export function parseRetryAfter(value: string | null | undefined, nowMs: number): number | null {
  if (value === null || value === undefined) return null;
  const v = value.trim();
  if (v === '') return null;
  if (/^\d+$/.test(v)) {
    const s = Number(v);
    return Number.isSafeInteger(s) ? s * 1000 : null;
  }
  // HTTP-date (IMF-fixdate or the obsolete forms Date.parse also reads); must name a weekday or month.
  if (!/[A-Za-z]{3}/.test(v)) return null;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}

/** Statuses worth retrying: timeouts, rate limits and server errors. Other 4xx are permanent. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}
