/**
 * The local tables as the sync sees them, and the applier that turns a
 * receiver's ops into table changes. The real table is the forwarder's pinned
 * BPF maps; tests use an in-memory one.
 */
import { entryKey, type SyncEntry } from './entries.ts';
import type { ApplyOp } from './receiver.ts';

export interface SyncTable {
  /** Creates or replaces the entry (conn or persist). */
  upsert(entry: SyncEntry): void;
  /** Creates or replaces many entries (none is a conn-delete); optional, for tables where a batch is cheaper. */
  upsertMany?(entries: readonly SyncEntry[]): void;
  /** Removes the entry with this key, if present. */
  remove(entry: SyncEntry): void;
  /** Every entry, with its remaining lifetime now: the source of a bulk answer and of the sweep. */
  entries(): Iterable<SyncEntry>;
}

/**
 * Applies ops in order. During a bulk it remembers which keys it saw; at the bulk's end, entries it
 * did not see (and that no live update touched since the bulk began) are gone on the peer and are
 * removed here: a bulk replaces the table, it does not only add to it.
 */
export class SyncApplier {
  readonly #table: SyncTable;
  #seen: Set<string> | undefined;
  swept = 0;

  constructor(table: SyncTable) {
    this.#table = table;
  }

  apply(ops: readonly ApplyOp[]): void {
    // Consecutive upserts go to the table as one batch; deletes and bulk markers end a batch, so
    // the order of changes to any one key is kept.
    let batch: SyncEntry[] = [];
    const flush = () => {
      if (batch.length === 0) return;
      if (this.#table.upsertMany) this.#table.upsertMany(batch);
      else for (const e of batch) this.#table.upsert(e);
      batch = [];
    };
    for (const op of ops) {
      if (op.op === 'entry') {
        const e = op.entry;
        this.#seen?.add(entryKey(e));
        if (e.kind !== 'conn-delete') {
          batch.push(e);
          continue;
        }
        flush();
        this.#table.remove(e);
      } else if (op.op === 'bulk-begin') {
        flush();
        this.#seen = new Set();
      } else if (this.#seen) {
        flush();
        const stale = [...this.#table.entries()].filter((e) => !this.#seen!.has(entryKey(e)));
        for (const e of stale) this.#table.remove(e);
        this.swept += stale.length;
        this.#seen = undefined;
      }
    }
    flush();
  }
}

/** An in-memory SyncTable (tests, and a director with no forwarder attached). */
export class MemorySyncTable implements SyncTable {
  readonly map = new Map<string, SyncEntry>();

  upsert(entry: SyncEntry): void {
    this.map.set(entryKey(entry), entry);
  }

  remove(entry: SyncEntry): void {
    this.map.delete(entryKey(entry));
  }

  entries(): Iterable<SyncEntry> {
    return this.map.values();
  }
}
