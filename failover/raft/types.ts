/**
 * The Raft core's data: what it is given (`RaftInput`), what it sends (`RaftMessage`), what it
 * asks its driver to persist, send and apply (`RaftOutput`). Plain objects, as the VRRP-style
 * election's (../election/input.ts), so they cross threads and spell out in transcripts as they are.
 */

/** One log entry. `data` is opaque to the core (the daemon's operator commands); empty for a leader's no-op. */
export interface Entry {
  readonly index: number;
  readonly term: number;
  readonly data: Uint8Array;
}

/** The state machine as of `index` (entry `index` applied, with its `term`); compaction drops the entries up to it. */
export interface Snapshot {
  readonly index: number;
  readonly term: number;
  readonly data: Uint8Array;
}

/** What must survive a restart (Raft §5.1, Figure 2 "Persistent state"): current term, vote, and the commit index. */
export interface HardState {
  readonly term: number;
  /** The node voted for in `term`, 0 for none. */
  readonly vote: number;
  readonly commit: number;
}

/** What a restarted node reads back from its disk; the empty state for a first start. */
export interface PersistedState {
  readonly hardState: HardState;
  readonly snapshot: Snapshot | null;
  /** Entries after the snapshot, in order. */
  readonly entries: readonly Entry[];
}

export const EMPTY_STATE: PersistedState = {
  hardState: { term: 0, vote: 0, commit: 0 },
  snapshot: null,
  entries: [],
};

/**
 * The messages of Raft §5 with pre-vote (thesis §9.6) and leadership transfer (thesis §3.10).
 * `stamp` on an append is the leader's clock when it sent it, echoed in the answer: a quorum's
 * echoes of one stamp are what grants the lease (./lease.ts).
 */
export type RaftMessage =
  | {
      readonly type: 'pre-vote';
      readonly from: number;
      readonly term: number;
      readonly lastIndex: number;
      readonly lastTerm: number;
    }
  | {
      readonly type: 'pre-vote-response';
      readonly from: number;
      readonly term: number;
      readonly granted: boolean;
    }
  | {
      readonly type: 'vote';
      readonly from: number;
      readonly term: number;
      readonly lastIndex: number;
      readonly lastTerm: number;
      /** Sent on a leader's TimeoutNow: the voters' promise to that leader no longer holds (it gave up its lease). */
      readonly transfer: boolean;
    }
  | {
      readonly type: 'vote-response';
      readonly from: number;
      readonly term: number;
      readonly granted: boolean;
    }
  | {
      readonly type: 'append';
      readonly from: number;
      readonly term: number;
      readonly prevIndex: number;
      readonly prevTerm: number;
      readonly entries: readonly Entry[];
      readonly commit: number;
      readonly stamp: number;
    }
  | {
      readonly type: 'append-response';
      readonly from: number;
      readonly term: number;
      readonly success: boolean;
      /** On success the last index known to match the leader's; on a refusal the follower's last index (a hint). */
      readonly index: number;
      readonly stamp: number;
    }
  | {
      readonly type: 'snapshot';
      readonly from: number;
      readonly term: number;
      readonly snapshot: Snapshot;
      readonly stamp: number;
    }
  | { readonly type: 'timeout-now'; readonly from: number; readonly term: number };

export type RaftMessageType = RaftMessage['type'];

export interface RaftOutgoing {
  readonly to: number;
  readonly message: RaftMessage;
}

export type RaftInput =
  /** After construction (a first start or a restart with the persisted state). */
  | { readonly kind: 'start' }
  /** Time passed: due at `nextDeadline()`. */
  | { readonly kind: 'tick' }
  /** A message from a voter that passed the codec's and transport's checks. */
  | { readonly kind: 'message'; readonly message: RaftMessage }
  /** Append an operator command (leader only, not while transferring). */
  | { readonly kind: 'propose'; readonly data: Uint8Array }
  /** Hand leadership to `target` (thesis §3.10); the lease is given up first. */
  | { readonly kind: 'transfer'; readonly target: number }
  /** The state machine as of applied entry `index`: drop the entries up to it. */
  | { readonly kind: 'compact'; readonly index: number; readonly data: Uint8Array };

export type RaftRole = 'follower' | 'pre-candidate' | 'candidate' | 'leader';

export type RaftEffect =
  /**
   * The lease: held until `until` (the clock of `now`), or not held (null). Emitted when it is
   * taken, extended or given up. A holder owns the VIPs until `until` and not a moment longer.
   */
  | { readonly type: 'lease'; readonly until: number | null }
  /** The known leader changed (0: none known), or the term did. */
  | { readonly type: 'leader'; readonly leader: number; readonly term: number };

/**
 * One step's work for the driver, in this order (the etcd raft Ready contract): make `hardState`,
 * `truncateFrom`/`entries` and `snapshot` durable; then send `messages`; then restore `restore`
 * and apply `committed` in order; apply `effects` as they come.
 */
export interface RaftOutput {
  readonly hardState: HardState | null;
  /** Delete the persisted entries from this index on, before appending `entries`. */
  readonly truncateFrom: number | null;
  readonly entries: readonly Entry[];
  /** A new snapshot to persist; the persisted entries up to its index can go. */
  readonly snapshot: Snapshot | null;
  readonly messages: readonly RaftOutgoing[];
  /** A leader's snapshot that replaces the state machine (applied before `committed`). */
  readonly restore: Snapshot | null;
  readonly committed: readonly Entry[];
  readonly effects: readonly RaftEffect[];
}
