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
