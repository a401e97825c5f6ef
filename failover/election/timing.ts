/**
 * VRRP timers, RFC 5798 §6.1, in milliseconds instead of centiseconds.
 * We never use priority 255 (the address owner): directors hold VIPs only while elected.
 */

export const MIN_PRIORITY = 1;
export const MAX_PRIORITY = 254;

/** RFC 5798 §6.1: Skew_Time = ((256 − Priority) × Master_Adver_Interval) / 256. */
export function skewTimeMs(priority: number, masterAdverIntervalMs: number): number {
  return ((256 - priority) * masterAdverIntervalMs) / 256;
}

/** RFC 5798 §6.1: Master_Down_Interval = (3 × Master_Adver_Interval) + Skew_Time. */
export function masterDownIntervalMs(priority: number, masterAdverIntervalMs: number): number {
  return 3 * masterAdverIntervalMs + skewTimeMs(priority, masterAdverIntervalMs);
}

/**
 * Adverts (and backup heartbeats) a director sends per advertisement interval (the daemon's
 * setting; the state machine's own default is 1, plain VRRP). Detection still follows RFC 5798
 * (Master_Down_Interval = 3 × interval + skew, from the interval in the packet), but with two sends
 * per interval a backup takes over only after about 7 lost in a row instead of 3: with 5% random
 * loss on the control path that is 0.05^7 ≈ 8e-10 per send instead of 0.05^3 ≈ 1.3e-4, which at a
 * 20 ms interval is several false failovers an hour (measured: docs/failover.md).
 */
export const ADVERTS_PER_INTERVAL = 2;
