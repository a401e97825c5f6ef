/**
 * IP addresses as text and as the bytes the kernel and the wire use (4 or 16, network order).
 *
 * Parsing is strict: a dotted quad without leading zeros (ambiguous octal in some parsers), or an
 * IPv6 address in any RFC 4291 §2.2 form, and nothing else: no prefix, no brackets, no zone id
 * (`%eth0`: the addresses of a director are global, not link-scoped), no whitespace. A text that
 * is not an address is an error, never a guess.
 *
 * Formatting is canonical, so that text can serve as an identity: config fingerprints and
 * duplicate checks, Maglev backend keys that must match on every director, VIPs compared with the
 * kernel's. The canonical IPv6 text is the one the WHATWG URL host serializer also produces.
 */
import { DsrError } from '../errors.ts';

export type IpFamily = 4 | 6;

export interface IpAddress {
  readonly family: IpFamily;
  /** 4 or 16 bytes, network order. */
  readonly bytes: Buffer;
}

function invalid(text: string): DsrError {
  return new DsrError(
    'E_ADDRESS_INVALID',
    `${JSON.stringify(text)} is not an IP address (IPv4 dotted quad or IPv6, without prefix or zone)`,
    { value: text },
  );
}

function parseV4Into(text: string, out: Buffer, at: number): boolean {
  const parts = text.split('.');
  if (parts.length !== 4) return false;
  for (let i = 0; i < 4; i++) {
    // No leading zeros, no signs, 0-255.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(parts[i])) return false;
    const v = Number(parts[i]);
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

/** The address, or null when `text` is not one. */
export function tryParseIp(text: string): IpAddress | null {
  if (text.includes(':')) {
    const bytes = parseV6(text);
    return bytes === undefined ? null : { family: 6, bytes };
  }
  const bytes = Buffer.alloc(4);
  return parseV4Into(text, bytes, 0) ? { family: 4, bytes } : null;
}

/** Parses an IPv4 or IPv6 address. Throws E_ADDRESS_INVALID. */
export function parseIp(text: string): IpAddress {
  const ip = tryParseIp(text);
  if (ip === null) throw invalid(text);
  return ip;
}

/** 4 or 6, or null when `text` is not an address. */
export function ipFamily(text: string): IpFamily | null {
  return tryParseIp(text)?.family ?? null;
}

/**
 * Canonical text of 4 or 16 bytes: dotted quad, or IPv6 per RFC 5952 §4. Throws E_ADDRESS_INVALID
 * on any other length.
 */
export function formatIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) {
    throw new DsrError('E_ADDRESS_INVALID', `an IP address has 4 or 16 bytes, not ${bytes.length}`, {
      length: bytes.length,
    });
  }
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((bytes[i] << 8) | bytes[i + 1]);
  // §4.2.1-4.2.3: "::" shortens the longest run of zero groups, only a run of two or more, the
  // first run on a tie.
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
  // §4.1: no leading zeros in a group; §4.3: lower-case hex. A v4-mapped address stays in hex
  // (not the dotted tail RFC 5952 §5 recommends), as the URL serializer writes it: config
  // fingerprints hash this text.
  const hex = (ws: number[]): string => ws.map((w) => w.toString(16)).join(':');
  if (bestAt < 0) return hex(words);
  return `${hex(words.slice(0, bestAt))}::${hex(words.slice(bestAt + bestLen))}`;
}

/** Canonical text of an address given as text ("2001:2:0::1" -> "2001:2::1"). Throws E_ADDRESS_INVALID. */
export function canonicalIp(text: string): string {
  return formatIp(parseIp(text).bytes);
}
