/** Inputs, outputs and status of the election state machine (./group.ts). */
import type { DropCounters } from '../drop-reasons.ts';
import type { AdvertisedState, ElectionState, HandoverRejectReason, Outgoing } from './messages.ts';
import type { TrackedConditionSpec, TrackedConditionStatus } from './tracked-conditions.ts';

export interface ElectionOptions {
  /** 1..65535, the same on every director serving this VIP group. */
  readonly groupId: number;
  /** This director's node id, 1..2^32-1, unique in the cluster. Breaks priority ties: higher wins. */
  readonly nodeId: number;
  /** Configured priority 1..254 (RFC 5798 §5.2.4; 255, the address owner, is not used). */
  readonly priority: number;
  /** Advertisement interval in ms, 1..65535. */
  readonly advertIntervalMs: number;
  /** Adverts sent per interval, 1..10 (default 1; the daemon uses ADVERTS_PER_INTERVAL, ./timing.ts). */
  readonly advertsPerInterval?: number;
  /** Config fingerprint (16 bytes) compared with every peer's. */
  readonly fingerprint: Uint8Array;
  /** Preempt a lower-priority master (default true, RFC 5798 §6.1 Preempt_Mode). */
  readonly preempt?: boolean;
  /** Hold-off before preempting, ms (default 0). */
  readonly preemptDelayMs?: number;
  /** Node ids of the peers; when given, messages from other ids are dropped as unknown-peer. */
  readonly peers?: readonly number[];
  /** Conditions that lower the priority by a weight or force Fault. */
  readonly tracked?: readonly TrackedConditionSpec[];
  /** Whether the connection sync is complete (default true: no sync configured). */
  readonly syncReady?: boolean;
  /** How long a planned handover may take before it is called failed (default 2 × master-down). */
  readonly handoverTimeoutMs?: number;
  /** A gap between inputs longer than this is a stall (default: our master-down interval). */
  readonly stallThresholdMs?: number;
  /** Uniform random number in [0, 1); used for handover tokens. */
  readonly random: () => number;
  /** How many recent transitions the status keeps (default 32). */
  readonly historySize?: number;
}

export type TransitionReason =
  | 'startup'
  | 'master-down'
  | 'preempt'
  | 'master-resigned'
  | 'higher-priority-master'
  | 'split-brain-lost'
  /** Met another master that started with us (master-advert.ts startupRace), and it won. */
  | 'startup-race-lost'
  /** Kept hearing another master that evidently could not hear us, and yielded (master-advert.ts). */
  | 'one-way-partition'
  | 'resign'
  | 'handover'
  | 'stall'
  | 'relearned'
  | 'fault'
  | 'fault-cleared'
  | 'shutdown';

export interface Transition {
  readonly at: number;
  readonly from: ElectionState;
  readonly to: ElectionState;
  readonly reason: TransitionReason;
}

/** Why a planned handover failed: ours, or the target's HandoverRejectReason. */
export type HandoverFailure =
  | 'timeout'
  | 'target-lost'
  | 'preempted'
  | 'stall'
  | 'fault'
  | 'resigned'
  | 'shutdown'
  | HandoverRejectReason;

export type ElectionAlert =
  | { readonly kind: 'split-brain-detected'; readonly peer: number; readonly winner: number }
  | { readonly kind: 'split-brain-resolved'; readonly peer: number }
  | {
      readonly kind: 'fingerprint-mismatch';
      readonly peer: number;
      readonly ours: string;
      readonly theirs: string;
    }
  | { readonly kind: 'fingerprint-match'; readonly peer: number }
  | { readonly kind: 'peer-discovered'; readonly peer: number }
  | { readonly kind: 'peer-lost'; readonly peer: number; readonly silentMs: number }
  | { readonly kind: 'peer-recovered'; readonly peer: number }
  | { readonly kind: 'stall-detected'; readonly gapMs: number; readonly thresholdMs: number }
  | { readonly kind: 'clock-went-backwards'; readonly byMs: number }
  | { readonly kind: 'handover-started'; readonly target: number }
  | { readonly kind: 'handover-accepted'; readonly from: number }
  | { readonly kind: 'handover-completed'; readonly target: number }
  | { readonly kind: 'handover-failed'; readonly target: number; readonly reason: HandoverFailure };

/**
 * What the caller must do. `become-master`: add the group's VIPs and announce them (gratuitous
 * ARP / unsolicited NA). `become-backup`: remove them (we left Master for `state`). `reannounce`:
 * announce again at once (we won a split brain, or a peer we had lost is back: either may have
 * moved ARP caches to itself while it was master).
 */
export type ElectionEffect =
  | {
      readonly type: 'become-master';
      readonly reason: TransitionReason;
      /** False: an unplanned takeover while not in sync (sync gating lets those through); log the lag. */
      readonly inSync: boolean;
      /**
       * The other director that was master before us, and when we last heard anything from it
       * (monotonic ms, the clock of `now`): where a takeover's duration starts. Absent when we
       * never knew another master (a first election is not a failover).
       */
      readonly takeover?: { readonly from: number; readonly lastHeardAt: number };
    }
  | {
      readonly type: 'become-backup';
      readonly reason: TransitionReason;
      readonly state: Exclude<ElectionState, 'master'>;
    }
  | { readonly type: 'reannounce'; readonly reason: 'split-brain' | 'peer-recovered' }
  | { readonly type: 'alert'; readonly alert: ElectionAlert };

export interface ElectionOutput {
  readonly state: ElectionState;
  readonly messages: Outgoing[];
  readonly effects: ElectionEffect[];
  readonly transitions: Transition[];
}

export interface PeerStatus {
  readonly nodeId: number;
  /** null: configured but never heard. */
  readonly state: AdvertisedState | null;
  readonly priority: number | null;
  readonly intervalMs: number | null;
  readonly syncReady: boolean | null;
  readonly lastHeardAgoMs: number | null;
  readonly lost: boolean;
  readonly fingerprint: string | null;
  readonly fingerprintMatch: boolean | null;
}

export interface ElectionStatus {
  readonly groupId: number;
  readonly nodeId: number;
  readonly state: ElectionState;
  readonly basePriority: number;
  readonly effectivePriority: number;
  readonly masterId: number | null;
  readonly advertIntervalMs: number;
  readonly masterAdverIntervalMs: number;
  readonly masterDownIntervalMs: number;
  readonly masterDownInMs: number | null;
  readonly preempt: boolean;
  readonly preemptDelayMs: number;
  /** Preemption suspended after a resign or planned handover, until release-hold or we win again. */
  readonly preemptHold: boolean;
  readonly syncReady: boolean;
  readonly fingerprint: string;
  readonly conditions: TrackedConditionStatus[];
  readonly peers: PeerStatus[];
  readonly handover: { readonly target: number; readonly deadlineInMs: number } | null;
  readonly drops: DropCounters;
  readonly counters: Readonly<Record<string, number>>;
  readonly transitions: Transition[];
}
