/**
 * The memory the election thread and its advert keeper (./advert-keeper.ts) share: a
 * SharedArrayBuffer of 64-bit cells, read and written with Atomics, so each side sees the other's
 * last word at once, whether or not the other is scheduled. Times are the main thread's monotonic
 * ms, stored as whole microseconds; 0 means never.
 *
 * Cells: the session's sequence number (both threads sign as one sender, core/auth/session.ts);
 * the template epoch (the keeper covers only with the templates of the current epoch); the
 * keeper's counters; and per group slot, when the election thread last sent a master advert and
 * until when the keeper's adverts have followed it without a gap.
 */
import type { SequenceCell } from '../../core/auth/session.ts';

const SEQ = 0;
const EPOCH = 1;
const COUNTERS = ['covers', 'advertsSent', 'longestSilenceUs', 'gaveUp', 'sendErrors'] as const;
const HEADER = 2 + COUNTERS.length;
const PER_SLOT = 2;

export type CoverCounter = (typeof COUNTERS)[number];

const toUs = (ms: number): bigint => BigInt(Math.max(1, Math.round(ms * 1000)));
const fromUs = (us: bigint): number | null => (us === 0n ? null : Number(us) / 1000);

export class CoverBoard {
  readonly buffer: SharedArrayBuffer;
  readonly slots: number;
  readonly #cells: BigInt64Array;

  /** A new board for `slots` groups, or one over a buffer the other thread made. */
  constructor(slots: number, buffer?: SharedArrayBuffer) {
    this.slots = slots;
    this.buffer = buffer ?? new SharedArrayBuffer((HEADER + PER_SLOT * slots) * 8);
    this.#cells = new BigInt64Array(this.buffer);
  }

  get sequence(): SequenceCell {
    return { array: this.#cells, index: SEQ };
  }

  get epoch(): bigint {
    return Atomics.load(this.#cells, EPOCH);
  }

  /** A new epoch: templates of earlier ones are stale from now on. */
  bumpEpoch(): bigint {
    return Atomics.add(this.#cells, EPOCH, 1n) + 1n;
  }

  count(counter: CoverCounter, by = 1): void {
    Atomics.add(this.#cells, 2 + COUNTERS.indexOf(counter), BigInt(by));
  }

  raise(counter: CoverCounter, to: number): void {
    const index = 2 + COUNTERS.indexOf(counter);
    const value = BigInt(Math.round(to));
    if (value > Atomics.load(this.#cells, index)) Atomics.store(this.#cells, index, value);
  }

  counters(): Record<CoverCounter, number> {
    return Object.fromEntries(
      COUNTERS.map((c, i) => [c, Number(Atomics.load(this.#cells, 2 + i))]),
    ) as Record<CoverCounter, number>;
  }

  /** When the election thread last sent a master advert for the slot's group. */
  threadSentAt(slot: number): number | null {
    return fromUs(Atomics.load(this.#cells, this.#slot(slot)));
  }

  setThreadSentAt(slot: number, ms: number): void {
    Atomics.store(this.#cells, this.#slot(slot), toUs(ms));
  }

  /** Until when the keeper's adverts followed the thread's with no gap a backup could act on. */
  coveredUntil(slot: number): number | null {
    return fromUs(Atomics.load(this.#cells, this.#slot(slot) + 1));
  }

  setCoveredUntil(slot: number, ms: number): void {
    Atomics.store(this.#cells, this.#slot(slot) + 1, toUs(ms));
  }

  #slot(slot: number): number {
    if (!Number.isInteger(slot) || slot < 0 || slot >= this.slots)
      throw new RangeError(`no cover slot ${slot}`);
    return HEADER + PER_SLOT * slot;
  }
}
