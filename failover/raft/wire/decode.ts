/**
 * Strict decoding of Raft packets (./layout.ts). Every input ends as a message or a typed drop
 * reason (../../drop-reasons.ts); nothing is thrown. The order of checks is core/auth/README.md's:
 * structure, key id and MAC, then fields, then the caller's admission, and the replay guard last,
 * so forged input never moves replay state.
 */
import type { Keyring } from '../../../core/auth/keyring.ts';
import type { GuardNow, ReplayGuard } from '../../../core/auth/replay-guard.ts';
import type { DropReason } from '../../drop-reasons.ts';
import type { Entry, RaftMessage, RaftMessageType } from '../types.ts';
import {
  FIXED_BODY_BYTES,
  FLAG,
  HEADER_BYTES,
  MAC_BYTES,
  MAX_PACKET_BYTES,
  OFF,
  RAFT_MAGIC,
  RAFT_TYPE_BY_CODE,
  RAFT_VERSION,
} from './layout.ts';

export interface RaftPacketAuth {
  readonly keyId: number;
  readonly session: bigint;
  readonly seq: bigint;
  readonly timestampMs: number;
}

export type RaftDecodeResult =
  | {
      readonly ok: true;
      readonly message: RaftMessage;
      readonly to: number;
      /** The sender's election timeout (ms). */
      readonly electionTimeoutMs: number;
      readonly auth: RaftPacketAuth;
    }
  /** `from` only when the packet was authenticated (never trust it otherwise). */
  | { readonly ok: false; readonly reason: DropReason; readonly from?: number };

/** Replay stream name of Raft packets in the ReplayGuard. */
export const RAFT_STREAM = 'raft';

const drop = (reason: DropReason, from?: number): RaftDecodeResult =>
  from === undefined ? { ok: false, reason } : { ok: false, reason, from };

/** Structure, authentication and field checks; no replay state. */
export function parseRaftPacket(bytes: Uint8Array, keyring: Keyring): RaftDecodeResult {
  try {
    return parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), keyring);
  } catch {
    return drop('decoder-error'); // unreachable by design (the fuzz test holds it to that)
  }
}

/** Reads the body; null on any field out of range or a length that does not add up. */
class BodyReader {
  at = OFF.term;
  readonly #buf: Buffer;
  readonly #end: number;
  constructor(buf: Buffer) {
    this.#buf = buf;
    this.#end = buf.length - MAC_BYTES;
  }
  u64(): number | null {
    if (this.at + 8 > this.#end) return null;
    const value = this.#buf.readBigUInt64BE(this.at);
    this.at += 8;
    return value > BigInt(Number.MAX_SAFE_INTEGER) ? null : Number(value);
  }
  f64(): number | null {
    if (this.at + 8 > this.#end) return null;
    const value = this.#buf.readDoubleBE(this.at);
    this.at += 8;
    return Number.isFinite(value) ? value : null;
  }
  u32(): number | null {
    if (this.at + 4 > this.#end) return null;
    const value = this.#buf.readUInt32BE(this.at);
    this.at += 4;
    return value;
  }
  data(): Uint8Array | null {
    const length = this.u32();
    if (length === null || this.at + length > this.#end) return null;
    const data = new Uint8Array(this.#buf.subarray(this.at, this.at + length));
    this.at += length;
    return data;
  }
  get done(): boolean {
    return this.at === this.#end;
  }
}

function parse(buf: Buffer, keyring: Keyring): RaftDecodeResult {
  if (buf.length < HEADER_BYTES + MAC_BYTES) return drop('too-short');
  if (buf.readUInt16BE(OFF.magic) !== RAFT_MAGIC) return drop('bad-magic');
  if (buf.readUInt8(OFF.version) !== RAFT_VERSION) return drop('bad-version');
  const type = RAFT_TYPE_BY_CODE.get(buf.readUInt8(OFF.type));
  if (type === undefined) return drop('bad-type');
  const length = buf.readUInt32BE(OFF.length);
  if (
    length !== buf.length ||
    length > MAX_PACKET_BYTES ||
    length < HEADER_BYTES + FIXED_BODY_BYTES[type] + MAC_BYTES
  ) {
    return drop('bad-length');
  }
  const keyId = buf.readUInt8(OFF.keyId);
  const verdict = keyring.verify(
    keyId,
    buf.subarray(0, length - MAC_BYTES),
    buf.subarray(length - MAC_BYTES),
  );
  if (verdict !== 'ok') return drop(verdict);

  // Authenticated from here on: a bad field is a peer bug or an incompatible peer, not an attack.
  const from = buf.readUInt32BE(OFF.from);
  const to = buf.readUInt32BE(OFF.to);
  const flags = buf.readUInt8(OFF.flags);
  const session = buf.readBigUInt64BE(OFF.session);
  const seq = buf.readBigUInt64BE(OFF.seq);
  const timestamp = buf.readBigUInt64BE(OFF.timestamp);
  const bad = () => drop('bad-field', from);
  const flagged =
    type === 'pre-vote-response' || type === 'vote-response' || type === 'append-response' || type === 'vote';
  const electionTimeoutMs = buf.readUInt16BE(OFF.timeout);
  if ((flags & ~(flagged ? FLAG : 0)) !== 0 || electionTimeoutMs === 0) return bad();
  if (from === 0 || to === 0 || to === from) return bad();
  if (session === 0n || seq === 0n || timestamp > BigInt(Number.MAX_SAFE_INTEGER)) return bad();
  const body = new BodyReader(buf);
  const message = readBody(type, from, (flags & FLAG) !== 0, body);
  if (message === null || !body.done) return bad();
  const auth = { keyId, session, seq, timestampMs: Number(timestamp) };
  return { ok: true, message, to, electionTimeoutMs, auth };
}

function readBody(type: RaftMessageType, from: number, flag: boolean, body: BodyReader): RaftMessage | null {
  const term = body.u64();
  if (term === null) return null;
  switch (type) {
    case 'pre-vote':
    case 'vote': {
      const lastIndex = body.u64();
      const lastTerm = body.u64();
      if (lastIndex === null || lastTerm === null) return null;
      return type === 'vote'
        ? { type, from, term, lastIndex, lastTerm, transfer: flag }
        : { type, from, term, lastIndex, lastTerm };
    }
    case 'pre-vote-response':
    case 'vote-response':
      return { type, from, term, granted: flag };
    case 'timeout-now':
      return { type, from, term };
    case 'append-response': {
      const index = body.u64();
      const stamp = body.f64();
      return index === null || stamp === null ? null : { type, from, term, success: flag, index, stamp };
    }
    case 'append':
      return readAppend(from, term, body);
    case 'snapshot': {
      const stamp = body.f64();
      const index = body.u64();
      const snapshotTerm = body.u64();
      const data = body.data();
      if (stamp === null || index === null || snapshotTerm === null || data === null || snapshotTerm > term)
        return null;
      return { type, from, term, stamp, snapshot: { index, term: snapshotTerm, data } };
    }
  }
}

function readAppend(from: number, term: number, body: BodyReader): RaftMessage | null {
  const prevIndex = body.u64();
  const prevTerm = body.u64();
  const commit = body.u64();
  const stamp = body.f64();
  const count = body.u32();
  if (prevIndex === null || prevTerm === null || commit === null || stamp === null || count === null)
    return null;
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const index = body.u64();
    const entryTerm = body.u64();
    const data = body.data();
    // Entries follow prevIndex one by one, with terms that never go down and never pass the leader's.
    if (index !== prevIndex + 1 + i || entryTerm === null || data === null) return null;
    if (entryTerm > term || entryTerm < (entries.at(-1)?.term ?? prevTerm)) return null;
    entries.push({ index, term: entryTerm, data });
  }
  return { type: 'append', from, term, prevIndex, prevTerm, entries, commit, stamp };
}

/** The receive path: parse and authenticate, admit, then the replay guard. */
export class RaftDecoder {
  readonly #keyring: Keyring;
  readonly #guard: ReplayGuard;

  constructor(keyring: Keyring, guard: ReplayGuard) {
    this.#keyring = keyring;
    this.#guard = guard;
  }

  get guard(): ReplayGuard {
    return this.#guard;
  }

  /**
   * @param admit checks an authenticated message (addressed to us, from a voter at its address)
   *   before the replay guard records it: a refused copy must not use up its sequence number.
   */
  decode(
    bytes: Uint8Array,
    now: GuardNow,
    admit: (message: RaftMessage, to: number, electionTimeoutMs: number) => DropReason | null,
  ): RaftDecodeResult {
    const parsed = parseRaftPacket(bytes, this.#keyring);
    if (!parsed.ok) return parsed;
    const refused = admit(parsed.message, parsed.to, parsed.electionTimeoutMs);
    if (refused !== null) return drop(refused, parsed.message.from);
    const { session, seq, timestampMs } = parsed.auth;
    const verdict = this.#guard.accept(
      { peer: parsed.message.from, stream: RAFT_STREAM, session, seq, timestampMs },
      now,
    );
    return verdict === 'ok' ? parsed : drop(verdict, parsed.message.from);
  }
}
