/**
 * IP and MAC addresses as text and as the bytes the kernel and the wire use.
 *
 * Parsing is strict (a config or netlink value that is not an address is an error, never a
 * guess); formatting is canonical: dotted quad for IPv4, RFC 5952 §4 for IPv6 (lower case, the
 * longest run of two or more zero groups shortened to "::", the first one on a tie), and
 * lower-case colon-separated hex for MACs.
 */
import { DsrError } from '../errors.ts';

export type IpFamily = 4 | 6;

export interface IpBytes {
  family: IpFamily;
  /** 4 or 16 bytes, network order. */
  bytes: Buffer;
}

function bad(what: string, text: string): never {
  throw new DsrError('E_DECODE', `"${text}" is not a valid ${what}`, { value: text });
}

function parseV4Into(text: string, out: Buffer, at: number): boolean {
  const parts = text.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    const p = parts[i];
    // No leading zeros (ambiguous octal in some parsers), no signs, 0-255.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return false;
    const v = Number(p);
    if (v > 255) return false;
    out[at + i] = v;
  }
  return true;
}

/** 16-bit groups of one side of "::"; a dotted quad may end the address (RFC 4291 §2.2, form 3). */
function groupsOf(part: string, mayEndInV4: boolean): number[] | undefined {
  if (part === '') return [];
  const groups = part.split(':');
  const words: number[] = [];
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    if (mayEndInV4 && i === groups.length - 1 && g.includes('.')) {
      const q = Buffer.alloc(4);
      if (!parseV4Into(g, q, 0)) return undefined;
      words.push(q.readUInt16BE(0), q.readUInt16BE(2));
    } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) {
      words.push(Number.parseInt(g, 16));
    } else {
      return undefined;
    }
  }
  return words;
}

function parseV6(text: string): Buffer | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const head = groupsOf(halves[0], halves.length === 1);
  const tail = halves.length === 2 ? groupsOf(halves[1], true) : [];
  if (head === undefined || tail === undefined) return undefined;
  let words: number[];
  if (halves.length === 2) {
    // "::" stands for at least one zero group.
    if (head.length + tail.length > 7) return undefined;
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    if (head.length !== 8) return undefined;
    words = head;
  }
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(words[i], i * 2);
  return out;
}

/** Parses an IPv4 or IPv6 address (no prefix, no zone). Throws E_DECODE. */
export function parseIp(text: string): IpBytes {
  if (text.includes(':')) {
    const bytes = parseV6(text);
    if (bytes === undefined) bad('IPv6 address', text);
    return { family: 6, bytes };
  }
  const bytes = Buffer.alloc(4);
  if (!parseV4Into(text, bytes, 0)) bad('IPv4 address', text);
  return { family: 4, bytes };
}

export function ipFamily(text: string): IpFamily {
  return parseIp(text).family;
}

/** Formats 4 or 16 bytes as canonical text. Throws E_DECODE on any other length. */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) {
    throw new DsrError('E_DECODE', `an IP address has 4 or 16 bytes, not ${bytes.length}`, {
      length: bytes.length,
    });
  }
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i] << 8) | bytes[i + 1]);
  // RFC 5952 §4.2: shorten the longest run of at least two zero groups, the first on a tie.
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestAt < 0) return hex(words);
  return `${hex(words.slice(0, bestAt))}::${hex(words.slice(bestAt + bestLen))}`;
}

/** Canonical text of an address given as text (e.g. "2001:2:0::1" -> "2001:2::1"). */
export function canonicalIp(text: string): string {
  return formatIp(parseIp(text).bytes);
}

/** Parses "aa:bb:cc:dd:ee:ff" (or with '-'). Throws E_DECODE. */
export function parseMac(text: string): Buffer {
  if (!/^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$/.test(text)) bad('MAC address', text);
  return Buffer.from(text.replace(/[:-]/g, ''), 'hex');
}

export function formatMac(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join(':');
}
