/**
 * An in-memory LocalTables for the sync's unit tests: entries by key with the epoch that wrote
 * them; `change()` plays the forwarder reporting new flows (the ring buffer), and the walks read
 * the map in chunks as the BPF tables would.
 */
import { EntryPacker, entryKey, readEntries, type SyncEntry } from '../../sync/entries.ts';
import type { BulkSource } from '../../sync/sender.ts';
import type { LocalTables, Packed } from '../../sync/table.ts';

export class MemoryTables implements LocalTables {
  /** Entries by key, with the sync epoch that wrote them (0: made here). */
  readonly map = new Map<string, { entry: SyncEntry; epoch: number }>();
  readonly #changes = new EntryPacker();
  readonly #ours: (vip: Uint8Array) => boolean;
  readonly #chunk: number;
  #refresh: SyncEntry[] | null = null;
  #refreshAt = 0;
  bulksOpened = 0;
  bulksOpen = 0;

  constructor(opts: { ours?: (vip: Uint8Array) => boolean; chunk?: number } = {}) {
    this.#ours = opts.ours ?? (() => false);
    this.#chunk = opts.chunk ?? 64;
  }

  /** Entries the table held before anyone listened: in the table, never reported as changes. */
  load(entries: readonly SyncEntry[]): void {
    for (const e of entries) this.map.set(entryKey(e), { entry: e, epoch: 0 });
  }

  /** The local forwarder made or changed these entries: they are in the table and reported. */
  change(entries: readonly SyncEntry[]): void {
    for (const e of entries) {
      if (e.kind === 'conn-delete') this.map.delete(entryKey(e));
      else this.map.set(entryKey(e), { entry: e, epoch: 0 });
      this.#changes.add(e);
    }
  }

  entries(): Map<string, SyncEntry> {
    return new Map([...this.map].map(([k, v]) => [k, v.entry]));
  }

  changes(): Packed {
    const count = this.#changes.count;
    return { entries: this.#changes.take(), count };
  }

  openBulk(): BulkSource {
    this.bulksOpened++;
    this.bulksOpen++;
    const all = [...this.map.values()].map((v) => v.entry);
    let at = 0;
    let open = true;
    return {
      next: () => {
        if (!open || at >= all.length) return null;
        const out = new EntryPacker();
        for (const e of all.slice(at, at + this.#chunk)) out.add(e);
        at += this.#chunk;
        return out.take();
      },
      close: () => {
        if (open) this.bulksOpen--;
        open = false;
      },
    };
  }

  refresh(max: number): Packed & { passDone: boolean; read: number } {
    this.#refresh ??= [...this.map.values()].map((v) => v.entry);
    const out = new EntryPacker();
    // Whole chunks, as a walk of a BPF map reads whole batches: at least one, maybe more than `max`.
    const n = Math.max(1, Math.ceil(max / this.#chunk)) * this.#chunk;
    const part = this.#refresh.slice(this.#refreshAt, this.#refreshAt + n);
    for (const e of part) if (this.#ours(e.vip)) out.add(e);
    this.#refreshAt += part.length;
    const passDone = this.#refreshAt >= this.#refresh.length;
    if (passDone) {
      this.#refresh = null;
      this.#refreshAt = 0;
    }
    const count = out.count;
    return { entries: out.take(), count, passDone, read: part.length };
  }

  write(entries: Buffer, epoch: number, fromBulk: boolean): void {
    const d = readEntries(entries, 0, entries.length);
    if (!d.ok) throw new Error(d.reason);
    for (const e of d.entries) {
      if (fromBulk && this.#ours(e.vip)) continue;
      if (e.kind === 'conn-delete') this.map.delete(entryKey(e));
      else this.map.set(entryKey(e), { entry: copy(e), epoch });
    }
  }

  sweep(epoch: number): void {
    for (const [k, v] of this.map) if (v.epoch !== epoch && !this.#ours(v.entry.vip)) this.map.delete(k);
  }

  work(): void {}
}

/** Received entries are views into a datagram: a table keeps copies. */
function copy(e: SyncEntry): SyncEntry {
  return {
    ...e,
    client: Uint8Array.from(e.client),
    vip: Uint8Array.from(e.vip),
    realServer: e.realServer ? Uint8Array.from(e.realServer) : undefined,
  };
}
