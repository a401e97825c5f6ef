/**
 * One Raft voter (Ongaro & Ousterhout, "In Search of an Understandable Consensus Algorithm", 2014,
 * and Ongaro's thesis, 2014) as a pure state machine in the etcd raft manner: one entry point,
 * `step(now, input)` (./types.ts), with a monotonic `now` (ms) and injected randomness; the output
 * says what to persist, send and apply. Nothing here reads a clock, a socket or a disk.
 *
 * Beyond Figure 2 of the paper: pre-vote (thesis §9.6), check-quorum (§6.2), leadership transfer
 * (§3.10), witnesses that vote and hold no log (./voters.ts), and the lease that decides who holds
 * the VIPs (./lease.ts: the promise and the inequality it rests on).
 */
import { DsrError } from '../../core/errors.ts';
import { acceptAppend, acceptSnapshot } from './follower.ts';
import { Leadership } from './leader.ts';
import { leaseDurationMs } from './lease.ts';
import { RaftLog } from './log.ts';
import type { RaftOptions, RaftStatus } from './options.ts';
import { ReadyBuilder } from './ready.ts';
import type { HardState, PersistedState, RaftInput, RaftMessage, RaftOutput, RaftRole } from './types.ts';
import { Voters } from './voters.ts';

type Message<T extends RaftMessage['type']> = Extract<RaftMessage, { type: T }>;

const NONE = 0;

export class RaftNode {
  readonly #options: RaftOptions;
  readonly #voters: Voters;
  readonly #log: RaftLog;
  readonly #leaseMs: number;
  readonly #witness: boolean;
  #started = false;
  #lastNow = Number.NEGATIVE_INFINITY;
  #term: number;
  #vote: number;
  #persisted: HardState;
  #role: RaftRole = 'follower';
  #leader = NONE;
  #applied: number;
  /** No vote or pre-vote granted before this, but to a transfer (./lease.ts, the promise). */
  #promiseUntil = Number.POSITIVE_INFINITY;
  #electionDeadline = Number.POSITIVE_INFINITY;
  #votes = new Map<number, boolean>();
  #leadership: Leadership | null = null;
  #lease: number | null = null;
  #emittedLeader = { leader: NONE, term: 0 };
  readonly #heard = new Map<number, number>();

  constructor(options: RaftOptions, persisted: PersistedState) {
    this.#options = options;
    this.#voters = new Voters(options.id, options.voters, options.witnesses);
    this.#witness = this.#voters.isWitness(options.id);
    this.#leaseMs = leaseDurationMs(
      options.electionTimeoutMs,
      options.maxDriftRatio,
      options.releaseMarginMs,
    );
    if (!(options.heartbeatIntervalMs > 0 && options.heartbeatIntervalMs < this.#leaseMs)) {
      throw new DsrError('E_ELECTION_INPUT', 'the raft heartbeat interval must be shorter than the lease', {
        heartbeatIntervalMs: options.heartbeatIntervalMs,
        leaseMs: this.#leaseMs,
      });
    }
    // A witness keeps its term and vote only (./voters.ts).
    const kept = this.#witness
      ? { hardState: { ...persisted.hardState, commit: 0 }, snapshot: null, entries: [] }
      : persisted;
    this.#log = new RaftLog(kept);
    this.#term = persisted.hardState.term;
    this.#vote = persisted.hardState.vote;
    this.#persisted = kept.hardState;
    this.#applied = this.#log.snapshot.index;
  }

  get role(): RaftRole {
    return this.#role;
  }

  get term(): number {
    return this.#term;
  }

  get leader(): number {
    return this.#leader;
  }

  get leaseMs(): number {
    return this.#leaseMs;
  }

  /** When to step the next `tick`. */
  nextDeadline(): number {
    return this.#leadership?.nextDeadline(this.#lease) ?? this.#electionDeadline;
  }

  /**
   * The one entry point. An input that cannot apply (not started, propose or transfer when not the
   * leader, a bad compaction) throws its DsrError before anything changed.
   */
  step(now: number, input: RaftInput): RaftOutput {
    if (!Number.isFinite(now) || now < this.#lastNow) {
      throw new DsrError('E_ELECTION_INPUT', 'raft time must be finite and never go back', {
        now,
        last: this.#lastNow,
      });
    }
    if (this.#started === (input.kind === 'start')) {
      throw new DsrError(
        'E_ILLEGAL_TRANSITION',
        this.#started ? 'raft node already started' : 'raft node not started',
        {
          input: input.kind,
        },
      );
    }
    const out = new ReadyBuilder();
    switch (input.kind) {
      case 'start':
        this.#start(now, out);
        break;
      case 'tick':
        this.#tick(now, out);
        break;
      case 'message':
        this.#message(now, input.message, out);
        break;
      case 'propose':
        this.#leading('propose').propose(now, input.data, out);
        break;
      case 'transfer':
        this.#leading('transfer').transfer(now, input.target, out);
        break;
      case 'compact':
        this.#compact(input.index, input.data, out);
        break;
      default:
        throw new DsrError('E_ELECTION_INPUT', 'unknown raft input', { input });
    }
    this.#lastNow = now;
    return this.#finish(now, out);
  }

  status(): RaftStatus {
    return {
      id: this.#options.id,
      role: this.#role,
      witness: this.#witness,
      term: this.#term,
      leader: this.#leader,
      commit: this.#log.commit,
      applied: this.#applied,
      lastIndex: this.#log.lastIndex(),
      snapshotIndex: this.#log.snapshot.index,
      leaseUntil: this.#lease,
      transferTarget: this.#leadership?.transferTarget ?? null,
      peers: this.#voters.peersOf(this.#options.id).map((id) => ({
        id,
        witness: this.#voters.isWitness(id),
        lastHeard: this.#heard.get(id) ?? null,
        match: this.#leadership?.match(id) ?? null,
      })),
    };
  }

  // --- inputs -------------------------------------------------------------------------------

  #start(now: number, out: ReadyBuilder): void {
    this.#started = true;
    // A restarted voter cannot know whom it answered before: it promises from now (./lease.ts).
    this.#promiseUntil = now + this.#options.electionTimeoutMs;
    this.#resetElectionTimer(now);
    if (this.#log.snapshot.index > 0) out.restore = this.#log.snapshot;
  }

  #tick(now: number, out: ReadyBuilder): void {
    if (this.#leadership === null) {
      if (now >= this.#electionDeadline) this.#campaign(now, 'pre-vote', out);
    } else if (!this.#leadership.tick(now, out)) {
      this.#becomeFollower(now, this.#term, NONE);
    }
  }

  #leading(what: string): Leadership {
    if (this.#leadership === null) {
      throw new DsrError('E_ILLEGAL_TRANSITION', `only the raft leader can ${what}`, {
        role: this.#role,
        leader: this.#leader,
      });
    }
    return this.#leadership;
  }

  #compact(index: number, data: Uint8Array, out: ReadyBuilder): void {
    if (this.#witness || index > this.#applied) {
      throw new DsrError(
        'E_ILLEGAL_TRANSITION',
        'a raft snapshot must be at an applied index of a log holder',
        {
          index,
          applied: this.#applied,
        },
      );
    }
    out.snapshot = this.#log.compact(index, data);
  }

  // --- messages -----------------------------------------------------------------------------

  #message(now: number, message: RaftMessage, out: ReadyBuilder): void {
    if (message.from === this.#options.id || !this.#voters.has(message.from)) return;
    this.#heard.set(message.from, now);
    if (message.term > this.#term) {
      if (message.type === 'pre-vote' || (message.type === 'pre-vote-response' && message.granted)) {
        // A pre-vote names the term its sender would campaign in; no term changes on it (§9.6).
      } else if (message.type === 'vote' && !message.transfer && now < this.#promiseUntil) {
        return; // the promise (./lease.ts): not even the term moves
      } else {
        const fromLeader =
          message.type === 'append' || message.type === 'snapshot' || message.type === 'timeout-now';
        const leader = fromLeader ? message.from : NONE;
        this.#becomeFollower(now, message.term, leader);
      }
    } else if (message.term < this.#term) {
      // A stale leader learns the term from the refusal and steps down; a stale pre-candidate too.
      if (message.type === 'append' || message.type === 'snapshot') {
        this.#respondAppend(message.from, false, this.#log.lastIndex(), message.stamp, out);
      } else if (message.type === 'pre-vote') {
        out.send(message.from, {
          type: 'pre-vote-response',
          from: this.#options.id,
          term: this.#term,
          granted: false,
        });
      }
      return;
    }
    switch (message.type) {
      case 'pre-vote':
        this.#onPreVote(now, message, out);
        break;
      case 'vote':
        this.#onVote(now, message, out);
        break;
      case 'pre-vote-response':
      case 'vote-response':
        this.#onVoteResponse(now, message, out);
        break;
      case 'append':
        this.#onAppend(now, message, out);
        break;
      case 'snapshot':
        this.#onSnapshot(now, message, out);
        break;
      case 'append-response':
        this.#leadership?.onResponse(now, message, out);
        break;
      case 'timeout-now':
        if (!this.#witness && this.#role === 'follower' && message.from === this.#leader)
          this.#campaign(now, 'vote', out, true);
        return;
    }
  }

  #onPreVote(now: number, message: Message<'pre-vote'>, out: ReadyBuilder): void {
    const granted =
      message.term > this.#term &&
      now >= this.#promiseUntil &&
      this.#upToDate(message.lastIndex, message.lastTerm);
    const term = granted ? message.term : this.#term;
    out.send(message.from, { type: 'pre-vote-response', from: this.#options.id, term, granted });
  }

  #onVote(now: number, message: Message<'vote'>, out: ReadyBuilder): void {
    const free = this.#vote === message.from || (this.#vote === NONE && this.#leader === NONE);
    const promised = now < this.#promiseUntil && !message.transfer && this.#vote !== message.from;
    const granted = free && !promised && this.#upToDate(message.lastIndex, message.lastTerm);
    if (granted) {
      this.#vote = message.from;
      this.#resetElectionTimer(now);
    }
    out.send(message.from, { type: 'vote-response', from: this.#options.id, term: this.#term, granted });
  }

  #upToDate(lastIndex: number, lastTerm: number): boolean {
    return this.#witness || this.#log.isUpToDate(lastIndex, lastTerm);
  }

  #onVoteResponse(
    now: number,
    message: Message<'pre-vote-response' | 'vote-response'>,
    out: ReadyBuilder,
  ): void {
    const pre = message.type === 'pre-vote-response';
    if (this.#role !== (pre ? 'pre-candidate' : 'candidate')) return;
    if (pre && message.granted && message.term !== this.#term + 1) return;
    this.#votes.set(message.from, message.granted);
    const granted = [...this.#votes.values()].filter(Boolean).length;
    const refused = this.#votes.size - granted;
    if (granted >= this.#voters.voteQuorum) {
      if (pre) this.#campaign(now, 'vote', out);
      else this.#becomeLeader(now, out);
    } else if (refused > this.#voters.all.length - this.#voters.voteQuorum) {
      this.#becomeFollower(now, this.#term, NONE);
    }
  }

  #onAppend(now: number, message: Message<'append'>, out: ReadyBuilder): void {
    this.#followLeader(now, message.from);
    const { success, index } = acceptAppend(this.#log, this.#witness, message, out);
    this.#respondAppend(message.from, success, index, message.stamp, out);
  }

  #onSnapshot(now: number, message: Message<'snapshot'>, out: ReadyBuilder): void {
    this.#followLeader(now, message.from);
    if (acceptSnapshot(this.#log, this.#witness, message.snapshot, out))
      this.#applied = message.snapshot.index;
    this.#respondAppend(message.from, true, this.#witness ? 0 : this.#log.commit, message.stamp, out);
  }

  #respondAppend(to: number, success: boolean, index: number, stamp: number, out: ReadyBuilder): void {
    out.send(to, {
      type: 'append-response',
      from: this.#options.id,
      term: this.#term,
      success,
      index,
      stamp,
    });
  }

  // --- roles --------------------------------------------------------------------------------

  /** An append or snapshot of our term: its sender leads, and our promise to it starts now. */
  #followLeader(now: number, leader: number): void {
    if (this.#role !== 'follower') this.#becomeFollower(now, this.#term, leader);
    this.#leader = leader;
    this.#promiseUntil = now + this.#options.electionTimeoutMs;
    this.#resetElectionTimer(now);
  }

  #campaign(now: number, kind: 'pre-vote' | 'vote', out: ReadyBuilder, transfer = false): void {
    if (kind === 'vote') {
      this.#term += 1;
      this.#vote = this.#options.id;
    }
    this.#role = kind === 'vote' ? 'candidate' : 'pre-candidate';
    this.#leader = NONE;
    this.#votes = new Map([[this.#options.id, true]]);
    this.#resetElectionTimer(now);
    const term = kind === 'vote' ? this.#term : this.#term + 1;
    const request = {
      from: this.#options.id,
      term,
      lastIndex: this.#log.lastIndex(),
      lastTerm: this.#log.lastTerm(),
    };
    for (const peer of this.#voters.peersOf(this.#options.id)) {
      if (kind === 'vote') out.send(peer, { type: 'vote', ...request, transfer });
      else out.send(peer, { type: 'pre-vote', ...request });
    }
    if (this.#voters.voteQuorum === 1) {
      if (kind === 'pre-vote') this.#campaign(now, 'vote', out);
      else this.#becomeLeader(now, out);
    }
  }

  #becomeLeader(now: number, out: ReadyBuilder): void {
    this.#role = 'leader';
    this.#leader = this.#options.id;
    this.#votes = new Map();
    this.#promiseUntil = Number.POSITIVE_INFINITY;
    const context = { options: this.#options, log: this.#log, voters: this.#voters, leaseMs: this.#leaseMs };
    this.#leadership = new Leadership(now, this.#term, context, out);
  }

  #becomeFollower(now: number, term: number, leader: number): void {
    if (term > this.#term) {
      this.#term = term;
      this.#vote = NONE;
    }
    if (this.#role === 'leader') this.#promiseUntil = now + this.#options.electionTimeoutMs;
    this.#role = 'follower';
    this.#leader = leader;
    this.#votes = new Map();
    this.#leadership = null;
    this.#resetElectionTimer(now);
  }

  #resetElectionTimer(now: number): void {
    const { electionTimeoutMs, electionJitterMs, random } = this.#options;
    this.#electionDeadline = this.#witness
      ? Number.POSITIVE_INFINITY
      : now + electionTimeoutMs + Math.floor(random() * electionJitterMs);
  }

  // --- output -------------------------------------------------------------------------------

  #finish(now: number, out: ReadyBuilder): RaftOutput {
    const previousLease = this.#lease;
    this.#lease = this.#leadership?.lease(now) ?? null;
    // The lease first: one given up is gone before any message of this step is sent.
    if (this.#lease !== previousLease) out.effects.unshift({ type: 'lease', until: this.#lease });
    if (this.#leader !== this.#emittedLeader.leader || this.#term !== this.#emittedLeader.term) {
      this.#emittedLeader = { leader: this.#leader, term: this.#term };
      out.effects.push({ type: 'leader', ...this.#emittedLeader });
    }
    if (!this.#witness && this.#log.commit > this.#applied) {
      out.committed = this.#log.committedAfter(this.#applied);
      this.#applied = this.#log.commit;
    }
    const hardState = { term: this.#term, vote: this.#vote, commit: this.#witness ? 0 : this.#log.commit };
    const persisted = this.#persisted;
    if (
      hardState.term !== persisted.term ||
      hardState.vote !== persisted.vote ||
      hardState.commit !== persisted.commit
    ) {
      this.#persisted = hardState;
      out.hardState = hardState;
    }
    return out.finish();
  }
}
