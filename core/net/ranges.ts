/**
 * Special-purpose ranges: which addresses a host can own, which are multicast groups. Both take
 * text and answer false for a text that is not an address.
 */
import { tryParseIp } from './ip.ts';

/** Multicast: 224.0.0.0/4 (RFC 5771) and ff00::/8 (RFC 4291 §2.7). */
export function isMulticast(text: string): boolean {
  const ip = tryParseIp(text);
  if (ip === null) return false;
  return ip.family === 4 ? ip.bytes[0] >= 224 && ip.bytes[0] <= 239 : ip.bytes[0] === 0xff;
}

/**
 * An address a host can own and answer for: not unspecified, loopback, multicast, broadcast or
 * reserved (IPv4 0/8, 127/8, 224/3), nor (IPv6) ::, ::1, ff00::/8 or link-local fe80::/10
 * (RFC 4291 §2.5.2, §2.5.3, §2.7, §2.5.6). VIPs, real servers and peers must be such addresses.
 */
export function isUsableUnicast(text: string): boolean {
  const ip = tryParseIp(text);
  if (ip === null) return false;
  const b = ip.bytes;
  if (ip.family === 4) return b[0] !== 0 && b[0] !== 127 && b[0] < 224;
  if (b.subarray(0, 15).every((x) => x === 0) && b[15] <= 1) return false;
  if (b[0] === 0xff) return false;
  return !(b[0] === 0xfe && (b[1] & 0xc0) === 0x80);
}
