/**
 * The replicated log in memory: a snapshot (index 0, term 0 for none) and the entries after it.
 * The core keeps it in step with what it asks the driver to persist, so a restart rebuilds it from
 * the persisted state (`PersistedState`).
 */
import { DsrError } from '../../core/errors.ts';
import type { Entry, PersistedState, Snapshot } from './types.ts';

const NO_SNAPSHOT: Snapshot = { index: 0, term: 0, data: new Uint8Array(0) };

export class RaftLog {
  private base: Snapshot;
  private entries: Entry[];
  /** The highest index known committed. */
  commit: number;

  constructor(state: PersistedState) {
    this.base = state.snapshot ?? NO_SNAPSHOT;
    this.entries = [...state.entries];
    this.entries.forEach((entry, i) => {
      if (entry.index !== this.base.index + 1 + i) {
        throw new DsrError('E_ELECTION_INPUT', 'the persisted raft entries do not follow the snapshot', {
          snapshotIndex: this.base.index,
          position: i,
          index: entry.index,
        });
      }
    });
    this.commit = Math.max(state.hardState.commit, this.base.index);
    if (this.commit > this.lastIndex()) {
      throw new DsrError('E_ELECTION_INPUT', 'the persisted raft commit index is past the persisted log', {
        commit: this.commit,
        lastIndex: this.lastIndex(),
      });
    }
  }

  get snapshot(): Snapshot {
    return this.base;
  }

  lastIndex(): number {
    return this.base.index + this.entries.length;
  }

  lastTerm(): number {
    return this.term(this.lastIndex()) as number;
  }

  /** The term of entry `index`; undefined when compacted away or not yet appended. */
  term(index: number): number | undefined {
    if (index === this.base.index) return this.base.term;
    return this.entries[index - this.base.index - 1]?.term;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /** Raft §5.4.1: a candidate's log is at least as up to date as ours. */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  /** Entries from `from` on, at most `max`; from must be past the snapshot. */
  slice(from: number, max: number): Entry[] {
    const start = from - this.base.index - 1;
    return this.entries.slice(start, start + max);
  }

  /** The leader's own append. */
  appendNew(term: number, data: Uint8Array): Entry {
    const entry = { index: this.lastIndex() + 1, term, data };
    this.entries.push(entry);
    return entry;
  }

  /**
   * A follower's append after `prevIndex` (which matched): skips entries it has, truncates at the
   * first conflict (Raft §5.3: never a committed one), and says what to persist.
   */
  appendAfter(
    prevIndex: number,
    entries: readonly Entry[],
  ): { truncateFrom: number | null; appended: Entry[] } {
    let i = 0;
    while (i < entries.length) {
      const entry = entries[i] as Entry;
      if (entry.index <= this.base.index || this.matchTerm(entry.index, entry.term)) i += 1;
      else break;
    }
    if (i === entries.length) return { truncateFrom: null, appended: [] };
    const first = (entries[i] as Entry).index;
    if (first !== prevIndex + 1 + i) throw new Error('raft append entries out of order');
    let truncateFrom: number | null = null;
    if (first <= this.lastIndex()) {
      if (first <= this.commit) {
        throw new DsrError('E_ILLEGAL_TRANSITION', 'a leader asked to overwrite a committed raft entry', {
          index: first,
          commit: this.commit,
        });
      }
      truncateFrom = first;
      this.entries.length = first - this.base.index - 1;
    }
    const appended = entries.slice(i);
    this.entries.push(...appended);
    return { truncateFrom, appended };
  }

  /** Committed entries after `applied`, in order. */
  committedAfter(applied: number): Entry[] {
    return this.slice(applied + 1, this.commit - applied);
  }

  /** A leader's snapshot replaces the log (Raft §7: the follower's entries are discarded). */
  restore(snapshot: Snapshot): void {
    this.base = snapshot;
    this.entries = [];
    this.commit = snapshot.index;
  }

  /** The state machine as of applied entry `index` becomes the snapshot; entries up to it go. */
  compact(index: number, data: Uint8Array): Snapshot {
    const term = this.term(index);
    if (term === undefined || index > this.commit) {
      throw new DsrError(
        'E_ILLEGAL_TRANSITION',
        'a raft snapshot must be at a committed index still in the log',
        {
          index,
          snapshotIndex: this.base.index,
          commit: this.commit,
        },
      );
    }
    this.entries = this.entries.slice(index - this.base.index);
    this.base = { index, term, data };
    return this.base;
  }
}
