/**
 * The leader's side of log replication (Raft §5.3) and of the lease (./lease.ts): what each voter
 * has acknowledged, what to send it next, when an entry commits, and until when the lease holds.
 */
import { quorumStamp } from './lease.ts';
import type { RaftLog } from './log.ts';
import type { ReadyBuilder } from './ready.ts';
import type { RaftMessage } from './types.ts';
import type { Voters } from './voters.ts';

interface Progress {
  /** Highest index known to match ours (0 for a witness: it holds no log). */
  match: number;
  /** Next index to send. */
  next: number;
  /** Newest append stamp the voter answered in this term. */
  stamp: number;
}

export class Replication {
  readonly #progress = new Map<number, Progress>();
  private readonly id: number;
  private readonly term: number;
  private readonly voters: Voters;
  private readonly log: RaftLog;
  private readonly maxEntriesPerAppend: number;

  constructor(id: number, term: number, voters: Voters, log: RaftLog, maxEntriesPerAppend: number) {
    this.id = id;
    this.term = term;
    this.voters = voters;
    this.log = log;
    this.maxEntriesPerAppend = maxEntriesPerAppend;
    for (const peer of voters.peersOf(id)) {
      this.#progress.set(peer, { match: 0, next: log.lastIndex() + 1, stamp: Number.NEGATIVE_INFINITY });
    }
  }

  match(peer: number): number {
    return this.#progress.get(peer)?.match ?? 0;
  }

  isCaughtUp(peer: number): boolean {
    return this.match(peer) === this.log.lastIndex();
  }

  /** Appends (or the snapshot) to every voter; stamped `now`. */
  broadcast(now: number, out: ReadyBuilder): void {
    for (const peer of this.#progress.keys()) this.sendAppend(peer, now, out);
  }

  /** To the log holders only: new entries or a new commit index (witnesses get the next heartbeat). */
  replicate(now: number, out: ReadyBuilder): void {
    for (const peer of this.#progress.keys())
      if (!this.voters.isWitness(peer)) this.sendAppend(peer, now, out);
  }

  sendAppend(peer: number, now: number, out: ReadyBuilder): void {
    const progress = this.#progress.get(peer) as Progress;
    const base = { from: this.id, term: this.term, stamp: now };
    if (this.voters.isWitness(peer)) {
      out.send(peer, { type: 'append', ...base, prevIndex: 0, prevTerm: 0, entries: [], commit: 0 });
      return;
    }
    const prevIndex = progress.next - 1;
    const prevTerm = this.log.term(prevIndex);
    if (prevTerm === undefined) {
      // Compacted away (Raft §7): the follower starts again from the snapshot.
      out.send(peer, { type: 'snapshot', ...base, snapshot: this.log.snapshot });
      return;
    }
    const entries = this.log.slice(progress.next, this.maxEntriesPerAppend);
    out.send(peer, { type: 'append', ...base, prevIndex, prevTerm, entries, commit: this.log.commit });
  }

  /**
   * An answer of this term. Any answer, refusal included, shows the voter took us as leader after
   * `stamp`, so it counts for the lease. Returns whether the commit index moved.
   */
  onResponse(
    now: number,
    message: Extract<RaftMessage, { type: 'append-response' }>,
    out: ReadyBuilder,
  ): boolean {
    const progress = this.#progress.get(message.from);
    if (progress === undefined) return false;
    progress.stamp = Math.max(progress.stamp, message.stamp);
    if (this.voters.isWitness(message.from)) return false;
    if (message.success) {
      if (message.index <= progress.match) return false; // a duplicate or an older answer
      progress.match = message.index;
      progress.next = Math.max(progress.next, message.index + 1);
      const committed = this.#maybeCommit();
      if (progress.match < this.log.lastIndex()) this.sendAppend(message.from, now, out);
      return committed;
    }
    // Refused: back off to the follower's last index, never below what it has acknowledged.
    const next = Math.max(progress.match + 1, Math.min(progress.next - 1, message.index + 1));
    if (next >= progress.next) return false; // a stale refusal: the next heartbeat retries
    progress.next = next;
    this.sendAppend(message.from, now, out);
    return false;
  }

  /** Our own append: for a lone log holder it commits at once. */
  onOwnAppend(): boolean {
    return this.#maybeCommit();
  }

  /**
   * Raft §5.3/§5.4.2: the highest index held by a commit quorum of log holders (Voters), and only
   * an entry of the current term commits by counting.
   */
  #maybeCommit(): boolean {
    const matches = [this.log.lastIndex()];
    for (const [peer, progress] of this.#progress)
      if (!this.voters.isWitness(peer)) matches.push(progress.match);
    matches.sort((a, b) => b - a);
    const index = matches[this.voters.commitQuorum - 1] as number;
    if (index <= this.log.commit || this.log.term(index) !== this.term) return false;
    this.log.commit = index;
    return true;
  }

  /** The lease's start (./lease.ts): the newest stamp a vote quorum has answered, ourselves at `now`. */
  leaseStart(now: number): number {
    const stamps = [...this.#progress.values()].map((progress) => progress.stamp);
    return quorumStamp(now, stamps, this.voters.voteQuorum);
  }
}
