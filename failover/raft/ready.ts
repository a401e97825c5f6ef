/** Accumulates what one input to the Raft core produces (types.ts, `RaftOutput`). */
import type {
  Entry,
  HardState,
  RaftEffect,
  RaftMessage,
  RaftOutgoing,
  RaftOutput,
  Snapshot,
} from './types.ts';

export class ReadyBuilder {
  hardState: HardState | null = null;
  truncateFrom: number | null = null;
  readonly entries: Entry[] = [];
  snapshot: Snapshot | null = null;
  restore: Snapshot | null = null;
  readonly messages: RaftOutgoing[] = [];
  committed: Entry[] = [];
  readonly effects: RaftEffect[] = [];

  send(to: number, message: RaftMessage): void {
    this.messages.push({ to, message });
  }

  /** Entries to persist; a truncation drops what this step appended past it too. */
  append(entries: readonly Entry[], truncateFrom: number | null = null): void {
    if (truncateFrom !== null) {
      this.truncateFrom = Math.min(this.truncateFrom ?? truncateFrom, truncateFrom);
      const kept = this.entries.filter((entry) => entry.index < truncateFrom);
      this.entries.length = 0;
      this.entries.push(...kept);
    }
    this.entries.push(...entries);
  }

  finish(): RaftOutput {
    return {
      hardState: this.hardState,
      truncateFrom: this.truncateFrom,
      entries: this.entries,
      snapshot: this.snapshot,
      messages: this.messages,
      restore: this.restore,
      committed: this.committed,
      effects: this.effects,
    };
  }
}
