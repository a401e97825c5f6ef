/**
 * The sync protocol's messages (before encoding). A *stream* is one sender
 * process's sequence of DATA messages, named by the sender's authentication
 * session id: a restarted sender starts a new stream at seq 1, and receivers
 * know from the session change that they must resync.
 */
/** DATA flags: a bulk resync's first and last message (they may carry entries too). */
export const BULK_BEGIN = 0x01;
export const BULK_END = 0x02;

export type SyncMessage =
  /** `entries`: whole entries encoded back to back (entries.ts), as they travel. */
  | { type: 'data'; seq: number; flags: number; bulkId: number; entries: Buffer }
  /** Cumulative: every DATA of `stream` up to and including `upTo` arrived. */
  | { type: 'ack'; stream: bigint; upTo: number }
  /** These seq ranges (inclusive) of `stream` are missing. */
  | { type: 'nack'; stream: bigint; ranges: [number, number][] }
  /** Sent when idle: lets a receiver notice lost tail messages and that we are alive. */
  | { type: 'keepalive'; highest: number }
  /** A receiver asks for the sender's whole tables. */
  | { type: 'bulk-request'; bulkId: number }
  /** The sender no longer holds seqs below `from`: the receiver must resync in bulk. */
  | { type: 'reset'; from: number }
  /**
   * Operator state the directors share whole (drains and weight overrides), resent periodically:
   * `stamp` and `origin` version it (last writer wins, shared-state-version.ts), `payload` is the
   * state's bytes, opaque to the sync.
   */
  | { type: 'state'; stamp: number; origin: number; payload: Buffer };

export type SyncMessageType = SyncMessage['type'];

export const MAX_NACK_RANGES = 32;
/**
 * Largest state payload: a STATE datagram may exceed the MTU (IP fragments on the directors'
 * segment; a lost fragment only delays the state to the next resend) but not a UDP datagram.
 */
export const MAX_STATE_PAYLOAD = 60_000;
