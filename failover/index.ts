/** Public API of the election (see failover/README.md). */
import { ElectionGroup } from './election/group.ts';
import type { ElectionOptions } from './election/types.ts';

export { DROP_REASONS, type DropCounters, type DropReason } from './drop-reasons.ts';
export { ElectionGroup } from './election/group.ts';
export type {
  AdvertisedState,
  ElectionMessage,
  ElectionState,
  HandoverRejectReason,
  Outgoing,
} from './election/messages.ts';
export { ADVERTS_PER_INTERVAL, masterDownIntervalMs, skewTimeMs } from './election/timing.ts';
export type { TrackedConditionSpec, TrackedConditionStatus } from './election/tracked-conditions.ts';
export type {
  ElectionAlert,
  ElectionEffect,
  ElectionOptions,
  ElectionOutput,
  ElectionStatus,
  PeerStatus,
  Transition,
  TransitionReason,
} from './election/types.ts';
export { advertFingerprint, nodeIdFromName, nodeIds } from './node-id.ts';
export {
  ElectionRunner,
  type ElectionRunnerOptions,
  type RunnerTimers,
} from './transport/election-runner.ts';
export {
  type DropInfo,
  ElectionTransport,
  type ElectionTransportOptions,
  type MulticastOptions,
  type TransportClock,
  type TransportPeer,
  type TransportStats,
} from './transport/election-transport.ts';

/** One VIP group's election state machine, in Initialize until `start(now)`. */
export function createElection(options: ElectionOptions): ElectionGroup {
  return new ElectionGroup(options);
}
