/**
 * What crosses between the daemon's main thread and the election thread (./election-thread.ts,
 * ./election-worker.ts), and between the election thread and its advert keeper
 * (./advert-keeper.ts, ./advert-keeper-worker.ts). Everything here survives structured clone: no
 * closures, no classes.
 */
import type { KeyMaterial } from '../../core/auth/key-material.ts';
import type { ReplaySeed } from '../../core/auth/replay-guard.ts';
import type { ErrorCode } from '../../core/errors.ts';
import type { ThreadScheduling } from '../../core/kernel/sched.ts';
import type { DropCounters } from '../drop-reasons.ts';
import type { ControlInput } from '../election/input.ts';
import type { ElectionOptions, ElectionOutput, ElectionStatus } from '../election/types.ts';
import type { MulticastOptions, TransportPeer, TransportStats } from '../transport/election-transport.ts';
import type { AnnounceResult, AnnounceTarget } from '../vip/announcer.ts';
import type { ArpForm } from '../vip/frames.ts';
import type { VipSpec } from '../vip/vip-owner.ts';
import type { CoverTemplate } from './advert-cover.ts';
import type { HungMainReleased } from './hung-main-release.ts';

export interface ThreadTransportOptions {
  readonly bind: { readonly address: string | null; readonly port: number; readonly family: 'ipv4' | 'ipv6' };
  readonly peers: readonly TransportPeer[];
  readonly multicast: MulticastOptions | null;
  /** The operator's election keys; the thread derives the protocol's keys and zeroes these. */
  readonly keys: KeyMaterial;
  readonly keyPurpose: string;
  /**
   * The session id to send under, greater than any this director used before (recorded on disk
   * by the main thread before the thread starts: core/auth/session-store.ts).
   */
  readonly sessionId: bigint;
  /** What the last run accepted from each peer (its replay guard, recorded by the main thread). */
  readonly replaySeeds: readonly ReplaySeed[];
}

export interface ElectionThreadData {
  readonly nodeId: number;
  /** Each group's options; the thread supplies `random`. */
  readonly groups: readonly Omit<ElectionOptions, 'random'>[];
  /** null: no peers (a lone director is master of its groups without a socket). */
  readonly transport: ThreadTransportOptions | null;
  /**
   * process.hrtime.bigint() at the main thread's performance.now() zero: the thread keeps every
   * time it reports (takeover instants, deadlines) in the main thread's clock.
   */
  readonly clockOriginNs: bigint;
  /** What the thread asks the kernel for before anything else; null leaves it as created. */
  readonly scheduling: ThreadScheduling | null;
  /** Status snapshots are also sent this often (besides with every output). */
  readonly snapshotIntervalMs: number;
  /**
   * The main thread's heartbeat (main-heartbeat.ts): while it is stale every group is Fault
   * (condition MAIN_THREAD_CONDITION). null: not watched.
   */
  readonly heartbeat: SharedArrayBuffer | null;
  /**
   * A takeover's first announcement, sent by the thread as it decides (takeover-announcer.ts):
   * the group id's targets. null: the main thread announces alone.
   */
  readonly announce: {
    readonly arpForms: readonly ArpForm[];
    readonly groups: Readonly<Record<number, readonly AnnounceTarget[]>>;
  } | null;
  /**
   * Each group id's VIPs, which the thread removes itself when the main thread hangs on a master
   * (hung-main-release.ts). Empty: it leaves them to the main thread.
   */
  readonly vips: Readonly<Record<number, readonly VipSpec[]>>;
}

/** An output as the main thread sees it: the datagrams were sent by the thread, only counted here. */
export type ReportedOutput = Omit<ElectionOutput, 'messages'> & {
  readonly sent: number;
  /** The round the thread sent for a become-master, to be counted with the group's VIP status. */
  readonly announced?: AnnounceResult;
};

export interface ElectionSnapshot {
  /** Main-thread clock (performance.now()) at which the thread took it. */
  readonly at: number;
  readonly groups: ElectionStatus[];
  readonly drops: DropCounters;
  readonly transport: TransportStats | null;
  /** The replay guard's state per peer, for the main thread to record (next run's seeds). */
  readonly replay: readonly ReplaySeed[];
  /** The advert keeper (./advert-keeper.ts); null before the thread's first snapshot. */
  readonly keeper: KeeperStatus | null;
}

/** The advert keeper's side of the snapshot (./advert-keeper.ts). */
export interface KeeperStatus {
  readonly running: boolean;
  readonly electionCpu: number | null;
  readonly keeperCpu: number | null;
  readonly scheduling: string | null;
  /** Why the keeper does not run, or what it could not set up. */
  readonly problems: readonly string[];
  readonly covers: number;
  readonly advertsSent: number;
  readonly longestSilenceMs: number;
  readonly gaveUp: number;
  readonly sendErrors: number;
}

export interface SerializedError {
  readonly code: ErrorCode | null;
  readonly message: string;
  readonly context: Record<string, unknown>;
}

export type ToThread =
  | { readonly type: 'input'; readonly id: number; readonly groupId: number; readonly input: ControlInput }
  /** RFC 5798 §6.4.1 Startup of every group: sent once their tracked conditions are known. */
  | { readonly type: 'start-groups' }
  /** The operator's election keys changed (a rotation step): sign and verify with these from now on. */
  | { readonly type: 'keys'; readonly keys: KeyMaterial }
  | { readonly type: 'stop' };

export type FromThread =
  | {
      readonly type: 'ready';
      readonly scheduling: string;
      readonly schedulingError: string | null;
      /** Why the thread cannot announce takeovers (then only the main thread does), or null. */
      readonly announceError: string | null;
    }
  | { readonly type: 'start-failed'; readonly error: SerializedError }
  | {
      readonly type: 'output';
      readonly groupId: number;
      readonly output: ReportedOutput;
      readonly snapshot: ElectionSnapshot;
    }
  | {
      readonly type: 'input-done';
      readonly id: number;
      readonly error: SerializedError | null;
      readonly snapshot: ElectionSnapshot;
    }
  | { readonly type: 'snapshot'; readonly snapshot: ElectionSnapshot }
  | { readonly type: 'socket-error'; readonly message: string }
  /** The main thread's heartbeat went stale (every group Fault) or came back. */
  | { readonly type: 'main-thread'; readonly stale: boolean }
  /** The thread removed a group's VIPs while the main thread was stale (hung-main-release.ts). */
  | ({ readonly type: 'released' } & HungMainReleased);

// ---- the advert keeper ----

export interface KeeperData {
  readonly board: SharedArrayBuffer;
  readonly slots: number;
  readonly nodeId: number;
  readonly clockOriginNs: bigint;
  readonly scheduling: ThreadScheduling | null;
  readonly cpu: number | null;
  /** The election thread's sender session: the keeper signs as the same sender. */
  readonly session: { readonly id: bigint; readonly wallMs: number; readonly monoMs: number };
  /** A copy of the election keys (the thread zeroes its own). */
  readonly transport: ThreadTransportOptions;
  readonly limitMs: number;
}

export type ToKeeper =
  | { readonly type: 'templates'; readonly epoch: bigint; readonly templates: readonly CoverTemplate[] }
  | { readonly type: 'keys'; readonly keys: KeyMaterial }
  | { readonly type: 'stop' };

export type FromKeeper =
  | { readonly type: 'ready'; readonly scheduling: string; readonly problems: readonly string[] }
  | { readonly type: 'start-failed'; readonly message: string };
