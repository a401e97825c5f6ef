/**
 * The receiving half of the sync from one peer, as a pure state machine:
 * `step(now, session, message)` and `tick(now)` in; messages to send, entries
 * to apply (in the sender's order) and state changes out.
 *
 * In sync means: the peer's whole tables arrived (a bulk resync we asked for
 * completed, in order), every live update since was delivered, no gap is
 * open, and the peer is not silent. Only then may this director preempt or
 * accept a planned handover (takeover gating). A new stream (the peer
 * restarted) or a RESET (the peer dropped data for us) starts a new bulk
 * request; a gap (a lost datagram not yet repaired) or silence longer than
 * `peerDeadMs` suspends it until repaired or heard again.
 *
 * A bulk request is sent again, with the same id, until the bulk begins:
 * the sender treats a repeated id as the same request, so a slow bulk is
 * never restarted by our own retries.
 */
import { entrySizeAt } from './entries.ts';
import { BULK_BEGIN, BULK_END, MAX_NACK_RANGES, type SyncMessage } from './messages.ts';
import type { SyncOptions } from './options.ts';

/** Entries in a checked run (the codec checked it on receipt). */
function entryCount(entries: Buffer): number {
  let n = 0;
  for (let off = 0; off < entries.length; n++) off += entrySizeAt(entries, off);
  return n;
}

type Data = Extract<SyncMessage, { type: 'data' }>;
type StreamMessage = Extract<SyncMessage, { type: 'data' | 'keepalive' | 'reset' }>;

export type ReceiverState = 'waiting' | 'resyncing' | 'in-sync' | 'lost';

/** Why the receiver is not in sync, or null when it is. */
export type NotInSync = 'waiting' | 'resyncing' | 'bulk-pending' | 'gap' | 'lost' | null;

/**
 * What to do to the local tables, in order: entries as they travelled (encoded back to back). A bulk
 * is bracketed so the table can drop, at its end, entries the bulk did not mention (deleted on the
 * peer while we were not listening).
 */
export type ApplyOp =
  /** `bulk`: the entries came in a bulk answer (the peer's whole tables), not as live updates. */
  { op: 'entries'; entries: Buffer; bulk: boolean } | { op: 'bulk-begin' } | { op: 'bulk-end' };

export interface ReceiverStep {
  send: SyncMessage[];
  apply: ApplyOp[];
  /** Set when the state changed in this step. */
  state?: ReceiverState;
}

export interface ReceiverStatus {
  state: ReceiverState;
  inSync: boolean;
  /** Why not in sync: no bulk asked yet, bulk asked, bulk under way, a gap open, peer silent. */
  notInSync: NotInSync;
  /** The peer's stream (session id) we follow, as a decimal string. */
  stream: string | null;
  /** Last seq delivered in order. */
  deliveredUpTo: number;
  /** Highest seq the peer told us exists (data or keepalive). */
  highestKnown: number;
  /** Messages known to exist and not yet delivered: the lag in messages. */
  behindMessages: number;
  /** How long the oldest open gap has been open, ms (0 when none). */
  gapAgeMs: number;
  lastHeardMs: number | null;
  applied: number;
  duplicates: number;
  reorderDrops: number;
  resets: number;
  /** Bulk requests sent, retries included. */
  bulkRequests: number;
  bulksCompleted: number;
  /** Entries applied during the bulk in progress or the last one. */
  bulkEntries: number;
}

export class SyncReceiver {
  readonly #o: SyncOptions;
  /** The current stream's tables arrived in full (bulk done) and nothing was lost since. */
  #complete = false;
  #silent = false;
  #stream: bigint | undefined;
  #expected = 1;
  #highestKnown = 0;
  readonly #buffer = new Map<number, Data>();
  #gapSince: number | undefined;
  #lastNackAt = Number.NEGATIVE_INFINITY;
  #lastAckAt: number;
  #ackedUpTo = 0;
  #lastHeard: number | undefined;
  #bulkId = 0;
  #bulkRequestedAt: number | undefined;
  #bulkStarted = false;
  /**
   * The outstanding request was sent before we followed the stream we now follow: if its bulk began
   * before the first message we saw, we will never see it begin, and its retry must be a new one.
   */
  #requestPredatesStream = false;
  #nextBulkId: number;
  readonly #c = {
    applied: 0,
    duplicates: 0,
    reorderDrops: 0,
    resets: 0,
    bulkRequests: 0,
    bulksCompleted: 0,
    bulkEntries: 0,
  };

  /** @param firstBulkId a random start for bulk ids, so a restarted receiver does not reuse one. */
  constructor(options: SyncOptions, now: number, firstBulkId: number) {
    this.#o = options;
    this.#lastAckAt = now;
    this.#nextBulkId = firstBulkId >>> 0 || 1;
  }

  get inSync(): boolean {
    return this.notInSync === null;
  }

  get notInSync(): NotInSync {
    const state = this.#state;
    if (state === 'in-sync') return this.#gapOpen ? 'gap' : null;
    if (state === 'resyncing' && this.#bulkStarted) return 'bulk-pending';
    return state;
  }

  /** A seq the peer announced has not been delivered yet. */
  get #gapOpen(): boolean {
    return this.#highestKnown >= this.#expected;
  }

  get state(): ReceiverState {
    return this.#state;
  }

  get #state(): ReceiverState {
    if (this.#silent) return 'lost';
    if (this.#complete) return 'in-sync';
    return this.#bulkRequestedAt === undefined ? 'waiting' : 'resyncing';
  }

  /** DATA, KEEPALIVE and RESET from the peer, already authenticated; `session` names its stream. */
  step(now: number, session: bigint, m: SyncMessage): ReceiverStep {
    const out: ReceiverStep = { send: [], apply: [] };
    const before = this.#state;
    this.#lastHeard = now;
    this.#silent = false;
    if (m.type !== 'data' && m.type !== 'keepalive' && m.type !== 'reset') return out;
    if (this.#stream !== session) {
      if (this.#stream !== undefined && session < this.#stream) return out; // an older run of the peer
      this.#adopt(session, m, now, out);
    }
    if (m.type === 'data') this.#data(now, m, out);
    else if (m.type === 'keepalive') {
      this.#highestKnown = Math.max(this.#highestKnown, m.highest);
      this.#nackGaps(now, out, true);
      this.#maybeAck(now, out, true);
    } else {
      this.#c.resets++;
      if (m.from > this.#expected) this.#skipTo(m.from, out);
      this.#requestBulk(now, out, true);
    }
    if (this.#state !== before) out.state = this.#state;
    return out;
  }

  /** Asks for the peer's whole tables again (we stop being the active and our table went stale). */
  resync(now: number): ReceiverStep {
    const out: ReceiverStep = { send: [], apply: [] };
    const before = this.#state;
    this.#requestBulk(now, out, true);
    if (this.#state !== before) out.state = this.#state;
    return out;
  }

  /** Timers: acknowledge, report open gaps again, retry a bulk request, notice a silent peer. */
  tick(now: number): ReceiverStep {
    const out: ReceiverStep = { send: [], apply: [] };
    const before = this.#state;
    if (this.#bulkRequestedAt === undefined && !this.#complete) this.#requestBulk(now, out, true);
    else if (
      this.#bulkRequestedAt !== undefined &&
      !this.#bulkStarted &&
      now - this.#bulkRequestedAt >= this.#o.bulkRetryMs
    ) {
      this.#requestBulk(now, out, this.#requestPredatesStream);
    }
    this.#nackGaps(now, out, false);
    this.#maybeAck(now, out, false);
    if (this.#lastHeard !== undefined && now - this.#lastHeard > this.#o.peerDeadMs) this.#silent = true;
    if (this.#state !== before) out.state = this.#state;
    return out;
  }

  status(now: number): ReceiverStatus {
    return {
      state: this.#state,
      inSync: this.inSync,
      notInSync: this.notInSync,
      stream: this.#stream === undefined ? null : this.#stream.toString(),
      deliveredUpTo: this.#expected - 1,
      highestKnown: this.#highestKnown,
      behindMessages: Math.max(0, this.#highestKnown - (this.#expected - 1)),
      gapAgeMs: this.#gapSince === undefined ? 0 : now - this.#gapSince,
      lastHeardMs: this.#lastHeard === undefined ? null : now - this.#lastHeard,
      ...this.#c,
    };
  }

  #adopt(session: bigint, m: StreamMessage, now: number, out: ReceiverStep): void {
    // A new stream: the peer (re)started. Its tables may differ from what we hold, so unless this
    // very message starts the bulk we asked for, we ask again.
    this.#stream = session;
    this.#buffer.clear();
    this.#gapSince = undefined;
    this.#ackedUpTo = 0;
    this.#expected = m.type === 'data' ? m.seq : m.type === 'keepalive' ? m.highest + 1 : m.from;
    this.#highestKnown = this.#expected - 1;
    this.#complete = false;
    // A request still unanswered (a receiver asks before it has heard the peer, to save a round
    // trip) is usually answered further on in this stream: we wait for it, and its retry asks anew
    // (the stream may have begun our bulk in a message we will never see, and a sender ignores a
    // repeated id). Asking anew at once would make the peer start a second bulk at every start.
    // Otherwise (the peer restarted), a new bulk.
    const startsOurBulk = m.type === 'data' && m.flags & BULK_BEGIN && m.bulkId === this.#bulkId;
    const midBulk = m.type === 'data' && m.bulkId !== 0 && m.bulkId === this.#bulkId;
    const waiting = this.#bulkRequestedAt !== undefined && !this.#bulkStarted;
    if (startsOurBulk) return;
    if (waiting && !midBulk) this.#requestPredatesStream = true;
    else this.#requestBulk(now, out, true);
  }

  #data(now: number, m: Data, out: ReceiverStep): void {
    const highestBefore = this.#highestKnown;
    this.#highestKnown = Math.max(this.#highestKnown, m.seq);
    if (m.seq < this.#expected || this.#buffer.has(m.seq)) {
      this.#c.duplicates++;
      this.#maybeAck(now, out, true); // our ACK may have been lost: repeat it
      return;
    }
    if (m.seq > this.#expected) {
      if (this.#buffer.size >= this.#o.reorderBuffer) this.#c.reorderDrops++;
      else this.#buffer.set(m.seq, m);
      this.#nackNew(now, highestBefore, m.seq, out);
      return;
    }
    this.#deliver(m, out);
    for (let next = this.#buffer.get(this.#expected); next; next = this.#buffer.get(this.#expected)) {
      this.#buffer.delete(this.#expected);
      this.#deliver(next, out);
    }
    if (this.#buffer.size === 0 && this.#highestKnown < this.#expected) this.#gapSince = undefined;
    this.#maybeAck(now, out, false);
  }

  #deliver(m: Data, out: ReceiverStep): void {
    this.#expected = m.seq + 1;
    if (m.flags & BULK_BEGIN && m.bulkId === this.#bulkId) {
      this.#bulkStarted = true;
      this.#c.bulkEntries = 0;
      out.apply.push({ op: 'bulk-begin' });
    }
    const count = entryCount(m.entries);
    if (count > 0) out.apply.push({ op: 'entries', entries: m.entries, bulk: m.bulkId !== 0 });
    this.#c.applied += count;
    if (this.#bulkStarted) this.#c.bulkEntries += count;
    if (m.flags & BULK_END && m.bulkId === this.#bulkId && this.#bulkStarted) {
      this.#c.bulksCompleted++;
      this.#bulkStarted = false;
      this.#bulkRequestedAt = undefined;
      this.#complete = true;
      out.apply.push({ op: 'bulk-end' });
    }
  }

  #skipTo(seq: number, out: ReceiverStep): void {
    for (let s = this.#expected; s < seq; s++) {
      const m = this.#buffer.get(s);
      if (m) {
        this.#buffer.delete(s);
        const count = entryCount(m.entries);
        if (count > 0) out.apply.push({ op: 'entries', entries: m.entries, bulk: m.bulkId !== 0 });
        this.#c.applied += count;
      }
    }
    this.#expected = seq;
  }

  /** Asks for a bulk: a new one (`renew`), or the one asked for already, again. */
  #requestBulk(now: number, out: ReceiverStep, renew: boolean): void {
    if (renew || this.#bulkId === 0) {
      this.#bulkId = this.#nextBulkId;
      this.#nextBulkId = (this.#nextBulkId % 0xffffffff) + 1;
    }
    this.#bulkRequestedAt = now;
    this.#bulkStarted = false;
    this.#requestPredatesStream = false;
    this.#c.bulkRequests++;
    this.#complete = false;
    out.send.push({ type: 'bulk-request', bulkId: this.#bulkId });
  }

  /**
   * Reports at once the seqs that `seq` showed missing: those between the highest known before it
   * and itself. Gaps reported already are left to the retry, so a second loss while the first is
   * being repaired is reported within the step that shows it (a retry period later, it would hold
   * back every entry behind it: delivery is in order), and no gap is reported twice in a round trip.
   */
  #nackNew(now: number, highestBefore: number, seq: number, out: ReceiverStep): void {
    if (this.#stream === undefined) return;
    if (this.#gapSince === undefined) {
      this.#gapSince = now;
      this.#lastNackAt = now; // the retry period starts with the first report
    }
    const from = Math.max(highestBefore + 1, this.#expected);
    if (from > seq - 1) return; // a reordered datagram of a gap known already
    out.send.push({ type: 'nack', stream: this.#stream, ranges: [[from, seq - 1]] });
  }

  /** Reports missing seqs between `expected` and the highest known, as ranges. */
  #nackGaps(now: number, out: ReceiverStep, immediate: boolean): void {
    if (this.#stream === undefined || this.#highestKnown < this.#expected) return;
    if (this.#gapSince === undefined) this.#gapSince = now;
    if (!immediate && now - this.#lastNackAt < this.#o.nackRetryMs) return;
    const ranges: [number, number][] = [];
    let start: number | undefined;
    for (let s = this.#expected; s <= this.#highestKnown && ranges.length < MAX_NACK_RANGES; s++) {
      const have = this.#buffer.has(s);
      if (!have && start === undefined) start = s;
      if (have && start !== undefined) {
        ranges.push([start, s - 1]);
        start = undefined;
      }
      if (s - this.#expected > this.#o.reorderBuffer * 2) break;
    }
    if (start !== undefined && ranges.length < MAX_NACK_RANGES) ranges.push([start, this.#highestKnown]);
    if (ranges.length === 0) return;
    this.#lastNackAt = now;
    out.send.push({ type: 'nack', stream: this.#stream, ranges });
  }

  #maybeAck(now: number, out: ReceiverStep, force: boolean): void {
    const upTo = this.#expected - 1;
    if (this.#stream === undefined || upTo < 1) return;
    const fresh = upTo > this.#ackedUpTo;
    const due =
      fresh && (upTo - this.#ackedUpTo >= this.#o.ackEvery || now - this.#lastAckAt >= this.#o.ackDelayMs);
    const heartbeat = now - this.#lastAckAt >= this.#o.keepaliveMs;
    if (!(force || due || heartbeat)) return;
    this.#ackedUpTo = upTo;
    this.#lastAckAt = now;
    out.send.push({ type: 'ack', stream: this.#stream, upTo });
  }
}
