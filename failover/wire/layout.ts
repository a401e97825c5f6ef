/**
 * Byte layout of election packets, version 1. All integers big-endian. One fixed size for every
 * message type keeps parsing trivial and strict.
 *
 *  off size field
 *    0  2   magic 0xD5E1
 *    2  1   version (1)
 *    3  1   type: 1 advert, 2 handover-request, 3 handover-reject
 *    4  2   length of the whole packet, MAC included (100)
 *    6  1   key id (1..255)
 *    7  1   flags: bit 0 = sender is in sync (sync-ready); other bits must be 0
 *    8  2   group id (1..65535)
 *   10  2   advert interval, ms (1..65535)
 *   12  4   sender node id (1..2^32-1)
 *   16  8   session id (non-zero)
 *   24  8   sequence number (>= 1)
 *   32  8   timestamp, ms (< 2^53)
 *   40  1   priority (0..254; 255 is the RFC 5798 address owner, which we never are)
 *   41  1   state: 2 backup, 3 master, 4 fault
 *   42  1   handover-reject: reject reason (1..4); advert: the id of a second key the sender
 *           accepts besides the one it signs with (a key rotation under way; 0: none); else 0
 *   43  1   phase (advert: 0..255, how far into its interval it was sent, in 1/256; else 0)
 *   44  4   target node id (handover messages: non-zero; advert: 0)
 *   48  4   handover token (handover messages: non-zero; advert: 0)
 *   52 16   config fingerprint
 *   68 32   HMAC-SHA256 over bytes 0..67
 *  100
 */
import type { AdvertisedState, ElectionMessage, HandoverRejectReason } from '../election/messages.ts';
import { HANDOVER_REJECT_REASONS } from '../election/messages.ts';

export const MAGIC = 0xd5e1;
export const VERSION = 1;
export const PACKET_BYTES = 100;
export const MAC_OFFSET = 68;
/** Enough to read magic, version, type and length. */
export const MIN_HEADER_BYTES = 6;

export const OFF = {
  magic: 0,
  version: 2,
  type: 3,
  length: 4,
  keyId: 6,
  flags: 7,
  groupId: 8,
  interval: 10,
  from: 12,
  session: 16,
  seq: 24,
  timestamp: 32,
  priority: 40,
  state: 41,
  reason: 42,
  /** Adverts: the same byte as `reason`. */
  alsoAccepts: 42,
  phase: 43,
  to: 44,
  token: 48,
  fingerprint: 52,
  mac: MAC_OFFSET,
} as const;

export const FLAG_SYNC_READY = 0x01;
export const MAX_PRIORITY_ON_WIRE = 254;

export const TYPE_CODES: Record<ElectionMessage['kind'], number> = {
  advert: 1,
  'handover-request': 2,
  'handover-reject': 3,
};
export const TYPE_BY_CODE: ReadonlyMap<number, ElectionMessage['kind']> = new Map(
  Object.entries(TYPE_CODES).map(([kind, code]) => [code, kind as ElectionMessage['kind']]),
);

export const STATE_CODES: Record<AdvertisedState, number> = { backup: 2, master: 3, fault: 4 };
export const STATE_BY_CODE: ReadonlyMap<number, AdvertisedState> = new Map(
  Object.entries(STATE_CODES).map(([state, code]) => [code, state as AdvertisedState]),
);

export const REASON_CODES: ReadonlyMap<HandoverRejectReason, number> = new Map(
  HANDOVER_REJECT_REASONS.map((reason, i) => [reason, i + 1]),
);
export const REASON_BY_CODE: ReadonlyMap<number, HandoverRejectReason> = new Map(
  HANDOVER_REJECT_REASONS.map((reason, i) => [i + 1, reason]),
);
