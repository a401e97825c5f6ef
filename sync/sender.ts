/**
 * The sending half of the sync towards one peer, as a pure state machine:
 * entries in (`enqueue`, `bulk`), `tick(now)` and `step(now, message)` in,
 * messages to send out. No I/O, no clock of its own.
 *
 * Reliability: DATA messages carry consecutive sequence numbers; the peer
 * acknowledges cumulatively and reports gaps (NACK), which are sent again;
 * what is neither acknowledged nor reported within the RTO is sent again too
 * (a lost tail). At most `window` messages are in flight, which paces a bulk
 * resync of a million entries without flooding the socket buffer. When the
 * queue overflows (a peer gone for long), the oldest entries are dropped and
 * counted; the peer learns of the hole by a RESET and resyncs in bulk.
 */
import { entrySize, type SyncEntry } from './entries.ts';
import { BULK_BEGIN, BULK_END, type SyncMessage } from './messages.ts';
import type { SyncOptions } from './options.ts';
import { SyncCodec } from './wire.ts';

interface InFlight {
  message: Extract<SyncMessage, { type: 'data' }>;
  firstSentAt: number;
  sentAt: number;
  rto: number;
  retries: number;
}

/**
 * A queued item: a live entry, or a whole bulk answer. A bulk is read lazily from its source (the
 * forwarder's maps, page by page) as the window lets messages go, so a million entries cost no
 * memory here. Changes made while it is read are queued behind it and so applied after it.
 */
type Queued =
  | { entry: SyncEntry }
  | { bulk: number; source: Iterator<SyncEntry>; started: boolean; next?: SyncEntry };

export interface SenderStatus {
  /** Entries waiting to be put into a message. */
  queued: number;
  /** Messages sent and not acknowledged. */
  inFlight: number;
  /** Age of the oldest unacknowledged message, ms (0 when none). */
  oldestUnackedMs: number;
  highestSeq: number;
  ackedUpTo: number;
  retransmits: number;
  droppedEntries: number;
  entriesSent: number;
  bytesSent: number;
  bulksServed: number;
  /** Smoothed round-trip time to the peer, ms (null before the first sample). */
  srttMs: number | null;
  rtoMs: number;
}

export class SyncSender {
  readonly #o: SyncOptions;
  readonly #budget: number;
  readonly #stream: bigint;
  readonly #queue: Queued[] = [];
  #queueHead = 0;
  readonly #inFlight = new Map<number, InFlight>();
  #nextSeq = 1;
  #ackedUpTo = 0;
  #lastSentAt: number;
  /** Data for the peer was dropped; until it asks for a bulk, we keep telling it (RESET). */
  #resetOutstanding = false;
  #lastResetAt = Number.NEGATIVE_INFINITY;
  #queuedEntries = 0;
  #queuedBytes = 0;
  #oldestQueuedAt = 0;
  #srtt: number | undefined;
  #rttvar = 0;
  /** Current retransmission timeout, from RTT samples (RFC 6298), never below options.rtoMs. */
  #rto: number;
  readonly #counters = { retransmits: 0, droppedEntries: 0, entriesSent: 0, bytesSent: 0, bulksServed: 0 };

  /** @param stream our session id: the peer's ACKs and NACKs name it, so stale ones are ignored. */
  constructor(options: SyncOptions, stream: bigint, now: number) {
    this.#o = options;
    this.#budget = SyncCodec.entryBudget(options.maxDatagram);
    this.#stream = stream;
    this.#lastSentAt = now;
    this.#rto = Math.max(options.rtoMs, 200);
  }

  /** Live updates (new flows, persistence entries, deletions) for the peer. */
  enqueue(entries: readonly SyncEntry[], now: number): void {
    if (entries.length === 0) return;
    if (this.#queuedEntries === 0) this.#oldestQueuedAt = now;
    for (const entry of entries) {
      this.#queue.push({ entry });
      this.#queuedBytes += entrySize(entry);
    }
    this.#queuedEntries += entries.length;
    this.#bound();
  }

  /** A bulk resync answer: the whole tables, bracketed so the peer knows when it is complete. */
  bulk(bulkId: number, entries: Iterable<SyncEntry>): void {
    this.#queue.push({ bulk: bulkId, source: entries[Symbol.iterator](), started: false });
    this.#counters.bulksServed++;
  }

  /** Timers: send what is queued (within the window), resend what timed out, keep alive. */
  tick(now: number): SyncMessage[] {
    const out: SyncMessage[] = [];
    if (this.#resetOutstanding && now - this.#lastResetAt >= this.#o.keepaliveMs) {
      out.push({ type: 'reset', from: this.#nextSeq });
      this.#lastResetAt = now;
    }
    // On a timeout only the oldest unacknowledged message goes again (RFC 6298 §5.4): the
    // receiver's NACKs name any other gap, and resending a whole window would only add load.
    const oldest = this.#inFlight.get(this.#ackedUpTo + 1);
    if (oldest && now - oldest.sentAt >= oldest.rto) out.push(this.#resend(oldest, now));
    // At most maxBurst new datagrams per call: a whole window at once overflows rings on the way
    // (veth rings hold 256 frames, NIC rings a few hundred) and what overflows comes back as
    // retransmits; the driver calls tick every couple of milliseconds anyway.
    let burst = 0;
    while (
      burst++ < this.#o.maxBurst &&
      this.#inFlight.size < this.#o.window &&
      this.#queueHead < this.#queue.length &&
      this.#ready(now)
    ) {
      const m = this.#build();
      this.#inFlight.set(m.seq, { message: m, firstSentAt: now, sentAt: now, rto: this.#rto, retries: 0 });
      out.push(m);
      if (this.#queuedEntries > 0) this.#oldestQueuedAt = now;
    }
    if (out.length > 0) this.#lastSentAt = now;
    else if (now - this.#lastSentAt >= this.#o.keepaliveMs) {
      out.push({ type: 'keepalive', highest: this.#nextSeq - 1 });
      this.#lastSentAt = now;
    }
    return out;
  }

  /** ACK, NACK and bulk-request from the peer. Returns messages to send and a bulk id to serve. */
  step(now: number, m: SyncMessage): { send: SyncMessage[]; bulkRequested?: number } {
    switch (m.type) {
      case 'ack':
        if (m.stream === this.#stream) this.#ack(m.upTo, now);
        return { send: [] };
      case 'nack': {
        if (m.stream !== this.#stream) return { send: [] };
        // In-flight messages are kept until acknowledged, so every seq a NACK can name is held;
        // seqs at or below the cumulative ACK are a stale NACK overtaken by an ACK: ignored.
        const send: SyncMessage[] = [];
        for (const [a, b] of m.ranges) {
          for (let s = Math.max(a, this.#ackedUpTo + 1); s <= Math.min(b, this.#nextSeq - 1); s++) {
            const f = this.#inFlight.get(s);
            if (f && now - f.sentAt >= this.#o.nackRetryMs / 2) send.push(this.#resend(f, now));
          }
        }
        if (send.length) this.#lastSentAt = now;
        return { send };
      }
      case 'bulk-request':
        this.#resetOutstanding = false;
        return { send: [], bulkRequested: m.bulkId };
      default:
        return { send: [] };
    }
  }

  status(now: number): SenderStatus {
    const first = this.#inFlight.get(this.#ackedUpTo + 1);
    return {
      queued: this.#queuedEntries,
      inFlight: this.#inFlight.size,
      oldestUnackedMs: first ? now - first.firstSentAt : 0,
      highestSeq: this.#nextSeq - 1,
      ackedUpTo: this.#ackedUpTo,
      ...this.#counters,
      srttMs: this.#srtt ?? null,
      rtoMs: this.#rto,
    };
  }

  /**
   * Whether to put queued entries in a message now: when a full message's worth is queued, when
   * the oldest has waited batchDelayMs (Nagle-like: a few entries per datagram would multiply
   * the per-datagram cost), or when a bulk is at the head (its entries are all there already).
   */
  #ready(now: number): boolean {
    if (this.#queuedEntries === 0) return true; // only bulks (or nothing) queued
    const head = this.#queue[this.#queueHead];
    if (head && 'bulk' in head) return true;
    return this.#queuedBytes >= this.#budget || now - this.#oldestQueuedAt >= this.#o.batchDelayMs;
  }

  /** RTT sample from a message sent once and acknowledged (Karn's rule), RFC 6298 §2. */
  #sampleRtt(r: number): void {
    if (this.#srtt === undefined) {
      this.#srtt = r;
      this.#rttvar = r / 2;
    } else {
      this.#rttvar = 0.75 * this.#rttvar + 0.25 * Math.abs(this.#srtt - r);
      this.#srtt = 0.875 * this.#srtt + 0.125 * r;
    }
    this.#rto = Math.min(1000, Math.max(this.#o.rtoMs, this.#srtt + 4 * this.#rttvar));
  }

  #resend(f: InFlight, now: number): SyncMessage {
    f.sentAt = now;
    f.retries++;
    f.rto = Math.min(1000, f.rto * 2);
    this.#counters.retransmits++;
    return f.message;
  }

  #ack(upTo: number, now: number): void {
    if (upTo <= this.#ackedUpTo || upTo >= this.#nextSeq) return;
    const newest = this.#inFlight.get(upTo);
    if (newest && newest.retries === 0) this.#sampleRtt(now - newest.firstSentAt);
    for (let s = this.#ackedUpTo + 1; s <= upTo; s++) this.#inFlight.delete(s);
    this.#ackedUpTo = upTo;
  }

  /** Packs queued items into one DATA message that fits the datagram budget. */
  #build(): Extract<SyncMessage, { type: 'data' }> {
    const entries: SyncEntry[] = [];
    let used = 0;
    let flags = 0;
    let bulkId = 0;
    const fits = (e: SyncEntry) => used + entrySize(e) <= this.#budget;
    const take = (e: SyncEntry) => {
      entries.push(e);
      used += entrySize(e);
    };
    while (this.#queueHead < this.#queue.length) {
      const q = this.#queue[this.#queueHead];
      if ('entry' in q) {
        if (!fits(q.entry)) break;
        take(q.entry);
        this.#queuedEntries--;
        this.#queuedBytes -= entrySize(q.entry);
        this.#queueHead++;
        continue;
      }
      // A bulk's entries travel in messages of their own, so BULK_BEGIN marks where they start.
      if (!q.started) {
        if (entries.length > 0) break;
        q.started = true;
        flags |= BULK_BEGIN;
      }
      bulkId = q.bulk;
      for (;;) {
        if (q.next === undefined) {
          const r = q.source.next();
          if (r.done) {
            flags |= BULK_END;
            this.#queueHead++;
            break;
          }
          q.next = r.value;
        }
        if (!fits(q.next)) break;
        take(q.next);
        q.next = undefined;
      }
      break;
    }
    this.#compact();
    const seq = this.#nextSeq++;
    this.#counters.entriesSent += entries.length;
    this.#counters.bytesSent += used;
    return { type: 'data', seq, flags, bulkId, entries };
  }

  #compact(): void {
    if (this.#queueHead > 4096 && this.#queueHead * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#queueHead);
      this.#queueHead = 0;
    }
  }

  /**
   * Keeps the queue within bounds. Past the bound the peer has been away too long for a replay of
   * changes to be worth it: everything queued is dropped (bulks in progress too) and a RESET tells
   * the peer to ask for the whole tables again.
   */
  #bound(): void {
    if (this.#queuedEntries <= this.#o.maxQueuedEntries) return;
    this.#counters.droppedEntries += this.#queuedEntries;
    this.#queue.length = 0;
    this.#queueHead = 0;
    this.#queuedEntries = 0;
    this.#queuedBytes = 0;
    this.#resetOutstanding = true;
  }
}
