/**
 * Byte layout of Raft packets, version 1. All integers big-endian; indexes and terms are u64 below
 * 2^53; stamps are the leader's monotonic clock in ms as an IEEE 754 double (exact: echoed, never
 * compared across clocks).
 *
 *  off size field
 *    0  2   magic 0xD5E2
 *    2  1   version (1)
 *    3  1   type: 1 pre-vote, 2 pre-vote-response, 3 vote, 4 vote-response, 5 append,
 *           6 append-response, 7 snapshot, 8 timeout-now
 *    4  4   length of the whole packet, MAC included
 *    8  1   key id (1..255)
 *    9  1   flags: bit 0 = granted (vote responses), success (append-response), transfer (vote);
 *           other bits, and bit 0 of other types, must be 0
 *   10  2   the sender's election timeout T, ms (1..65535): every voter must run the same, as
 *           the lease rests on it (../lease.ts); a mismatch is dropped as 'timing-mismatch'
 *   12  4   sender node id (non-zero)
 *   16  4   receiver node id (non-zero, not the sender)
 *   20  8   session id (non-zero)
 *   28  8   sequence number (>= 1)
 *   36  8   timestamp, ms (< 2^53)
 *   44  8   term
 *   52  …   body by type:
 *           pre-vote, vote           lastIndex u64, lastTerm u64
 *           pre-vote-response,
 *           vote-response,
 *           timeout-now              (none)
 *           append                   prevIndex u64, prevTerm u64, commit u64, stamp f64,
 *                                    count u32, then per entry: index u64, term u64, length u32, data
 *           append-response          index u64, stamp f64
 *           snapshot                 stamp f64, index u64, term u64, length u32, data
 *   end 32  HMAC-SHA256 over everything before it
 *
 * The receiver id is signed so a packet for one voter is not accepted by another.
 */
import type { RaftMessageType } from '../types.ts';

export const RAFT_MAGIC = 0xd5e2;
export const RAFT_VERSION = 1;
export const HEADER_BYTES = 52;
export const MAC_BYTES = 32;
/**
 * One datagram holds at most this much (UDP's 65,507-byte payload, less headroom): appends carry
 * few small entries (operator commands), and a snapshot of the operator state is kilobytes.
 */
export const MAX_PACKET_BYTES = 65_000;

export const OFF = {
  magic: 0,
  version: 2,
  type: 3,
  length: 4,
  keyId: 8,
  flags: 9,
  timeout: 10,
  from: 12,
  to: 16,
  session: 20,
  seq: 28,
  timestamp: 36,
  term: 44,
  body: HEADER_BYTES,
} as const;

export const FLAG = 0x01;

export const RAFT_TYPE_CODES: Record<RaftMessageType, number> = {
  'pre-vote': 1,
  'pre-vote-response': 2,
  vote: 3,
  'vote-response': 4,
  append: 5,
  'append-response': 6,
  snapshot: 7,
  'timeout-now': 8,
};

export const RAFT_TYPE_BY_CODE: ReadonlyMap<number, RaftMessageType> = new Map(
  Object.entries(RAFT_TYPE_CODES).map(([type, code]) => [code, type as RaftMessageType]),
);

/** Fixed body bytes by type (entries and snapshot data come on top). */
export const FIXED_BODY_BYTES: Record<RaftMessageType, number> = {
  'pre-vote': 16,
  'pre-vote-response': 0,
  vote: 16,
  'vote-response': 0,
  append: 36,
  'append-response': 16,
  snapshot: 28,
  'timeout-now': 0,
};

export const ENTRY_HEADER_BYTES = 20;
