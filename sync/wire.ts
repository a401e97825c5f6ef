/**
 * Authenticated encoding of sync messages. All integers big-endian.
 *
 *  off size field
 *    0  2   magic 0xD5E3
 *    2  1   version (1)
 *    3  1   type: 1 data, 2 ack, 3 nack, 4 keepalive, 5 bulk-request, 6 reset, 7 state
 *    4  2   length of the whole datagram, MAC included
 *    6  1   key id
 *    7  1   reserved, 0
 *    8  4   sender node id
 *   12  4   receiver node id: a message to one peer cannot be replayed to another
 *   16  8   session id (core/auth/session.ts)
 *   24  8   authentication sequence number (every datagram, retransmits included)
 *   32  8   timestamp, ms
 *   40  …   body (by type, below)
 *  end-32 32 HMAC-SHA256 over everything before it
 *
 * Bodies: data = seq u64, bulkId u32, flags u8, 3 reserved, entries (entries.ts) to the end;
 * ack = stream u64, upTo u64; nack = stream u64, count u16, 6 reserved, count × (from u64, to u64);
 * keepalive = highest u64; bulk-request = bulkId u32, 4 reserved; reset = from u64;
 * state = stamp u64, origin u32, 4 reserved, payload to the end (at most MAX_STATE_PAYLOAD bytes).
 *
 * Checks on receipt follow core/auth/README.md: parse the header, look up the key, verify the MAC,
 * and only then consult the replay guard; nothing unauthenticated touches any state.
 */
import type { Keyring } from '../core/auth/keyring.ts';
import { MAC_BYTES } from '../core/auth/keyring.ts';
import type { GuardNow, ReplayGuard } from '../core/auth/replay-guard.ts';
import type { SenderSession } from '../core/auth/session.ts';
import { DsrError } from '../core/errors.ts';
import { checkEntries } from './entries.ts';
import { MAX_NACK_RANGES, MAX_STATE_PAYLOAD, type SyncMessage, type SyncMessageType } from './messages.ts';

/** The replay guard's stream name for sync datagrams. */
export const SYNC_STREAM = 'sync';
export const SYNC_MAGIC = 0xd5e3;
export const SYNC_VERSION = 1;
export const HEADER_BYTES = 40;
export const DATA_HEADER_BYTES = 16;
/** Fits a 1500-byte MTU over IPv6 (1500 − 40 − 8 = 1452) with room to spare. */
export const DEFAULT_MAX_DATAGRAM = 1400;

const TYPE_CODE: Record<SyncMessageType, number> = {
  data: 1,
  ack: 2,
  nack: 3,
  keepalive: 4,
  'bulk-request': 5,
  reset: 6,
  state: 7,
};
const TYPE_BY_CODE = new Map(Object.entries(TYPE_CODE).map(([t, c]) => [c, t as SyncMessageType]));

export const SYNC_DROP_REASONS = [
  'too-short',
  'bad-magic',
  'bad-version',
  'bad-length',
  'unknown-type',
  'not-for-us',
  'from-self',
  'unknown-key',
  'bad-mac',
  'replay',
  'stale',
  'malformed-body',
] as const;
export type SyncDropReason = (typeof SYNC_DROP_REASONS)[number];

export type SyncDecode =
  | { ok: true; from: number; session: bigint; message: SyncMessage }
  | { ok: false; reason: SyncDropReason };

const u64 = (n: number) => BigInt(n);

function bodySize(m: SyncMessage): number {
  switch (m.type) {
    case 'data':
      return DATA_HEADER_BYTES + m.entries.length;
    case 'ack':
      return 16;
    case 'nack':
      return 16 + 16 * m.ranges.length;
    case 'keepalive':
    case 'bulk-request':
    case 'reset':
      return 8;
    case 'state':
      return 16 + m.payload.length;
  }
}

function writeBody(buf: Buffer, m: SyncMessage): void {
  const o = HEADER_BYTES;
  switch (m.type) {
    case 'data': {
      buf.writeBigUInt64BE(u64(m.seq), o);
      buf.writeUInt32BE(m.bulkId, o + 8);
      buf.writeUInt8(m.flags, o + 12);
      m.entries.copy(buf, o + DATA_HEADER_BYTES);
      return;
    }
    case 'ack':
      buf.writeBigUInt64BE(m.stream, o);
      buf.writeBigUInt64BE(u64(m.upTo), o + 8);
      return;
    case 'nack':
      if (m.ranges.length > MAX_NACK_RANGES) throw new DsrError('E_DECODE', 'too many NACK ranges', {});
      buf.writeBigUInt64BE(m.stream, o);
      buf.writeUInt16BE(m.ranges.length, o + 8);
      m.ranges.forEach(([a, b], i) => {
        buf.writeBigUInt64BE(u64(a), o + 16 + 16 * i);
        buf.writeBigUInt64BE(u64(b), o + 24 + 16 * i);
      });
      return;
    case 'keepalive':
      buf.writeBigUInt64BE(u64(m.highest), o);
      return;
    case 'bulk-request':
      buf.writeUInt32BE(m.bulkId, o);
      return;
    case 'reset':
      buf.writeBigUInt64BE(u64(m.from), o);
      return;
    case 'state':
      if (m.payload.length > MAX_STATE_PAYLOAD)
        throw new DsrError('E_DECODE', 'shared state too large for one datagram', {
          bytes: m.payload.length,
        });
      buf.writeBigUInt64BE(u64(m.stamp), o);
      buf.writeUInt32BE(m.origin, o + 8);
      m.payload.copy(buf, o + 16);
      return;
  }
}

/** A u64 field as a safe integer, or undefined when it is not one. */
function readSeq(buf: Buffer, off: number): number | undefined {
  const v = buf.readBigUInt64BE(off);
  return v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : undefined;
}

function readBody(type: SyncMessageType, buf: Buffer, end: number): SyncMessage | undefined {
  const o = HEADER_BYTES;
  const len = end - o;
  switch (type) {
    case 'data': {
      if (len < DATA_HEADER_BYTES) return undefined;
      const seq = readSeq(buf, o);
      if (seq === undefined || seq < 1 || buf[o + 13] | buf[o + 14] | buf[o + 15]) return undefined;
      const flags = buf[o + 12];
      if (flags & ~0x03) return undefined;
      if (!checkEntries(buf, o + DATA_HEADER_BYTES, end).ok) return undefined;
      // A view into the datagram (Node gives each datagram a buffer of its own).
      return {
        type,
        seq,
        flags,
        bulkId: buf.readUInt32BE(o + 8),
        entries: buf.subarray(o + DATA_HEADER_BYTES, end),
      };
    }
    case 'ack': {
      const upTo = len === 16 ? readSeq(buf, o + 8) : undefined;
      return upTo === undefined ? undefined : { type, stream: buf.readBigUInt64BE(o), upTo };
    }
    case 'nack': {
      if (len < 16) return undefined;
      const count = buf.readUInt16BE(o + 8);
      if (count < 1 || count > MAX_NACK_RANGES || len !== 16 + 16 * count) return undefined;
      const ranges: [number, number][] = [];
      for (let i = 0; i < count; i++) {
        const a = readSeq(buf, o + 16 + 16 * i);
        const b = readSeq(buf, o + 24 + 16 * i);
        if (a === undefined || b === undefined || a < 1 || b < a) return undefined;
        ranges.push([a, b]);
      }
      return { type, stream: buf.readBigUInt64BE(o), ranges };
    }
    case 'keepalive': {
      const highest = len === 8 ? readSeq(buf, o) : undefined;
      return highest === undefined ? undefined : { type, highest };
    }
    case 'bulk-request':
      return len === 8 && buf.readUInt32BE(o + 4) === 0 ? { type, bulkId: buf.readUInt32BE(o) } : undefined;
    case 'reset': {
      const from = len === 8 ? readSeq(buf, o) : undefined;
      return from === undefined || from < 1 ? undefined : { type, from };
    }
    case 'state': {
      if (len < 16 || len - 16 > MAX_STATE_PAYLOAD || buf.readUInt32BE(o + 12) !== 0) return undefined;
      const stamp = readSeq(buf, o);
      if (stamp === undefined || stamp < 1) return undefined;
      // A copy: the payload outlives the datagram's buffer.
      return {
        type,
        stamp,
        origin: buf.readUInt32BE(o + 8),
        payload: Buffer.from(buf.subarray(o + 16, end)),
      };
    }
  }
}

export interface SyncCodecOptions {
  nodeId: number;
  keyring: Keyring;
  session: SenderSession;
  guard: ReplayGuard;
}

/** Encodes and authenticates outgoing messages; authenticates and decodes incoming ones. */
export class SyncCodec {
  readonly #o: SyncCodecOptions;

  constructor(opts: SyncCodecOptions) {
    this.#o = { ...opts };
  }

  /** Signs and verifies with these keys from the next message on (a key rotation's reload). */
  setKeyring(keyring: Keyring): void {
    this.#o.keyring = keyring;
  }

  get session(): bigint {
    return this.#o.session.id;
  }

  /** Bytes a DATA message may spend on entries within `maxDatagram`. */
  static entryBudget(maxDatagram: number): number {
    return maxDatagram - HEADER_BYTES - DATA_HEADER_BYTES - MAC_BYTES;
  }

  encode(m: SyncMessage, to: number, monoNowMs: number): Buffer {
    const total = HEADER_BYTES + bodySize(m) + MAC_BYTES;
    if (total > 0xffff) throw new DsrError('E_DECODE', 'sync message too large', { total });
    const buf = Buffer.alloc(total);
    const stamp = this.#o.session.next(monoNowMs);
    buf.writeUInt16BE(SYNC_MAGIC, 0);
    buf.writeUInt8(SYNC_VERSION, 2);
    buf.writeUInt8(TYPE_CODE[m.type], 3);
    buf.writeUInt16BE(total, 4);
    buf.writeUInt8(this.#o.keyring.sendKeyId, 6);
    buf.writeUInt32BE(this.#o.nodeId, 8);
    buf.writeUInt32BE(to, 12);
    buf.writeBigUInt64BE(stamp.session, 16);
    buf.writeBigUInt64BE(stamp.seq, 24);
    buf.writeBigUInt64BE(BigInt(stamp.timestampMs), 32);
    writeBody(buf, m);
    this.#o.keyring.sign(buf.subarray(0, total - MAC_BYTES)).copy(buf, total - MAC_BYTES);
    return buf;
  }

  /** Never throws: every malformed or unauthenticated input is a drop reason. */
  decode(buf: Buffer, now: GuardNow): SyncDecode {
    if (buf.length < HEADER_BYTES + MAC_BYTES) return { ok: false, reason: 'too-short' };
    if (buf.readUInt16BE(0) !== SYNC_MAGIC) return { ok: false, reason: 'bad-magic' };
    if (buf[2] !== SYNC_VERSION) return { ok: false, reason: 'bad-version' };
    if (buf.readUInt16BE(4) !== buf.length) return { ok: false, reason: 'bad-length' };
    const type = TYPE_BY_CODE.get(buf[3]);
    if (!type || buf[7] !== 0) return { ok: false, reason: 'unknown-type' };
    const from = buf.readUInt32BE(8);
    if (buf.readUInt32BE(12) !== this.#o.nodeId) return { ok: false, reason: 'not-for-us' };
    if (from === this.#o.nodeId) return { ok: false, reason: 'from-self' };
    const macAt = buf.length - MAC_BYTES;
    const verdict = this.#o.keyring.verify(buf[6], buf.subarray(0, macAt), buf.subarray(macAt));
    if (verdict !== 'ok') return { ok: false, reason: verdict };
    const message = readBody(type, buf, macAt);
    if (!message) return { ok: false, reason: 'malformed-body' };
    const session = buf.readBigUInt64BE(16);
    const seq = buf.readBigUInt64BE(24);
    const ts = buf.readBigUInt64BE(32);
    if (session === 0n || seq === 0n || ts > BigInt(Number.MAX_SAFE_INTEGER))
      return { ok: false, reason: 'malformed-body' };
    const replay = this.#o.guard.accept(
      { peer: from, stream: SYNC_STREAM, session, seq, timestampMs: Number(ts) },
      now,
    );
    if (replay !== 'ok') return { ok: false, reason: replay };
    return { ok: true, from, session, message };
  }
}
