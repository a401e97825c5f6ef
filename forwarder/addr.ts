/**
 * IP and MAC addresses as the forwarder's maps hold them: 16 bytes in network
 * order for either family (IPv4 in bytes 0..3, the rest zero), 6-byte MACs.
 * Text forms are canonical (RFC 5952 for IPv6) so they can serve as identity
 * keys, e.g. Maglev backend keys that must match on every director.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { DsrError } from '../core/errors.ts';

export type Family = 4 | 6;

export interface IpAddr {
  readonly family: Family;
  /** 16 bytes, network order; IPv4 uses the first 4. */
  readonly bytes: Uint8Array;
}

function bad(what: string, value: string): DsrError {
  return new DsrError('E_ADDRESS_INVALID', `${JSON.stringify(value)} is not a valid ${what}`, { value });
}

function parseIpv6Groups(text: string): number[] {
  // An embedded dotted quad (::ffff:198.18.0.1) is rewritten as two hex groups first.
  let s = text;
  if (s.includes('.')) {
    const colon = s.lastIndexOf(':');
    const v4 = parseIp(s.slice(colon + 1)).bytes;
    s = `${s.slice(0, colon + 1)}${((v4[0] << 8) | v4[1]).toString(16)}:${((v4[2] << 8) | v4[3]).toString(16)}`;
  }
  const halves = s.split('::');
  const parse = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((g) => Number.parseInt(g, 16));
  const head = parse(halves[0]);
  const rest = halves.length === 2 ? parse(halves[1]) : [];
  const zeros = halves.length === 2 ? 8 - head.length - rest.length : 0;
  return [...head, ...new Array<number>(Math.max(0, zeros)).fill(0), ...rest];
}

/** Parses an IPv4 or IPv6 address (no brackets, no zone, no prefix). */
export function parseIp(text: string): IpAddr {
  const bytes = new Uint8Array(16);
  if (isIPv4(text)) {
    text.split('.').forEach((octet, i) => {
      bytes[i] = Number(octet);
    });
    return { family: 4, bytes };
  }
  if (isIPv6(text) && !text.includes('%')) {
    const groups = parseIpv6Groups(text);
    if (groups.length !== 8) throw bad('IP address', text);
    groups.forEach((g, i) => {
      bytes[2 * i] = g >> 8;
      bytes[2 * i + 1] = g & 0xff;
    });
    return { family: 6, bytes };
  }
  throw bad('IP address', text);
}

/** Canonical text: dotted quad, or RFC 5952 section 4 (lowercase, longest zero run as ::). */
export function formatIp(addr: IpAddr): string {
  const b = addr.bytes;
  if (addr.family === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((b[2 * i] << 8) | b[2 * i + 1]);
  let bestStart = -1;
  let bestLen = 1; // a single zero group is not shortened (RFC 5952 section 4.2.2)
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (bestStart < 0) return hex(groups);
  return `${hex(groups.slice(0, bestStart))}::${hex(groups.slice(bestStart + bestLen))}`;
}

/** Canonical form of an address given as text. */
export function canonicalIp(text: string): string {
  return formatIp(parseIp(text));
}

/** Netmask bytes for a prefix length (/24, /64 ...), 16 bytes like addresses. */
export function prefixMask(family: Family, prefixLen: number): Uint8Array {
  const bits = family === 4 ? 32 : 128;
  if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > bits) {
    throw new DsrError('E_ADDRESS_INVALID', `prefix length ${prefixLen} is not in 0..${bits}`, {
      family,
      prefixLen,
    });
  }
  const mask = new Uint8Array(16);
  for (let i = 0; i < prefixLen; i++) mask[i >> 3] |= 0x80 >> (i & 7);
  return mask;
}

export function maskBytes(addr: Uint8Array, mask: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 16; i++) out[i] = addr[i] & mask[i];
  return out;
}

export function parseMac(text: string): Uint8Array {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){5}$/.test(text)) throw bad('MAC address', text);
  return Uint8Array.from(text.split(':').map((h) => Number.parseInt(h, 16)));
}

export function formatMac(mac: Uint8Array): string {
  return Array.from(mac.subarray(0, 6), (b) => b.toString(16).padStart(2, '0')).join(':');
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
