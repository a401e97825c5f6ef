/**
 * The drill (`dsrctl drill`, issue 6): what it reports, and the narrow views of the rest of the
 * daemon it works through. The orchestration (drill-run.ts) sees only these views, so it is tested
 * with fakes; drill-views.ts builds them from the real parts and the kernel.
 */

import type { FlowCensus } from '../../forwarder/walks/flows.ts';
import type { ApplyOp } from '../../sync/receiver.ts';
import type { HandoverOutcome } from '../election/commands.ts';
import type { SyncPeerState } from '../sync/part.ts';

export type { FlowCensus } from '../../forwarder/walks/flows.ts';
export type { HandoverOutcome } from '../election/commands.ts';
export type { SyncPeerState } from '../sync/part.ts';

// ---- the report ----

/** warn: could not be judged (e.g. nothing to probe); it does not fail the drill. */
export type CheckStatus = 'pass' | 'fail' | 'warn';

export interface DrillCheck {
  name: string;
  status: CheckStatus;
  detail: string;
}

export interface TimelineEntry {
  /** Wall-clock time, ISO 8601. */
  at: string;
  /** Since the drill started (monotonic). */
  ms: number;
  step: string;
}

/** Where a drill ended: a failed preflight changes nothing; later phases have moved the VIPs. */
export type DrillPhase = 'preflight' | 'handover' | 'verify' | 'hand-back' | 'verify-back' | 'done';

export interface DrillLeg {
  from: string;
  to: string;
  /** A planned handover (make-before-break), or our own preemption once the hold is released. */
  how: 'handover' | 'preemption';
  /** The move itself happened (the checks say whether it is verified). */
  moved: boolean;
  outcome: string;
  /** How long the move took, ms (null when it did not happen). */
  ms: number | null;
  checks: DrillCheck[];
}

/** A peer's whole tables as its bulk answer carried them (drill-tally.ts). */
export interface TableTally {
  conns: number;
  /** Connection entries with more than the census margin left to live. */
  longLived: number;
  persist: number;
}

export interface DrillReport {
  group: string;
  /** This director, where the drill runs (the master when it starts). */
  director: string;
  peer: string;
  back: boolean;
  ok: boolean;
  stoppedAt: DrillPhase;
  startedAt: string;
  durationMs: number;
  preflight: DrillCheck[];
  legs: DrillLeg[];
  flows: {
    /**
     * A flow with less than this left to live may legitimately be gone on the other director by
     * the time it is counted there: the census only counts flows with more (drill-run.ts).
     */
    marginMs: number;
    /** Our table before the handover. */
    before: FlowCensus | null;
    /** The peer's table after it took over. */
    peer: TableTally | null;
    /** Our table after the hand back. */
    after: FlowCensus | null;
  };
  timeline: TimelineEntry[];
  summary: string;
}

// ---- what the drill needs of the daemon ----

export type DirectorRole = 'init' | 'backup' | 'master' | 'fault';

export interface PeerElectionView {
  name: string;
  /** null: never heard. */
  state: 'backup' | 'master' | 'fault' | null;
  priority: number | null;
  /** The peer's adverts say it holds our tables (sync-ready). */
  syncReady: boolean | null;
  lastHeardAgoMs: number | null;
  lost: boolean;
  intervalMs: number | null;
  fingerprintMatch: boolean | null;
}

export interface GroupElectionView {
  name: string;
  role: DirectorRole;
  /** The master as this director sees it (its own name when it is master). */
  master: string | null;
  effectivePriority: number;
  preempt: boolean;
  preemptDelayMs: number;
  preemptHold: boolean;
  masterDownIntervalMs: number;
  /** Peer a planned handover is under way to, if any. */
  handoverTo: string | null;
  peers: PeerElectionView[];
}

export interface DrillElection {
  /** This director's name. */
  readonly self: string;
  groupNames(): string[];
  group(name: string): GroupElectionView;
  /** A planned handover through the election (election-commands.ts handOver). Throws when it cannot start. */
  handOver(group: string, peer: string, onStarted: () => void): Promise<HandoverOutcome>;
  /** Allows preemption again after our handover: how the drill takes the group back. */
  releaseHold(group: string): Promise<void>;
}

export interface DrillSync {
  enabled(): boolean;
  /** sync.lag_alert_ms: more unacknowledged than this and the peer is behind. */
  lagLimitMs(): number;
  peer(name: string): SyncPeerState | undefined;
  resync(): void;
  onPeerOps(listener: (peer: string, ops: readonly ApplyOp[]) => void): () => void;
}

export interface DrillForwarder {
  attached(): boolean;
  census(minRemainingMs: number): Promise<FlowCensus>;
  /** How often the program re-reports a live flow to the sync (forwarder refresh). */
  refreshMs(): number;
  /** Packets forwarded to real servers so far, every service. */
  forwardedPackets(): number;
}

export interface DrillVips {
  /** VIPs this director holds for the group now. */
  held(group: string): string[];
  /** Announcement frames sent for the group so far. */
  framesSent(group: string): number;
}

export interface Announcement {
  vip: string;
  /** Sender's MAC. */
  mac: string;
  /** Monotonic ms. */
  atMs: number;
}

export interface AnnouncementWatch {
  seen(): Announcement[];
  close(): void;
}

export interface ProbeResult {
  ok: boolean;
  ms: number;
  error?: string;
}

/** The kernel side: watching the wire, the neighbour table, a connection through the VIP. */
export interface DrillNet {
  /** Gratuitous ARP / unsolicited NA for `vips` arriving on `ifname` from other hosts. */
  watchAnnouncements(ifname: string, vips: readonly string[]): AnnouncementWatch;
  /** The MAC the kernel has for `address` on `ifname`, if any. */
  macOf(ifname: string, address: string): Promise<string | null>;
  /** A TCP connection to vip:port from this director, closed at once. */
  probeTcp(vip: string, port: number, timeoutMs: number): Promise<ProbeResult>;
}

/** What the config says about the group, for the drill. */
export interface DrillSetup {
  group: string;
  vips: string[];
  ifname: string;
  peerAddress: string;
  /** A TCP service of the group with a port, to connect through the VIP; null when none. */
  probe: { service: string; vip: string; port: number } | null;
}

export interface DrillClock {
  /** Monotonic ms. */
  now(): number;
  /** Wall clock, ms since the epoch. */
  wall(): number;
  sleep(ms: number): Promise<void>;
}

export interface DrillDeps {
  election: DrillElection;
  sync: DrillSync;
  forwarder: DrillForwarder;
  vips: DrillVips;
  net: DrillNet;
  clock: DrillClock;
}

export interface DrillRequest {
  setup: DrillSetup;
  peer: string;
  back: boolean;
  /** Aborted when the operator disconnects or the daemon stops. */
  signal?: AbortSignal;
  /** Each timeline entry as it happens (dsrctl shows them live). */
  onStep?: (entry: TimelineEntry) => void;
}
