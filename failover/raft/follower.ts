/** A follower's side of replication: Raft §5.3's receiver rules for appends, §7's for snapshots. */
import type { RaftLog } from './log.ts';
import type { ReadyBuilder } from './ready.ts';
import type { RaftMessage, Snapshot } from './types.ts';

/** Applies an append of the current leader to the log; the answer's success and index. */
export function acceptAppend(
  log: RaftLog,
  witness: boolean,
  message: Extract<RaftMessage, { type: 'append' }>,
  out: ReadyBuilder,
): { success: boolean; index: number } {
  if (witness) return { success: true, index: 0 };
  if (message.prevIndex < log.commit) {
    // Entries up to our commit match any leader's (Leader Completeness, Raft §5.4); resume after it.
    return { success: true, index: log.commit };
  }
  if (!log.matchTerm(message.prevIndex, message.prevTerm)) {
    return { success: false, index: Math.min(message.prevIndex - 1, log.lastIndex()) };
  }
  const { truncateFrom, appended } = log.appendAfter(message.prevIndex, message.entries);
  out.append(appended, truncateFrom);
  const lastNew = message.prevIndex + message.entries.length;
  log.commit = Math.max(log.commit, Math.min(message.commit, lastNew));
  return { success: true, index: lastNew };
}

/**
 * A leader's snapshot past our commit replaces the log and the state machine (restored and
 * persisted, every entry after it dropped). Returns whether it did.
 */
export function acceptSnapshot(
  log: RaftLog,
  witness: boolean,
  snapshot: Snapshot,
  out: ReadyBuilder,
): boolean {
  if (witness || snapshot.index <= log.commit) return false;
  log.restore(snapshot);
  out.append([], snapshot.index + 1);
  out.snapshot = snapshot;
  out.restore = snapshot;
  return true;
}
