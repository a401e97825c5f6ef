import test from 'ava';
import fc from 'fast-check';
import { fullJitterDelay, isRetryableStatus, parseRetryAfter } from '../../alerts/backoff.ts';

test('full jitter stays within [0, min(cap, base * 2^(n-1))]', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 200 }),
      fc.integer({ min: 0, max: 10_000 }),
      fc.integer({ min: 0, max: 1_000_000 }),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      (retry, base, cap, r) => {
        const d = fullJitterDelay(retry, base, cap, () => r);
        const ceiling = Math.min(cap, base * 2 ** (retry - 1));
        return Number.isInteger(d) && d >= 0 && d <= ceiling;
      },
    ),
  );
  t.is(
    fullJitterDelay(1, 100, 10_000, () => 0.5),
    50,
  );
  t.is(
    fullJitterDelay(4, 100, 10_000, () => 0.5),
    400,
  );
  t.is(
    fullJitterDelay(30, 100, 10_000, () => 0.5),
    5000,
    'capped',
  );
  t.is(
    fullJitterDelay(3, 100, 10_000, () => Number.NaN),
    0,
    'a broken random source cannot produce NaN',
  );
});

test('Retry-After: delay-seconds, HTTP-date, past date, garbage', (t) => {
  const now = Date.parse('2026-01-02T03:04:05Z');
  t.is(parseRetryAfter('120', now), 120_000);
  t.is(parseRetryAfter(' 0 ', now), 0);
  t.is(parseRetryAfter('Fri, 02 Jan 2026 03:04:35 GMT', now), 30_000);
  t.is(parseRetryAfter('Thu, 01 Jan 2026 00:00:00 GMT', now), 0);
  for (const bad of [null, undefined, '', '-5', '1.5', 'soon', '2026-01-02', '99999999999999999999']) {
    t.is(parseRetryAfter(bad, now), null, String(bad));
  }
});

test('retryable statuses', (t) => {
  for (const s of [408, 425, 429, 500, 502, 503, 504]) t.true(isRetryableStatus(s), String(s));
  for (const s of [200, 301, 400, 401, 403, 404, 410, 422]) t.false(isRetryableStatus(s), String(s));
});
