/** The Raft voter's options from the config (failover/raft/options.ts). */
import type { Config } from '../../config/index.ts';
import { DEFAULT_MAX_DRIFT_RATIO, type RaftOptions } from '../../failover/index.ts';

/**
 * M of failover/raft/lease.ts: from the lease's end to the VIPs gone, the main thread's timer
 * firing and the address removal (netlink). The lease is T·(1 − ρ)/(1 + ρ) − M.
 */
export const RELEASE_MARGIN_MS = 5;

/** Appends carry operator commands, a few bytes each: a batch is never near a datagram's size. */
const MAX_ENTRIES_PER_APPEND = 64;

export function raftOptions(c: Config, ids: ReadonlyMap<string, number>): RaftOptions {
  const raft = c.election.raft;
  if (raft === null) throw new Error('internal: raft options outside quorum mode');
  const id = (name: string) => ids.get(name) as number;
  const witnesses = c.peers.filter((p) => p.witness).map((p) => id(p.id));
  if (c.node.role === 'witness') witnesses.push(id(c.node.id));
  return {
    id: id(c.node.id),
    voters: [c.node.id, ...c.peers.map((p) => p.id)].map(id),
    witnesses,
    electionTimeoutMs: raft.electionTimeoutMs,
    electionJitterMs: raft.electionJitterMs,
    heartbeatIntervalMs: raft.heartbeatIntervalMs,
    maxDriftRatio: DEFAULT_MAX_DRIFT_RATIO,
    releaseMarginMs: RELEASE_MARGIN_MS,
    maxEntriesPerAppend: MAX_ENTRIES_PER_APPEND,
    random: Math.random,
  };
}
