/**
 * Counting a peer's tables from its bulk answer: after a handover the drill
 * pulls the new master's whole tables, and what arrives between the bulk's first and last message
 * is exactly what that director holds. This is how the drill learns the new master's flow count
 * through the sync protocol, without a socket to the other daemon.
 *
 * Only a bulk that *begins* after start() counts: the receiver brackets the bulk it asked for
 * (bulk-begin / bulk-end), and live updates outside a bracket are not part of the table count.
 */
import type { TableTally } from '../admin/catalogue/drill.ts';
import { readEntries } from './entries.ts';
import type { ApplyOp } from './receiver.ts';

export class BulkTally {
  readonly #longLivedMs: number;
  #counting: TableTally | null = null;
  #result: TableTally | null = null;

  /** @param longLivedMs entries with more than this left to live count as long-lived. */
  constructor(longLivedMs: number) {
    this.#longLivedMs = longLivedMs;
  }

  /** The completed tally, once a whole bulk arrived. */
  get result(): TableTally | null {
    return this.#result;
  }

  feed(ops: readonly ApplyOp[]): void {
    for (const op of ops) {
      if (this.#result !== null) return;
      if (op.op === 'bulk-begin') {
        this.#counting = { conns: 0, longLived: 0, persist: 0 };
      } else if (op.op === 'bulk-end') {
        if (this.#counting !== null) this.#result = this.#counting;
        this.#counting = null;
      } else if (this.#counting !== null) {
        const decoded = readEntries(op.entries, 0, op.entries.length);
        if (!decoded.ok) continue;
        for (const e of decoded.entries) {
          if (e.kind === 'conn') {
            this.#counting.conns++;
            if (e.lifetimeMs > this.#longLivedMs) this.#counting.longLived++;
          } else if (e.kind === 'persist') {
            this.#counting.persist++;
          }
        }
      }
    }
  }
}
