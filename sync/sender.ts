/**
 * The sending half of the sync towards one peer, as a pure state machine:
 * entries in (`enqueue`, `bulk`), `tick(now)` and `step(now, message)` in,
 * messages to send out. No I/O, no clock of its own.
 *
 * Reliability: DATA messages carry consecutive sequence numbers; the peer
 * acknowledges cumulatively and reports gaps (NACK), which are sent again;
 * what is neither acknowledged nor reported within the RTO is sent again too
 * (a lost tail). At most `window` messages are in flight: the peer's ACKs
 * pace everything we send, a bulk of a million entries included, so a slow
 * receiver slows the sender down instead of losing data.
 *
 * Two kinds of data share the window:
 * - live updates (new flows, state changes, refreshes), held encoded in a
 *   queue bounded in bytes. When it overflows (a peer gone for long), it is
 *   dropped whole and the peer learns of the hole by a RESET and resyncs;
 * - at most one bulk answer, read from its source chunk by chunk only as
 *   the window lets messages go: memory stays bounded whatever the table
 *   size. A request for the bulk being served is a retry and changes
 *   nothing; a request with another id replaces it.
 * When both are waiting, messages alternate between them, so live updates
 * keep flowing during a bulk and a bulk completes under any live load.
 */
import { entrySizeAt } from './entries.ts';
import { BULK_BEGIN, BULK_END, type SyncMessage } from './messages.ts';
import type { SyncOptions } from './options.ts';
import { SyncCodec } from './wire.ts';

type Data = Extract<SyncMessage, { type: 'data' }>;

interface InFlight {
  message: Data;
  firstSentAt: number;
  sentAt: number;
  rto: number;
  retries: number;
}

/** Where a bulk answer's entries come from, a chunk of whole encoded entries at a time. */
export interface BulkSource {
  /** The next chunk, or null when the tables have been read to the end. */
  next(): Buffer | null;
  /** Releases what the source holds (a table cursor); called once, when done or replaced. */
  close(): void;
}

interface Bulk {
  id: number;
  source: BulkSource;
  begun: boolean;
  /** The unsent rest of the chunk read last. */
  chunk: Buffer;
}

export interface SenderStatus {
  /** Live entries waiting to be put into a message. */
  queued: number;
  /** Their bytes. */
  queuedBytes: number;
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
  /** The bulk being sent, if any: its id and the entries sent of it so far. */
  bulk: { id: number; entriesSent: number } | null;
  /** Smoothed round-trip time to the peer, ms (null before the first sample). */
  srttMs: number | null;
  rtoMs: number;
}

export class SyncSender {
  readonly #o: SyncOptions;
  readonly #budget: number;
  readonly #stream: bigint;
  /** Live entries, encoded, oldest first; #liveHead is how far the first buffer was sent. */
  #live: Buffer[] = [];
  #liveHead = 0;
  #liveBytes = 0;
  #liveEntries = 0;
  #oldestLiveAt = 0;
  #bulk: Bulk | undefined;
  /** The id of the bulk being sent or sent last: a request for it again is a late retry. */
  #lastBulkId: number | undefined;
  #bulkEntriesSent = 0;
  /** Whose turn it is when live updates and a bulk both wait. */
  #bulkTurn = false;
  readonly #inFlight = new Map<number, InFlight>();
  #nextSeq = 1;
  #ackedUpTo = 0;
  #lastSentAt: number;
  /** Data for the peer was dropped; until it asks for a bulk, we keep telling it (RESET). */
  #resetOutstanding = false;
  #lastResetAt = Number.NEGATIVE_INFINITY;
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

  /** Live updates (new flows, state changes, refreshes, deletions), whole entries encoded back to back. */
  enqueue(entries: Buffer, count: number, now: number): void {
    if (entries.length === 0) return;
    if (this.#liveEntries === 0) this.#oldestLiveAt = now;
    this.#live.push(entries);
    this.#liveBytes += entries.length;
    this.#liveEntries += count;
    if (this.#liveBytes > this.#o.maxQueuedBytes) this.#overflow();
  }

  /**
   * A bulk resync answer: the whole tables, read from the source `open` makes, bracketed so the peer
   * knows when it is complete. Returns false (and opens nothing) when bulk `id` is being sent or was
   * the last one sent: the peer asked again before our first message reached it.
   */
  bulk(id: number, open: () => BulkSource): boolean {
    if (this.#lastBulkId === id) return false;
    this.#lastBulkId = id;
    this.#bulk?.source.close();
    // Updates not sent yet are in the tables the bulk reads (or gone from them, and then swept on
    // the peer at the bulk's end): sending them as well would only make the peer write them twice.
    this.#clearLive();
    this.#bulk = { id, source: open(), begun: false, chunk: Buffer.alloc(0) };
    this.#bulkEntriesSent = 0;
    this.#counters.bulksServed++;
    return true;
  }

  /** Stops a bulk in progress (the peer is gone); its source is released, and a new request serves it anew. */
  dropBulk(): void {
    this.#bulk?.source.close();
    this.#bulk = undefined;
    this.#lastBulkId = undefined;
  }

  /** Whether a bulk answer is being read and sent: every entry of ours is on its way to the peer. */
  get sendingBulk(): boolean {
    return this.#bulk !== undefined;
  }

  /** Bytes of live entries waiting. */
  get queuedBytes(): number {
    return this.#liveBytes;
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
    for (let burst = 0; burst < this.#o.maxBurst && this.#inFlight.size < this.#o.window; burst++) {
      const m = this.#build(now);
      if (m === null) break;
      this.#inFlight.set(m.seq, { message: m, firstSentAt: now, sentAt: now, rto: this.#rto, retries: 0 });
      out.push(m);
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
        // seqs at or below the cumulative ACK are a stale NACK overtaken by an ACK: ignored. A
        // message sent again less than a round trip ago may still be on its way (the NACK crossed
        // it): not sent a third time yet.
        const send: SyncMessage[] = [];
        const guard = Math.min(this.#o.nackRetryMs / 2, this.#srtt ?? this.#o.nackRetryMs / 2);
        for (const [a, b] of m.ranges) {
          for (let s = Math.max(a, this.#ackedUpTo + 1); s <= Math.min(b, this.#nextSeq - 1); s++) {
            const f = this.#inFlight.get(s);
            if (f && (f.retries === 0 || now - f.sentAt >= guard)) send.push(this.#resend(f, now));
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
      queued: this.#liveEntries,
      queuedBytes: this.#liveBytes,
      inFlight: this.#inFlight.size,
      oldestUnackedMs: first ? now - first.firstSentAt : 0,
      highestSeq: this.#nextSeq - 1,
      ackedUpTo: this.#ackedUpTo,
      ...this.#counters,
      bulk: this.#bulk ? { id: this.#bulk.id, entriesSent: this.#bulkEntriesSent } : null,
      srttMs: this.#srtt ?? null,
      rtoMs: this.#rto,
    };
  }

  /**
   * Live entries go into a message once a full message's worth waits or the oldest has waited
   * batchDelayMs (Nagle-like: a few entries per datagram would multiply the per-datagram cost).
   */
  #liveReady(now: number): boolean {
    if (this.#liveBytes === 0) return false;
    return this.#liveBytes >= this.#budget || now - this.#oldestLiveAt >= this.#o.batchDelayMs;
  }

  /** The next DATA message: live or bulk, alternating when both wait; null when neither does. */
  #build(now: number): Data | null {
    const live = this.#liveReady(now);
    if (this.#bulk !== undefined && (this.#bulkTurn || !live)) {
      this.#bulkTurn = false;
      return this.#buildBulk(this.#bulk);
    }
    if (!live) return null;
    this.#bulkTurn = true;
    return this.#buildLive(now);
  }

  #buildLive(now: number): Data {
    const parts: Buffer[] = [];
    let used = 0;
    let count = 0;
    while (this.#live.length > 0) {
      const head = this.#live[0];
      let end = this.#liveHead;
      while (end < head.length) {
        const size = entrySizeAt(head, end);
        if (used + (end - this.#liveHead) + size > this.#budget) break;
        end += size;
        count++;
      }
      if (end > this.#liveHead) {
        parts.push(head.subarray(this.#liveHead, end));
        used += end - this.#liveHead;
      }
      if (end < head.length) {
        this.#liveHead = end;
        break;
      }
      this.#live.shift();
      this.#liveHead = 0;
    }
    this.#liveBytes -= used;
    this.#liveEntries -= count;
    if (this.#liveEntries > 0) this.#oldestLiveAt = now;
    return this.#data(0, 0, parts.length === 1 ? parts[0] : Buffer.concat(parts, used), count);
  }

  #buildBulk(b: Bulk): Data {
    let flags = 0;
    if (!b.begun) {
      b.begun = true;
      flags |= BULK_BEGIN;
    }
    const parts: Buffer[] = [];
    let used = 0;
    let count = 0;
    for (;;) {
      if (b.chunk.length === 0) {
        const next = b.source.next();
        if (next === null) {
          flags |= BULK_END;
          b.source.close();
          this.#bulk = undefined;
          break;
        }
        b.chunk = next;
        continue;
      }
      let end = 0;
      while (end < b.chunk.length) {
        const size = entrySizeAt(b.chunk, end);
        if (used + end + size > this.#budget) break;
        end += size;
        count++;
      }
      if (end > 0) {
        parts.push(b.chunk.subarray(0, end));
        used += end;
        b.chunk = b.chunk.subarray(end);
      }
      if (b.chunk.length > 0) break; // the message is full
    }
    this.#bulkEntriesSent += count;
    return this.#data(flags, b.id, Buffer.concat(parts, used), count);
  }

  #data(flags: number, bulkId: number, entries: Buffer, count: number): Data {
    const seq = this.#nextSeq++;
    this.#counters.entriesSent += count;
    this.#counters.bytesSent += entries.length;
    return { type: 'data', seq, flags, bulkId, entries };
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

  /**
   * Past the bound the peer has been away too long for a replay of changes to be worth it: every
   * queued live entry is dropped (a bulk in progress too) and a RESET tells the peer to ask for the
   * whole tables again.
   */
  #overflow(): void {
    this.#counters.droppedEntries += this.#liveEntries;
    this.#clearLive();
    this.dropBulk();
    this.#resetOutstanding = true;
  }

  #clearLive(): void {
    this.#live = [];
    this.#liveHead = 0;
    this.#liveBytes = 0;
    this.#liveEntries = 0;
  }
}
