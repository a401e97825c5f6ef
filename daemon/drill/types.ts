/**
 * The drill (`dsrctl drill`, issue 6): the narrow views of the rest of the daemon it works through
 * (its report is in admin/catalogue/drill.ts). The orchestration (run.ts) sees only these views,
 * so it is tested with fakes; views.ts builds them from the real parts and the kernel.
 */

import type { FlowCensus, TableTally, TimelineEntry } from '../../admin/catalogue/drill.ts';
import type { HandoverOutcome } from '../election/handover.ts';
import type { SyncPeerState } from '../sync/part.ts';

export type { HandoverOutcome } from '../election/handover.ts';
export type { SyncPeerState } from '../sync/part.ts';

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
  /** A planned handover through the election (daemon/election/handover.ts). Throws when it cannot start. */
  handOver(group: string, peer: string, onStarted: () => void): Promise<HandoverOutcome>;
  /** Allows preemption again after our handover: how the drill takes the group back. */
  releaseHold(group: string): Promise<void>;
}

export interface DrillSync {
  enabled(): boolean;
  /** sync.lag_alert_ms: more unacknowledged than this and the peer is behind. */
  lagLimitMs(): number;
  /** How much longer than the original a director's copy of a peer's flow lives (sync/table.ts). */
  copyMarginMs(): number;
  peer(name: string): SyncPeerState | undefined;
  /**
   * Pulls the peer's whole tables and counts them (entries with more than `longLivedMs` left
   * apart); rejects when they have not all arrived within `limitMs`.
   */
  countTables(peer: string, longLivedMs: number, limitMs: number): Promise<TableTally>;
}

export interface DrillForwarder {
  attached(): boolean;
  census(minRemainingMs: number): Promise<FlowCensus>;
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
