/**
 * Encoding Raft messages into authenticated packets (./layout.ts). Refuses what the decoder would
 * drop: a message we could not accept ourselves is a bug here, not on every peer.
 */
import type { Keyring } from '../../../core/auth/keyring.ts';
import type { SendStamp } from '../../../core/auth/session.ts';
import { DsrError } from '../../../core/errors.ts';
import type { RaftMessage } from '../types.ts';
import {
  ENTRY_HEADER_BYTES,
  FIXED_BODY_BYTES,
  FLAG,
  HEADER_BYTES,
  MAC_BYTES,
  MAX_PACKET_BYTES,
  OFF,
  RAFT_MAGIC,
  RAFT_TYPE_CODES,
  RAFT_VERSION,
} from './layout.ts';

function check(ok: boolean, field: string, value: unknown): void {
  if (!ok)
    throw new DsrError('E_ELECTION_INPUT', `raft message field ${field} is out of range`, { field, value });
}

const isIndex = (v: number) => Number.isSafeInteger(v) && v >= 0;
const isU16 = (v: number) => Number.isInteger(v) && v >= 0 && v <= 0xffff;

/** The packet's size, for the sender to check before it builds a batch. */
export function raftPacketBytes(message: RaftMessage): number {
  let bytes = HEADER_BYTES + FIXED_BODY_BYTES[message.type] + MAC_BYTES;
  if (message.type === 'append') {
    for (const entry of message.entries) bytes += ENTRY_HEADER_BYTES + entry.data.byteLength;
  } else if (message.type === 'snapshot') {
    bytes += message.snapshot.data.byteLength;
  }
  return bytes;
}

function flagOf(message: RaftMessage): number {
  switch (message.type) {
    case 'pre-vote-response':
    case 'vote-response':
      return message.granted ? FLAG : 0;
    case 'append-response':
      return message.success ? FLAG : 0;
    case 'vote':
      return message.transfer ? FLAG : 0;
    default:
      return 0;
  }
}

export function encodeRaftPacket(
  message: RaftMessage,
  header: { readonly to: number; readonly electionTimeoutMs: number },
  stamp: SendStamp,
  keyring: Keyring,
): Buffer {
  const { to, electionTimeoutMs } = header;
  check(isU16(electionTimeoutMs) && electionTimeoutMs > 0, 'electionTimeoutMs', electionTimeoutMs);
  check(
    Number.isInteger(message.from) && message.from > 0 && message.from <= 0xffffffff,
    'from',
    message.from,
  );
  check(Number.isInteger(to) && to > 0 && to <= 0xffffffff && to !== message.from, 'to', to);
  check(isIndex(message.term), 'term', message.term);
  check(stamp.session > 0n && stamp.seq > 0n, 'session/seq', `${stamp.session}/${stamp.seq}`);
  check(Number.isSafeInteger(stamp.timestampMs) && stamp.timestampMs >= 0, 'timestamp', stamp.timestampMs);
  const length = raftPacketBytes(message);
  check(length <= MAX_PACKET_BYTES, 'length', length);

  const buf = Buffer.alloc(length);
  buf.writeUInt16BE(RAFT_MAGIC, OFF.magic);
  buf.writeUInt8(RAFT_VERSION, OFF.version);
  buf.writeUInt8(RAFT_TYPE_CODES[message.type], OFF.type);
  buf.writeUInt32BE(length, OFF.length);
  buf.writeUInt8(keyring.sendKeyId, OFF.keyId);
  buf.writeUInt8(flagOf(message), OFF.flags);
  buf.writeUInt16BE(electionTimeoutMs, OFF.timeout);
  buf.writeUInt32BE(message.from, OFF.from);
  buf.writeUInt32BE(to, OFF.to);
  buf.writeBigUInt64BE(stamp.session, OFF.session);
  buf.writeBigUInt64BE(stamp.seq, OFF.seq);
  buf.writeBigUInt64BE(BigInt(stamp.timestampMs), OFF.timestamp);
  let at = OFF.term; // the term, then the body
  const u64 = (value: number, field: string) => {
    check(isIndex(value), field, value);
    buf.writeBigUInt64BE(BigInt(value), at);
    at += 8;
  };
  const f64 = (value: number, field: string) => {
    check(Number.isFinite(value), field, value);
    buf.writeDoubleBE(value, at);
    at += 8;
  };
  const data = (bytes: Uint8Array) => {
    buf.writeUInt32BE(bytes.byteLength, at);
    buf.set(bytes, at + 4);
    at += 4 + bytes.byteLength;
  };
  u64(message.term, 'term');
  switch (message.type) {
    case 'pre-vote':
    case 'vote':
      u64(message.lastIndex, 'lastIndex');
      u64(message.lastTerm, 'lastTerm');
      break;
    case 'append':
      u64(message.prevIndex, 'prevIndex');
      u64(message.prevTerm, 'prevTerm');
      u64(message.commit, 'commit');
      f64(message.stamp, 'stamp');
      buf.writeUInt32BE(message.entries.length, at);
      at += 4;
      for (const entry of message.entries) {
        u64(entry.index, 'entry.index');
        u64(entry.term, 'entry.term');
        data(entry.data);
      }
      break;
    case 'append-response':
      u64(message.index, 'index');
      f64(message.stamp, 'stamp');
      break;
    case 'snapshot':
      f64(message.stamp, 'stamp');
      u64(message.snapshot.index, 'snapshot.index');
      u64(message.snapshot.term, 'snapshot.term');
      data(message.snapshot.data);
      break;
    default:
      break;
  }
  keyring.sign(buf.subarray(0, length - MAC_BYTES)).copy(buf, length - MAC_BYTES);
  return buf;
}
