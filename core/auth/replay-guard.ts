/**
 * The receiver's side of replay protection, per (peer, stream). Call `accept` only for messages
 * whose MAC has already been verified: unauthenticated input must never move this state.
 *
 * Three checks, in order (design and reasoning in core/auth/README.md):
 *
 * 1. Session order. A greater session id than the one held means the peer restarted: accept and
 *    start a fresh window. A smaller one is a replay from an older run: drop.
 * 2. Sequence window within a session, as in RFC 4303 §3.4.3 (IPsec anti-replay): the highest
 *    sequence number seen plus a bitmap of the `windowSize` numbers below it. Reordering within the
 *    window is tolerated; duplicates and anything older than the window are dropped.
 * 3. Staleness, which needs no synchronised clocks:
 *    - relative, within a session: the receiver keeps the smallest observed (local monotonic time −
 *      sender timestamp), the sum of path delay and clock offset. A message whose value exceeds that
 *      baseline by more than `maxDelayMs` was held back (a delay attack, or it sat in a socket
 *      buffer while we were stopped): drop it. The baseline may creep up by `driftPpm` to follow
 *      the two clocks' rate difference (NTP keeps it under 500 ppm).
 *    - absolute, only when a session is first seen: |sender timestamp − local wall clock| must be
 *      within `maxClockSkewMs` (generous, default 24 h). This only guards a receiver that holds no
 *      state for the peer (it restarted, or forgot a long-silent peer) against very old captures.
 */
import { DsrError } from '../errors.ts';

export interface ReplayGuardOptions {
  /** Reorder tolerance in messages (RFC 4303 suggests at least 32; default 64). */
  readonly windowSize?: number;
  /** Longest a message may have been delayed relative to its session's fastest one (default 2000). */
  readonly maxDelayMs?: number;
  /** Allowed |sender clock − our clock| when a session is first seen; Infinity disables (default 24 h). */
  readonly maxClockSkewMs?: number;
  /** Rate difference between clocks the relative check follows, in parts per million (default 1000). */
  readonly driftPpm?: number;
  /** A peer silent for this long is forgotten (default 24 h): bounds memory and lets a peer whose
   * clock went backwards across a restart in again. */
  readonly forgetAfterMs?: number;
  /** Most (peer, stream) entries kept; the longest-silent one is evicted (default 1024). */
  readonly maxEntries?: number;
}

export interface ReplayInput {
  readonly peer: number;
  readonly stream: string;
  readonly session: bigint;
  readonly seq: bigint;
  readonly timestampMs: number;
}

/** Receiver clocks: `mono` for intervals (never steps), `wall` only for the absolute check. */
export interface GuardNow {
  readonly mono: number;
  readonly wall: number;
}

export type ReplayVerdict = 'ok' | 'replay' | 'stale';

export interface ReplayEntrySnapshot {
  readonly peer: number;
  readonly stream: string;
  readonly session: string;
  readonly highestSeq: string;
  readonly lastAcceptedMono: number;
}

/** What a receiver held for a peer's stream: its session and the highest sequence number accepted. */
export interface ReplaySeed {
  readonly peer: number;
  readonly session: bigint;
  readonly highestSeq: bigint;
}

interface Entry {
  session: bigint;
  highest: bigint;
  /** Bit i set: sequence number (highest − i) was accepted. */
  bitmap: bigint;
  /** min(mono − senderTimestamp), allowed to creep by driftPpm since `baselineAt`. */
  baseline: number;
  baselineAt: number;
  lastAccepted: number;
}

const DAY_MS = 24 * 3600 * 1000;

export class ReplayGuard {
  readonly #window: bigint;
  readonly #mask: bigint;
  readonly #maxDelayMs: number;
  readonly #maxSkewMs: number;
  readonly #drift: number;
  readonly #forgetAfterMs: number;
  readonly #maxEntries: number;
  readonly #entries = new Map<string, Entry>();

  constructor(options: ReplayGuardOptions = {}) {
    const windowSize = options.windowSize ?? 64;
    if (!Number.isInteger(windowSize) || windowSize < 1 || windowSize > 4096) {
      throw new DsrError('E_CONFIG_INVALID', 'replay window size must be an integer 1..4096', { windowSize });
    }
    this.#window = BigInt(windowSize);
    this.#mask = (1n << this.#window) - 1n;
    this.#maxDelayMs = options.maxDelayMs ?? 2000;
    this.#maxSkewMs = options.maxClockSkewMs ?? DAY_MS;
    this.#drift = (options.driftPpm ?? 1000) / 1e6;
    this.#forgetAfterMs = options.forgetAfterMs ?? DAY_MS;
    this.#maxEntries = options.maxEntries ?? 1024;
  }

  /** Checks a message and, if it passes, records it. State changes only on 'ok'. */
  accept(input: ReplayInput, now: GuardNow): ReplayVerdict {
    const key = `${input.peer}/${input.stream}`;
    let entry = this.#entries.get(key);
    if (entry !== undefined && now.mono - entry.lastAccepted > this.#forgetAfterMs) {
      this.#entries.delete(key);
      entry = undefined;
    }
    const sample = now.mono - input.timestampMs;

    if (entry === undefined || input.session > entry.session) {
      if (Math.abs(input.timestampMs - now.wall) > this.#maxSkewMs) return 'stale';
      this.#store(key, {
        session: input.session,
        highest: input.seq,
        bitmap: 1n,
        baseline: sample,
        baselineAt: now.mono,
        lastAccepted: now.mono,
      });
      return 'ok';
    }
    if (input.session < entry.session) return 'replay';

    // Same session: the RFC 4303 §3.4.3 sliding window.
    let shift = 0n;
    if (input.seq > entry.highest) {
      shift = input.seq - entry.highest;
    } else {
      const offset = entry.highest - input.seq;
      if (offset >= this.#window) return 'replay';
      if ((entry.bitmap >> offset) & 1n) return 'replay';
    }

    const crept = entry.baseline + this.#drift * Math.max(0, now.mono - entry.baselineAt);
    const baseline = Math.min(crept, sample);
    if (sample - baseline > this.#maxDelayMs) return 'stale';

    if (shift > 0n) {
      entry.bitmap = shift >= this.#window ? 1n : ((entry.bitmap << shift) | 1n) & this.#mask;
      entry.highest = input.seq;
    } else {
      entry.bitmap |= 1n << (entry.highest - input.seq);
    }
    entry.baseline = baseline;
    entry.baselineAt = now.mono;
    entry.lastAccepted = now.mono;
    return 'ok';
  }

  /**
   * Takes back what an earlier run of this receiver recorded for a peer (its session and the
   * highest sequence number accepted): that session's messages up to that number are replays, so
   * a stream recorded before our restart cannot be played back to us as if we had never heard it
   * (issue 21, item 3). A greater session is the peer's restart, as always. The relative staleness
   * baseline starts again with the next message.
   */
  seed(peer: number, stream: string, session: bigint, highestSeq: bigint, nowMono: number): void {
    this.#store(`${peer}/${stream}`, {
      session,
      highest: highestSeq,
      bitmap: this.#mask,
      baseline: Number.POSITIVE_INFINITY,
      baselineAt: nowMono,
      lastAccepted: nowMono,
    });
  }

  /** Drops what we hold for a peer (operator action, e.g. after a peer's clock was reset). */
  forget(peer: number): void {
    for (const key of [...this.#entries.keys()]) {
      if (key.startsWith(`${peer}/`)) this.#entries.delete(key);
    }
  }

  /** What this guard holds for `stream`, per peer: what the next run seeds from (seed()). */
  seeds(stream: string): ReplaySeed[] {
    return this.snapshot()
      .filter((e) => e.stream === stream)
      .map((e) => ({ peer: e.peer, session: BigInt(`0x${e.session}`), highestSeq: BigInt(e.highestSeq) }));
  }

  snapshot(): ReplayEntrySnapshot[] {
    return [...this.#entries].map(([key, e]) => {
      const slash = key.indexOf('/');
      return {
        peer: Number(key.slice(0, slash)),
        stream: key.slice(slash + 1),
        session: e.session.toString(16),
        highestSeq: e.highest.toString(),
        lastAcceptedMono: e.lastAccepted,
      };
    });
  }

  #store(key: string, entry: Entry): void {
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) {
      let oldestKey: string | undefined;
      let oldest = Number.POSITIVE_INFINITY;
      for (const [k, e] of this.#entries) {
        if (e.lastAccepted < oldest) {
          oldest = e.lastAccepted;
          oldestKey = k;
        }
      }
      if (oldestKey !== undefined) this.#entries.delete(oldestKey);
    }
    this.#entries.set(key, entry);
  }
}
