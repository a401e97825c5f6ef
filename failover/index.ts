/**
 * Public entry of failover/ (failover/README.md): what the daemon and the lab use. Other folders
 * import from here only; tests under test/failover reach the internals they test directly.
 */
export type { ControlInput } from './election/input.ts';
export { ADVERTS_PER_INTERVAL, masterDownIntervalMs } from './election/timing.ts';
export type { TrackedConditionSpec } from './election/tracked-conditions.ts';
export type { ElectionAlert, ElectionEffect, ElectionStatus } from './election/types.ts';
export { advertFingerprint, nodeIdFromName, nodeIds } from './node-id.ts';
export { DEFAULT_MAX_DRIFT_RATIO, leaseDurationMs } from './raft/lease.ts';
export { RaftNode } from './raft/node.ts';
export type { RaftOptions, RaftStatus } from './raft/options.ts';
export { RaftRunner } from './raft/runner.ts';
export { RaftStorage } from './raft/storage.ts';
export { RaftTransport, type RaftTransportStats } from './raft/transport.ts';
export type {
  Entry,
  HardState,
  RaftEffect,
  RaftInput,
  RaftMessage,
  RaftRole,
  Snapshot,
} from './raft/types.ts';
export { ElectionThread, mainClockOriginNs } from './thread/election-thread.ts';
export { BEAT_MS, MainHeartbeat, STALE_AFTER_MS } from './thread/main-heartbeat.ts';
export type {
  ElectionSnapshot,
  ElectionThreadData,
  KeeperStatus,
  ReportedOutput,
} from './thread/protocol.ts';
export type { PeerKeys } from './transport/election-transport.ts';
export { budgetFor } from './transport/source-budget.ts';
export type { AnnounceResult, AnnounceTarget } from './vip/announcer.ts';
export { PacketAnnouncer } from './vip/announcer.ts';
export type { ArpForm } from './vip/frames.ts';
export { VipOwner, type VipResult, type VipSpec, type VipStatus } from './vip/vip-owner.ts';
