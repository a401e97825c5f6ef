/** What a Raft voter is configured with (./node.ts), and what it reports. */
import type { RaftRole } from './types.ts';

export interface RaftOptions {
  readonly id: number;
  readonly voters: readonly number[];
  /** Voters that hold no log and never lead (./voters.ts). */
  readonly witnesses: readonly number[];
  /** T: the promise window (./lease.ts) and the shortest election timeout, ms. */
  readonly electionTimeoutMs: number;
  /** Election timeouts are drawn from [T, T + jitter) (Raft §5.2). */
  readonly electionJitterMs: number;
  readonly heartbeatIntervalMs: number;
  /** ρ of ./lease.ts. */
  readonly maxDriftRatio: number;
  /** M of ./lease.ts. */
  readonly releaseMarginMs: number;
  readonly maxEntriesPerAppend: number;
  /** Uniform in [0, 1). */
  readonly random: () => number;
}

export interface RaftStatus {
  readonly id: number;
  readonly role: RaftRole;
  readonly witness: boolean;
  readonly term: number;
  /** 0: none known. */
  readonly leader: number;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
  readonly snapshotIndex: number;
  /** The lease's end (clock of `now`), null when not held. */
  readonly leaseUntil: number | null;
  readonly transferTarget: number | null;
  /** Every other voter: when we last heard from it (null: never since start), and its match index as the leader sees it. */
  readonly peers: readonly { id: number; witness: boolean; lastHeard: number | null; match: number | null }[];
}
