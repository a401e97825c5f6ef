/**
 * Strict decoding of election packets. Every input ends as either a message or a typed drop
 * reason; nothing is thrown out of `parseElectionPacket` or `ElectionDecoder.decode`.
 *
 * Order matters: the cheap structural checks first, then the key id and the MAC, and only for an
 * authenticated packet the field checks and the replay guard (core/auth/README.md): forged input
 * must never move the replay state.
 */
import type { Keyring } from '../../core/auth/keyring.ts';
import type { GuardNow, ReplayGuard } from '../../core/auth/replay-guard.ts';
import type { DropReason } from '../drop-reasons.ts';
import type { ElectionMessage, SenderStatus } from '../election/messages.ts';
import {
  FLAG_SYNC_READY,
  MAC_OFFSET,
  MAGIC,
  MAX_PRIORITY_ON_WIRE,
  MIN_HEADER_BYTES,
  OFF,
  PACKET_BYTES,
  REASON_BY_CODE,
  STATE_BY_CODE,
  TYPE_BY_CODE,
  VERSION,
} from './layout.ts';

export interface PacketAuth {
  readonly keyId: number;
  /** Adverts: a second key id the sender accepts (a key rotation under way); 0 for none. */
  readonly alsoAccepts: number;
  readonly session: bigint;
  readonly seq: bigint;
  readonly timestampMs: number;
}

export type DecodeResult =
  | { readonly ok: true; readonly message: ElectionMessage; readonly auth: PacketAuth }
  | {
      readonly ok: false;
      readonly reason: DropReason;
      /** Sender and group, only when the packet was authenticated (never trust them otherwise). */
      readonly from?: number;
      readonly groupId?: number;
    };

/** Replay stream name of election packets in the ReplayGuard. */
export const ELECTION_STREAM = 'election';

const drop = (reason: DropReason, from?: number, groupId?: number): DecodeResult =>
  from === undefined ? { ok: false, reason } : { ok: false, reason, from, groupId };

/** Structure, authentication and field checks; no replay state. */
export function parseElectionPacket(buf: Uint8Array, keyring: Keyring): DecodeResult {
  try {
    return parse(Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength), keyring);
  } catch {
    // Unreachable by design (the fuzz test asserts it never happens); a daemon must not die of it.
    return drop('decoder-error');
  }
}

function parse(buf: Buffer, keyring: Keyring): DecodeResult {
  if (buf.length < MIN_HEADER_BYTES) return drop('too-short');
  if (buf.readUInt16BE(OFF.magic) !== MAGIC) return drop('bad-magic');
  if (buf.readUInt8(OFF.version) !== VERSION) return drop('bad-version');
  const kind = TYPE_BY_CODE.get(buf.readUInt8(OFF.type));
  if (kind === undefined) return drop('bad-type');
  if (buf.readUInt16BE(OFF.length) !== PACKET_BYTES || buf.length !== PACKET_BYTES) return drop('bad-length');

  const keyId = buf.readUInt8(OFF.keyId);
  const verdict = keyring.verify(keyId, buf.subarray(0, MAC_OFFSET), buf.subarray(MAC_OFFSET));
  if (verdict !== 'ok') return drop(verdict);

  // Authenticated from here on: a bad field is a peer bug or an incompatible peer, not an attack.
  const from = buf.readUInt32BE(OFF.from);
  const groupId = buf.readUInt16BE(OFF.groupId);
  const bad = () => drop('bad-field', from, groupId);
  const flags = buf.readUInt8(OFF.flags);
  const intervalMs = buf.readUInt16BE(OFF.interval);
  const session = buf.readBigUInt64BE(OFF.session);
  const seq = buf.readBigUInt64BE(OFF.seq);
  const timestamp = buf.readBigUInt64BE(OFF.timestamp);
  const priority = buf.readUInt8(OFF.priority);
  const state = STATE_BY_CODE.get(buf.readUInt8(OFF.state));
  const reasonCode = buf.readUInt8(OFF.reason);
  const to = buf.readUInt32BE(OFF.to);
  const token = buf.readUInt32BE(OFF.token);

  if ((flags & ~FLAG_SYNC_READY) !== 0) return bad();
  if (from === 0 || groupId === 0 || intervalMs === 0) return bad();
  if (session === 0n || seq === 0n || timestamp > BigInt(Number.MAX_SAFE_INTEGER)) return bad();
  if (priority > MAX_PRIORITY_ON_WIRE || state === undefined) return bad();
  const phase = buf.readUInt8(OFF.phase);

  const status: SenderStatus = {
    groupId,
    from,
    priority,
    state,
    intervalMs,
    fingerprint: new Uint8Array(buf.subarray(OFF.fingerprint, OFF.fingerprint + 16)),
    syncReady: (flags & FLAG_SYNC_READY) !== 0,
  };
  const alsoAccepts = kind === 'advert' ? reasonCode : 0;
  const auth: PacketAuth = { keyId, alsoAccepts, session, seq, timestampMs: Number(timestamp) };

  if (kind === 'advert') {
    if (to !== 0 || token !== 0 || alsoAccepts === keyId) return bad();
    return { ok: true, message: { kind, ...status, ...(phase === 0 ? {} : { phase }) }, auth };
  }
  if (to === 0 || to === from || token === 0 || phase !== 0) return bad();
  if (kind === 'handover-request') {
    if (reasonCode !== 0) return bad();
    return { ok: true, message: { kind, ...status, to, token }, auth };
  }
  const reason = REASON_BY_CODE.get(reasonCode);
  if (reason === undefined) return bad();
  return { ok: true, message: { kind, ...status, to, token, reason }, auth };
}

/** Full receive path: parse and authenticate, then the replay guard. */
export class ElectionDecoder {
  #keyring: Keyring;
  readonly #guard: ReplayGuard;

  constructor(keyring: Keyring, guard: ReplayGuard) {
    this.#keyring = keyring;
    this.#guard = guard;
  }

  get guard(): ReplayGuard {
    return this.#guard;
  }

  /** Verifies with these keys from the next packet on (a key rotation's reload). */
  setKeyring(keyring: Keyring): void {
    this.#keyring = keyring;
  }

  /**
   * @param admit checks an authenticated message before the replay guard records it (peer list,
   *   source address): a message refused there must not use up its sequence number.
   */
  decode(
    buf: Uint8Array,
    now: GuardNow,
    admit?: (message: ElectionMessage) => DropReason | null,
  ): DecodeResult {
    const parsed = parseElectionPacket(buf, this.#keyring);
    if (!parsed.ok) return parsed;
    const { message, auth } = parsed;
    const refused = admit?.(message) ?? null;
    if (refused !== null) return drop(refused, message.from, message.groupId);
    const verdict = this.#guard.accept(
      {
        peer: message.from,
        stream: ELECTION_STREAM,
        session: auth.session,
        seq: auth.seq,
        timestampMs: auth.timestampMs,
      },
      now,
    );
    return verdict === 'ok' ? parsed : drop(verdict, message.from, message.groupId);
  }
}
