/**
 * The local tables as the sync sees them, and the applier that turns a
 * receiver's ops into table changes. The real table is the forwarder's pinned
 * BPF maps (bpf-table.ts); tests use an in-memory one.
 *
 * A bulk replaces the table, it does not only add to it: every entry the
 * sync writes is stamped with the applier's current *epoch*, a new epoch
 * begins with each bulk, and at the bulk's end the entries of an older epoch
 * (gone on the peer while we were not listening, and not written by a live
 * update since the bulk began) are swept away. Stamps live in the entries
 * themselves, so the sweep needs no list of the keys a bulk carried.
 */
import type { ApplyOp } from './receiver.ts';

/**
 * How much longer than on the peer an entry written from the sync lives here: two refresh periods.
 * A refresh pass is paced to end within one, and one more covers a pass that a busy link or host
 * made late (sync/README.md, "Refresh").
 */
export const copyMarginMs = (refreshMs: number): number => 2 * refreshMs;

import type { BulkSource } from './sender.ts';

export interface SyncTable {
  /**
   * Writes a run of encoded entries in order: connections and persistence entries created or
   * replaced, stamped with `epoch`; conn-deletes removed. In a bulk (`fromBulk`), entries of the
   * VIPs whose group we master are skipped: for them our own table is the authority, and the
   * peer's copies may be older. Live updates are written whatever the VIP: a peer makes them only
   * for flows it forwarded, as the master of a moment ago (a handover back, frames still sent to
   * it), and they are new to us.
   */
  write(entries: Buffer, epoch: number, fromBulk: boolean): void;
  /** Starts removing every entry the sync may own that is not stamped with `epoch` (it may finish later). */
  sweep(epoch: number): void;
}

/** Whole entries encoded back to back, and how many. */
export interface Packed {
  entries: Buffer;
  count: number;
}

/** This director's tables as the sync uses them: the BPF maps (bpf-table.ts), or a fake in tests. */
export interface LocalTables extends SyncTable {
  /** What the forwarder reported since the last call (new flows, state changes, persistence). */
  changes(): Packed;
  /** A reader of every live entry, a chunk at a time, for a bulk answer. */
  openBulk(): BulkSource;
  /**
   * The live entries of our own VIPs among about `max` entries read, continuing a walk of the
   * tables (`read` says how many were read); `passDone` when the walk reached the end (the next
   * call starts over).
   */
  refresh(max: number): Packed & { passDone: boolean; read: number };
  /** Continues background work (a sweep) a bounded step at a time. */
  work(): void;
}

/** Epochs are u16 and 0 means "made here, not by the sync". */
export function nextEpoch(epoch: number): number {
  return (epoch % 0xffff) + 1;
}

/** Applies a receiver's ops in order, keeping the epoch: a new one begins with each bulk. */
export class SyncApplier {
  readonly #table: SyncTable;
  #epoch: number;
  #inBulk = false;

  /** @param firstEpoch a random start, so a restarted director does not reuse its last run's epoch. */
  constructor(table: SyncTable, firstEpoch: number) {
    this.#table = table;
    this.#epoch = (firstEpoch % 0xffff) + 1;
  }

  get epoch(): number {
    return this.#epoch;
  }

  apply(ops: readonly ApplyOp[]): void {
    for (const op of ops) {
      if (op.op === 'bulk-begin') {
        this.#epoch = nextEpoch(this.#epoch);
        this.#inBulk = true;
      } else if (op.op === 'bulk-end') {
        if (this.#inBulk) this.#table.sweep(this.#epoch);
        this.#inBulk = false;
      } else {
        this.#table.write(op.entries, this.#epoch, op.bulk);
      }
    }
  }
}
