/**
 * Quorum mode as `dsrctl status` shows it and as the metrics export it: the VIP groups' roles
 * (master while our lease lasts), the peers as voters, and the voter's own figures.
 */
import type { Config } from '../../config/index.ts';
import type { RaftStatus, RaftTransportStats } from '../../failover/index.ts';
import type { ElectionSnapshot, QuorumSnapshot } from '../metrics/snapshots.ts';

export interface QuorumViewInput {
  config: Config | undefined;
  status: RaftStatus | null;
  transport: RaftTransportStats | null;
  names: ReadonlyMap<number, string>;
  /** performance.now() */
  now: number;
  leaderChanges: number;
  transitions: Readonly<Record<'master' | 'backup', number>>;
}

const nameOf = (v: QuorumViewInput, id: number): string | null =>
  id === 0 ? null : (v.names.get(id) ?? String(id));

/** The peers (ids) heard from within one election timeout (the raft status's clock is performance.now()). */
export function reachable(v: QuorumViewInput): Set<number> {
  const timeout = v.config?.election.raft?.electionTimeoutMs ?? 0;
  const heard = v.status?.peers.filter((p) => p.lastHeard !== null && v.now - p.lastHeard <= timeout) ?? [];
  return new Set(heard.map((p) => p.id));
}

/**
 * Whether this voter is on a majority's side: it hears a majority itself (a leader hears every
 * follower's answers), or it follows a leader it heard within the timeout. Followers hear only the
 * leader, never each other; a leader stays one only with a majority's answers (check-quorum).
 */
export function hasQuorum(v: QuorumViewInput): boolean {
  const s = v.status;
  if (s === null) return false;
  const up = reachable(v);
  if (up.size + 1 >= Math.floor((s.peers.length + 1) / 2) + 1) return true;
  return s.role !== 'leader' && s.leader !== 0 && up.has(s.leader);
}

function leaseLeftMs(v: QuorumViewInput): number {
  const until = v.status?.leaseUntil ?? null;
  return until === null ? 0 : Math.max(0, until - v.now);
}

export function quorumStatusView(v: QuorumViewInput): unknown {
  const s = v.status;
  const config = v.config;
  if (s === null || config === undefined) return {};
  const owning = leaseLeftMs(v) > 0;
  const leader = nameOf(v, s.leader);
  const up = reachable(v);
  return {
    groups: config.vipGroups.map((g) => ({
      name: g.name,
      role: owning ? 'master' : 'backup',
      master: owning ? config.node.id : leader,
      reason: owning ? 'raft leader, lease held' : leader === null ? 'no raft leader' : 'raft follower',
    })),
    peers: s.peers.map((p) => ({
      id: nameOf(v, p.id) ?? String(p.id),
      lastHeardMs: p.lastHeard === null ? null : Math.round(v.now - p.lastHeard),
    })),
    quorum: {
      mode: 'raft',
      role: s.witness ? 'witness' : s.role,
      term: s.term,
      leader,
      leaseLeftMs: Math.round(leaseLeftMs(v)),
      commit: s.commit,
      transferTarget: s.transferTarget === null ? null : nameOf(v, s.transferTarget),
      voters: [
        { name: config.node.id, witness: s.witness, reachable: true, match: null },
        ...s.peers.map((p) => ({
          name: nameOf(v, p.id),
          witness: p.witness,
          reachable: up.has(p.id),
          match: p.match,
        })),
      ],
      quorum: hasQuorum(v),
      drops: v.transport?.drops ?? {},
      sent: v.transport?.sent ?? 0,
      accepted: v.transport?.accepted ?? 0,
    },
  };
}

/** The 'election' provider (roles per group, as in VRRP mode, so dashboards and alert rules hold). */
export function quorumElectionMetrics(v: QuorumViewInput): ElectionSnapshot {
  const owning = leaseLeftMs(v) > 0;
  const s = v.status;
  return {
    groups: (v.config?.vipGroups ?? []).map((g) => ({
      group: g.name,
      role: owning ? 'master' : 'backup',
      transitions: { ...v.transitions },
      advertsSent: v.transport?.sent ?? 0,
      advertsReceived: v.transport?.accepted ?? 0,
      stalls: { relearned: 0, covered: 0 },
      vips: g.vips.map((vip) => ({ vip, owned: owning })),
      vipConflicts: 0,
    })),
    advertsDropped: { ...(v.transport?.drops ?? {}) },
    peers: (s?.peers ?? []).map((p) => ({
      peer: nameOf(v, p.id) ?? String(p.id),
      lastHeardSeconds: p.lastHeard === null ? null : (v.now - p.lastHeard) / 1000,
    })),
    keeper: null,
  };
}

export function quorumMetrics(v: QuorumViewInput): QuorumSnapshot {
  const s = v.status;
  const voters = (s?.peers.length ?? 0) + 1;
  const up = reachable(v).size + 1;
  return {
    term: s?.term ?? 0,
    leader: s?.role === 'leader' ? 1 : 0,
    leaseRemainingSeconds: leaseLeftMs(v) / 1000,
    votersReachable: up,
    voters,
    quorum: hasQuorum(v) ? 1 : 0,
    leaderChanges: v.leaderChanges,
  };
}
