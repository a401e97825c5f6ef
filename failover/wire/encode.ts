/**
 * Encoding election messages into authenticated packets (layout in ./layout.ts).
 * Encoding refuses values the decoder would drop: a message we could not accept ourselves is a bug
 * on our side and fails loudly here instead of silently on every peer.
 */
import type { Keyring } from '../../core/auth/keyring.ts';
import type { SenderSession, SendStamp } from '../../core/auth/session.ts';
import { DsrError } from '../../core/errors.ts';
import { type ElectionMessage, FINGERPRINT_BYTES } from '../election/messages.ts';
import {
  FLAG_SYNC_READY,
  MAC_OFFSET,
  MAGIC,
  MAX_PRIORITY_ON_WIRE,
  OFF,
  PACKET_BYTES,
  REASON_CODES,
  STATE_CODES,
  TYPE_CODES,
  VERSION,
} from './layout.ts';

function check(ok: boolean, field: string, value: unknown): void {
  if (!ok)
    throw new DsrError('E_ELECTION_INPUT', `election message field ${field} is out of range`, {
      field,
      value,
    });
}

const isU = (v: number, min: number, max: number) => Number.isInteger(v) && v >= min && v <= max;

export function encodeElectionPacket(message: ElectionMessage, stamp: SendStamp, keyring: Keyring): Buffer {
  check(isU(message.groupId, 1, 0xffff), 'groupId', message.groupId);
  check(isU(message.intervalMs, 1, 0xffff), 'intervalMs', message.intervalMs);
  check(isU(message.from, 1, 0xffffffff), 'from', message.from);
  check(isU(message.priority, 0, MAX_PRIORITY_ON_WIRE), 'priority', message.priority);
  check(message.fingerprint.length === FINGERPRINT_BYTES, 'fingerprint', message.fingerprint.length);
  const phase = message.kind === 'advert' ? (message.phase ?? 0) : 0;
  check(isU(phase, 0, 255), 'phase', phase);
  check(stamp.session > 0n && stamp.seq > 0n, 'session/seq', `${stamp.session}/${stamp.seq}`);
  check(Number.isSafeInteger(stamp.timestampMs) && stamp.timestampMs >= 0, 'timestamp', stamp.timestampMs);

  const buf = Buffer.alloc(PACKET_BYTES);
  buf.writeUInt16BE(MAGIC, OFF.magic);
  buf.writeUInt8(VERSION, OFF.version);
  buf.writeUInt8(TYPE_CODES[message.kind], OFF.type);
  buf.writeUInt16BE(PACKET_BYTES, OFF.length);
  buf.writeUInt8(keyring.sendKeyId, OFF.keyId);
  buf.writeUInt8(message.syncReady ? FLAG_SYNC_READY : 0, OFF.flags);
  buf.writeUInt16BE(message.groupId, OFF.groupId);
  buf.writeUInt16BE(message.intervalMs, OFF.interval);
  buf.writeUInt32BE(message.from, OFF.from);
  buf.writeBigUInt64BE(stamp.session, OFF.session);
  buf.writeBigUInt64BE(stamp.seq, OFF.seq);
  buf.writeBigUInt64BE(BigInt(stamp.timestampMs), OFF.timestamp);
  buf.writeUInt8(message.priority, OFF.priority);
  buf.writeUInt8(STATE_CODES[message.state], OFF.state);
  buf.writeUInt8(phase, OFF.phase);
  if (message.kind !== 'advert') {
    check(isU(message.to, 1, 0xffffffff) && message.to !== message.from, 'to', message.to);
    check(isU(message.token, 1, 0xffffffff), 'token', message.token);
    buf.writeUInt32BE(message.to, OFF.to);
    buf.writeUInt32BE(message.token, OFF.token);
  }
  if (message.kind === 'handover-reject') {
    buf.writeUInt8(REASON_CODES.get(message.reason)!, OFF.reason);
  } else if (message.kind === 'advert') {
    // The other key this sender accepts, if it holds two (a rotation under way): its peers see
    // when every director holds the new key, and only then is it safe to send with it.
    buf.writeUInt8(keyring.otherKeyId, OFF.alsoAccepts);
  }
  buf.set(message.fingerprint, OFF.fingerprint);
  keyring.sign(buf.subarray(0, MAC_OFFSET)).copy(buf, MAC_OFFSET);
  return buf;
}

/** Stamps and signs messages for one sender session. */
export class ElectionEncoder {
  readonly #session: SenderSession;
  #keyring: Keyring;

  constructor(keyring: Keyring, session: SenderSession) {
    this.#keyring = keyring;
    this.#session = session;
  }

  get sessionId(): bigint {
    return this.#session.id;
  }

  /** Signs with these keys from the next message on (a key rotation's reload). */
  setKeyring(keyring: Keyring): void {
    this.#keyring = keyring;
  }

  encode(message: ElectionMessage, monoNowMs: number): Buffer {
    return encodeElectionPacket(message, this.#session.next(monoNowMs), this.#keyring);
  }
}
