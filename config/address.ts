/**
 * IP address helpers for the config: validation, family and one canonical spelling.
 *
 * Addresses are normalised when the config is built so that `2001:2:0::10` and `2001:2::10`
 * compare equal in the fingerprint, the diff and duplicate checks.
 */
import { isIPv4, isIPv6 } from 'node:net';

export type IpFamily = 4 | 6;

/** IPv4 dotted quad or IPv6 without a zone id (`%eth0`): config addresses are global, not link-scoped. */
export function ipFamily(text: string): IpFamily | null {
  if (isIPv4(text)) return 4;
  if (!text.includes('%') && isIPv6(text)) return 6;
  return null;
}

/**
 * RFC 5952 text form for IPv6 (lower case, longest zero run compressed), dotted quad for IPv4.
 * The WHATWG URL host serializer implements exactly the RFC 5952 §4 rules.
 */
export function normalizeIp(text: string): string {
  const family = ipFamily(text);
  if (family === 4) return text;
  if (family === 6) return new URL(`http://[${text}]`).hostname.slice(1, -1);
  throw new TypeError(`not an IP address: ${text}`);
}

function ipv4Octets(text: string): number[] {
  return text.split('.').map(Number);
}

function ipv6FirstHextet(normalized: string): number {
  const head = normalized.split(':')[0];
  return head === '' ? 0 : Number.parseInt(head, 16);
}

/** Multicast: 224.0.0.0/4 (RFC 5771) and ff00::/8 (RFC 4291 §2.7). */
export function isMulticast(text: string): boolean {
  const family = ipFamily(text);
  if (family === 4) {
    const first = ipv4Octets(text)[0];
    return first >= 224 && first <= 239;
  }
  if (family === 6) return ipv6FirstHextet(normalizeIp(text)) >= 0xff00;
  return false;
}

/**
 * An address a host can own and answer for: not unspecified, loopback, multicast, broadcast or
 * (IPv6) link-local. VIPs, real servers and peers must be such addresses.
 */
export function isUsableUnicast(text: string): boolean {
  const family = ipFamily(text);
  if (family === 4) {
    const [a] = ipv4Octets(text);
    if (a === 0 || a === 127 || a >= 224) return false;
    return true;
  }
  if (family === 6) {
    const n = normalizeIp(text);
    if (n === '::' || n === '::1') return false;
    const first = ipv6FirstHextet(n);
    if (first >= 0xff00) return false;
    if ((first & 0xffc0) === 0xfe80) return false;
    return true;
  }
  return false;
}

export interface HostPort {
  host: string;
  port: number;
}

/** `198.18.0.1:9779`, `[2001:2::1]:9779` (RFC 3986 §3.2.2 brackets for IPv6). Null when malformed. */
export function parseHostPort(text: string): HostPort | null {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (!m) return null;
  const host = m[1] ?? m[2];
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return null;
  const family = ipFamily(host);
  if (family === null) return null;
  if (family === 6 && m[1] === undefined) return null;
  if (family === 4 && m[1] !== undefined) return null;
  return { host: normalizeIp(host), port };
}

export function formatHostPort(hp: HostPort): string {
  return ipFamily(hp.host) === 6 ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}
