/**
 * The netlink wire format (RFC 3549 §2.3.2, Linux linux/netlink.h): a datagram holds one or more
 * messages, each a 16-byte nlmsghdr followed by a family header and a list of attributes (rtattr:
 * u16 length, u16 type, value), everything padded to 4 bytes. Host byte order (little endian here).
 *
 * Pure codec: no I/O. Decoding bounds-checks every length against the buffer and throws a DsrError
 * (E_DECODE) on anything malformed, so a bad datagram is a clear error, never an out-of-range read.
 */
import { DsrError } from '../errors.ts';
import {
  NLA_TYPE_MASK,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSGERR_ATTR_MSG,
  NLMSGERR_ATTR_OFFS,
  RTA_HDRLEN,
} from './constants.ts';

export interface NetlinkHeader {
  type: number;
  flags: number;
  seq: number;
  /** Port id: 0 for the kernel (as sender or destination). */
  pid: number;
}

/** A request ready for the socket, which fills in seq and pid. */
export interface NetlinkRequest {
  type: number;
  flags: number;
  payload: Buffer;
}

export interface NetlinkMessage extends NetlinkHeader {
  /** Bytes after the header up to nlmsg_len (family header and attributes). */
  payload: Buffer;
}

export function align4(n: number): number {
  return (n + 3) & ~3;
}

function malformed(what: string, context: Record<string, unknown>): never {
  throw new DsrError('E_DECODE', `malformed netlink data: ${what}`, context);
}

export function encodeMessage(header: NetlinkHeader, payload: Buffer): Buffer {
  const length = NLMSG_HDRLEN + payload.length;
  const out = Buffer.alloc(align4(length));
  out.writeUInt32LE(length, 0);
  out.writeUInt16LE(header.type, 4);
  out.writeUInt16LE(header.flags, 6);
  out.writeUInt32LE(header.seq >>> 0, 8);
  out.writeUInt32LE(header.pid >>> 0, 12);
  payload.copy(out, NLMSG_HDRLEN);
  return out;
}

/** Splits a received datagram into its messages. Payloads are views into `datagram`. */
export function decodeMessages(datagram: Buffer): NetlinkMessage[] {
  const out: NetlinkMessage[] = [];
  let at = 0;
  while (at < datagram.length) {
    const left = datagram.length - at;
    if (left < NLMSG_HDRLEN) malformed(`${left} trailing bytes, shorter than a header`, { at });
    const length = datagram.readUInt32LE(at);
    if (length < NLMSG_HDRLEN || length > left) {
      malformed(`message length ${length} outside 16..${left}`, { at, length });
    }
    out.push({
      type: datagram.readUInt16LE(at + 4),
      flags: datagram.readUInt16LE(at + 6),
      seq: datagram.readUInt32LE(at + 8),
      pid: datagram.readUInt32LE(at + 12),
      payload: datagram.subarray(at + NLMSG_HDRLEN, at + length),
    });
    at += align4(length);
  }
  return out;
}

export type AttrList = ReadonlyArray<readonly [type: number, value: Buffer]>;

export function encodeAttrs(attrs: AttrList): Buffer {
  const parts: Buffer[] = [];
  for (const [type, value] of attrs) {
    const length = RTA_HDRLEN + value.length;
    if (length > 0xffff)
      throw new DsrError('E_NETLINK', `attribute ${type} too long (${value.length} bytes)`, {});
    const a = Buffer.alloc(align4(length));
    a.writeUInt16LE(length, 0);
    a.writeUInt16LE(type, 2);
    value.copy(a, RTA_HDRLEN);
    parts.push(a);
  }
  return Buffer.concat(parts);
}

/**
 * Decodes a run of attributes into type -> value (flag bits masked off). If a type repeats, the
 * first occurrence is kept: the messages handled here never repeat a top-level attribute.
 */
export function decodeAttrs(buf: Buffer): Map<number, Buffer> {
  const attrs = new Map<number, Buffer>();
  let at = 0;
  while (at < buf.length) {
    const left = buf.length - at;
    if (left < RTA_HDRLEN) malformed(`${left} trailing bytes in an attribute list`, { at });
    const length = buf.readUInt16LE(at);
    if (length < RTA_HDRLEN || length > left) {
      malformed(`attribute length ${length} outside 4..${left}`, { at, length });
    }
    const type = buf.readUInt16LE(at + 2) & NLA_TYPE_MASK;
    if (!attrs.has(type)) attrs.set(type, buf.subarray(at + RTA_HDRLEN, at + length));
    at += align4(length);
  }
  return attrs;
}

export function u8(v: number): Buffer {
  return Buffer.from([v & 0xff]);
}

export function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v >>> 0, 0);
  return b;
}

/** A NUL-terminated string attribute value. */
export function cstr(s: string): Buffer {
  return Buffer.concat([Buffer.from(s, 'utf8'), Buffer.alloc(1)]);
}

export function readU32(value: Buffer, what: string): number {
  if (value.length < 4) malformed(`${what} is ${value.length} bytes, expected 4`, { what });
  return value.readUInt32LE(0);
}

export function readU8(value: Buffer, what: string): number {
  if (value.length < 1) malformed(`${what} is empty`, { what });
  return value[0];
}

export function readCstr(value: Buffer): string {
  const end = value.indexOf(0);
  return value.toString('utf8', 0, end < 0 ? value.length : end);
}

export interface NetlinkAck {
  /** 0 for an ACK, else a positive errno. */
  errno: number;
  /** Header of the request this answers (seq identifies it). */
  request: NetlinkHeader;
  /** The kernel's extended-ack text (NETLINK_EXT_ACK), when it gave one. */
  message?: string;
  /** Offset of the offending attribute in the request, when the kernel named one. */
  offset?: number;
}

/** Decodes the payload of an NLMSG_ERROR message (struct nlmsgerr plus extended-ack TLVs). */
export function decodeAck(msg: NetlinkMessage): NetlinkAck {
  if (msg.type !== NLMSG_ERROR) malformed(`message type ${msg.type} is not NLMSG_ERROR`, { type: msg.type });
  const p = msg.payload;
  if (p.length < 4 + NLMSG_HDRLEN) malformed(`NLMSG_ERROR payload of ${p.length} bytes`, {});
  const error = p.readInt32LE(0);
  if (error > 0) malformed(`NLMSG_ERROR with positive error ${error}`, { error });
  const reqLength = p.readUInt32LE(4);
  const ack: NetlinkAck = {
    errno: error === 0 ? 0 : -error,
    request: {
      type: p.readUInt16LE(8),
      flags: p.readUInt16LE(10),
      seq: p.readUInt32LE(12),
      pid: p.readUInt32LE(16),
    },
  };
  if ((msg.flags & NLM_F_ACK_TLVS) === 0) return ack;
  // The echoed request is cut to its header when capped, else carried whole.
  const echoed = (msg.flags & NLM_F_CAPPED) !== 0 ? NLMSG_HDRLEN : align4(reqLength);
  if (echoed < NLMSG_HDRLEN || 4 + echoed > p.length) {
    malformed(`extended ack echoes ${reqLength} bytes in a ${p.length}-byte payload`, {});
  }
  const tlvs = decodeAttrs(p.subarray(4 + echoed));
  const text = tlvs.get(NLMSGERR_ATTR_MSG);
  if (text !== undefined) ack.message = readCstr(text);
  const offs = tlvs.get(NLMSGERR_ATTR_OFFS);
  if (offs !== undefined) ack.offset = readU32(offs, 'NLMSGERR_ATTR_OFFS');
  return ack;
}
