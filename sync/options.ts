/** Sync protocol timers and bounds, with their defaults in one place. */
export interface SyncOptions {
  /** Largest datagram we send (bytes). Default 1400: fits a 1500 MTU over IPv4 or IPv6. */
  maxDatagram: number;
  /** DATA messages in flight (sent, not acknowledged) per peer; more wait in the queue. */
  window: number;
  /**
   * Bytes of live entries queued for a peer at most (24 bytes an IPv4 entry): beyond, the queue is
   * dropped and the peer resyncs in bulk, so a peer away for long costs memory up to this bound only.
   */
  maxQueuedBytes: number;
  /** Floor of the retransmission timeout; the timeout itself follows the measured RTT (RFC 6298). */
  rtoMs: number;
  /** New DATA datagrams sent per tick at most (pacing). */
  maxBurst: number;
  /** Entries wait at most this long for more to fill a datagram. */
  batchDelayMs: number;
  /** A sender with nothing to send says so this often; a receiver acknowledges at least this often. */
  keepaliveMs: number;
  /** A receiver acknowledges after this many DATA messages, */
  ackEvery: number;
  /** or this long after the first unacknowledged one arrived (well under rtoMs). */
  ackDelayMs: number;
  /**
   * A gap still open after this long is reported (NACK) again: its report or its retransmit was
   * lost. A few LAN round trips: delivery is in order, so a gap holds back every entry behind it
   * for as long as it is open (the sender does not resend a message it resent less than a round
   * trip ago, so an early report costs no duplicate).
   */
  nackRetryMs: number;
  /** Out-of-order messages a receiver holds while it waits for a gap to fill. */
  reorderBuffer: number;
  /** A bulk request with no answer for this long is sent again. */
  bulkRetryMs: number;
  /** A peer not heard for this long is reported lost (and its receiver is no longer in sync). */
  peerDeadMs: number;
  /** Shared operator state (drains, weights) is sent again this often, so a lost or restarted peer gets it. */
  stateResendMs: number;
}

export const DEFAULT_SYNC_OPTIONS: SyncOptions = {
  maxDatagram: 1400,
  window: 512,
  maxQueuedBytes: 32 << 20,
  rtoMs: 20,
  batchDelayMs: 1,
  maxBurst: 64,
  keepaliveMs: 100,
  ackEvery: 32,
  ackDelayMs: 5,
  nackRetryMs: 8,
  reorderBuffer: 4096,
  bulkRetryMs: 1000,
  peerDeadMs: 350,
  stateResendMs: 1000,
};

export function syncOptions(partial: Partial<SyncOptions> = {}): SyncOptions {
  const o = { ...DEFAULT_SYNC_OPTIONS, ...partial };
  // A peer is lost once three keepalives in a row are missing, plus half of one for a late timer
  // (as VRRP's Master_Down_Interval, RFC 5798 §6.1: three intervals and a skew): sooner, a keepalive
  // a little late would end "in sync" (the readiness that gates preemption and handovers); later,
  // a dead peer would read as in sync for longer than its takeover takes.
  if (partial.peerDeadMs === undefined) o.peerDeadMs = 3.5 * o.keepaliveMs;
  return o;
}
