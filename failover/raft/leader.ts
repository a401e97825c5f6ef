/**
 * One term of leadership: the heartbeat timer, check-quorum (thesis §6.2), leadership transfer
 * (§3.10), proposals, and the lease (./lease.ts). Created when a voter wins, dropped when it steps
 * down, so nothing of it outlives the term.
 */
import { DsrError } from '../../core/errors.ts';
import type { RaftLog } from './log.ts';
import type { RaftOptions } from './options.ts';
import type { ReadyBuilder } from './ready.ts';
import { Replication } from './replication.ts';
import type { RaftMessage } from './types.ts';
import type { Voters } from './voters.ts';

export class Leadership {
  readonly #options: RaftOptions;
  readonly #term: number;
  readonly #log: RaftLog;
  readonly #voters: Voters;
  readonly #leaseMs: number;
  readonly #replication: Replication;
  readonly #since: number;
  #heartbeatDeadline: number;
  #transfer: { target: number; deadline: number } | null = null;

  /** Raft §8: the new leader appends a no-op of its term (entries of earlier terms commit with it) and sends it. */
  constructor(
    now: number,
    term: number,
    context: { options: RaftOptions; log: RaftLog; voters: Voters; leaseMs: number },
    out: ReadyBuilder,
  ) {
    this.#options = context.options;
    this.#term = term;
    this.#log = context.log;
    this.#voters = context.voters;
    this.#leaseMs = context.leaseMs;
    this.#since = now;
    this.#replication = new Replication(
      this.#options.id,
      term,
      this.#voters,
      this.#log,
      this.#options.maxEntriesPerAppend,
    );
    out.append([this.#log.appendNew(term, new Uint8Array(0))]);
    this.#replication.onOwnAppend();
    this.#replication.broadcast(now, out);
    this.#heartbeatDeadline = now + this.#options.heartbeatIntervalMs;
  }

  get transferTarget(): number | null {
    return this.#transfer?.target ?? null;
  }

  match(peer: number): number {
    return this.#replication.match(peer);
  }

  /** The lease's end, null when not held: none during a transfer (it was given up for it). */
  lease(now: number): number | null {
    if (this.#transfer !== null) return null;
    const until = this.#replication.leaseStart(now) + this.#leaseMs;
    return until > now ? until : null;
  }

  nextDeadline(lease: number | null): number {
    return Math.min(this.#heartbeatDeadline, lease ?? Infinity, this.#transfer?.deadline ?? Infinity);
  }

  /** Time passed; false when the leader must step down. */
  tick(now: number, out: ReadyBuilder): boolean {
    // The lease was given up for a transfer that did not finish; taking it again in this term could
    // meet a late TimeoutNow. Step down instead: an ordinary election follows.
    if (this.#transfer !== null && now >= this.#transfer.deadline) return false;
    // Check-quorum: a vote quorum answered within one election timeout (answers, not any message:
    // a voter we cannot reach may still reach us).
    const answered = Math.max(this.#since, this.#replication.leaseStart(now));
    if (answered < now - this.#options.electionTimeoutMs) return false;
    if (now >= this.#heartbeatDeadline) {
      this.#replication.broadcast(now, out);
      this.#heartbeatDeadline = now + this.#options.heartbeatIntervalMs;
    }
    return true;
  }

  propose(now: number, data: Uint8Array, out: ReadyBuilder): void {
    this.#mustNotTransfer('propose');
    out.append([this.#log.appendNew(this.#term, data)]);
    this.#replication.onOwnAppend();
    this.#replication.replicate(now, out);
  }

  /** The lease goes first: the caller gives it up ahead of this step's messages (types.ts, RaftOutput). */
  transfer(now: number, target: number, out: ReadyBuilder): void {
    this.#mustNotTransfer('transfer');
    if (target === this.#options.id || !this.#voters.has(target) || this.#voters.isWitness(target)) {
      throw new DsrError('E_ELECTION_INPUT', 'leadership goes only to another director among the voters', {
        target,
      });
    }
    this.#transfer = { target, deadline: now + this.#options.electionTimeoutMs };
    if (this.#replication.isCaughtUp(target)) this.#timeoutNow(target, out);
    else this.#replication.sendAppend(target, now, out);
  }

  onResponse(
    now: number,
    message: Extract<RaftMessage, { type: 'append-response' }>,
    out: ReadyBuilder,
  ): void {
    if (this.#replication.onResponse(now, message, out)) this.#replication.replicate(now, out);
    const target = this.#transfer?.target;
    if (target === message.from && message.success && this.#replication.isCaughtUp(target))
      this.#timeoutNow(target, out);
  }

  #timeoutNow(target: number, out: ReadyBuilder): void {
    out.send(target, { type: 'timeout-now', from: this.#options.id, term: this.#term });
  }

  #mustNotTransfer(what: string): void {
    if (this.#transfer !== null) {
      throw new DsrError('E_ILLEGAL_TRANSITION', `the raft leader cannot ${what} during a transfer`, {
        target: this.#transfer.target,
      });
    }
  }
}
