/**
 * The election as `dsrctl status` shows it and as the metrics export it, from the election thread's
 * last snapshot (failover/thread/protocol.ts) and the part's own records.
 */
import type { ElectionThreadStatus } from '../../admin/catalogue/election.ts';
import type { Config } from '../../config/index.ts';
import type { ElectionSnapshot, ElectionThread } from '../../failover/index.ts';
import type { VipPart } from '../vip/part.ts';
import type { MaintenanceState } from './maintenance.ts';
import type { Group } from './part.ts';
import { directorRole, groupStatus, type NodeNames, peerStatuses } from './report.ts';

function sum<T>(list: readonly T[], value: (x: T) => number): number {
  return list.reduce((n, x) => n + value(x), 0);
}

/** The election part's status: groups, peers (with the keys they advertise) and the thread's figures. */
export function electionStatusView(
  config: Config,
  thread: ElectionThread,
  names: NodeNames,
  maintenance: MaintenanceState,
): unknown {
  const s = thread.snapshot();
  const shown: ElectionThreadStatus = {
    thread: { scheduling: thread.scheduling, schedulingError: thread.schedulingError },
    keeper: s.keeper,
    stalls: {
      relearned: sum(s.groups, (g) => g.counters.stalls ?? 0),
      covered: sum(s.groups, (g) => g.counters.coveredStalls ?? 0),
    },
    maintenance: { ...maintenance },
  };
  return {
    groups: s.groups.map((gs) => groupStatus(config, gs, names)),
    peers: peerStatuses(config, s.groups, names, s.transport?.peerKeys),
    election: {
      drops: s.drops,
      transport: s.transport,
      ...shown,
      snapshotAgeMs: Math.max(0, Math.round(performance.now() - s.at)),
    },
  };
}

/** What the metrics provider exports of the election (daemon/metrics). */
export function electionMetricsView(
  config: Config | undefined,
  snapshot: ElectionSnapshot | undefined,
  names: NodeNames,
  groups: ReadonlyMap<number, Group>,
  vip: VipPart,
) {
  const s = snapshot ?? { groups: [], drops: {}, transport: null, keeper: null };
  const t = s.transport;
  const peers = config === undefined ? [] : peerStatuses(config, s.groups, names, t?.peerKeys);
  return {
    groups: s.groups.map((gs) => {
      const g = groups.get(gs.groupId)!;
      const owned = vip.owned(g.config.name);
      return {
        group: g.config.name,
        role: directorRole(gs.state),
        transitions: { ...g.transitions },
        advertsSent: gs.counters.advertsSent ?? 0,
        advertsReceived: gs.counters.messagesReceived ?? 0,
        stalls: { relearned: gs.counters.stalls ?? 0, covered: gs.counters.coveredStalls ?? 0 },
        vips: g.config.vips.map((v) => ({
          vip: v,
          owned: owned?.held.some((h) => h.startsWith(`${v}/`)) ?? false,
        })),
        vipConflicts: vip.conflicts(g.config.name),
      };
    }),
    advertsDropped: { ...(t?.drops ?? {}), ...s.drops },
    peers: peers.map((p) => ({
      peer: p.id,
      lastHeardSeconds: p.lastHeardMs === null ? null : p.lastHeardMs / 1000,
    })),
    keeper:
      s.keeper === null
        ? null
        : {
            running: s.keeper.running,
            covers: s.keeper.covers,
            adverts: s.keeper.advertsSent,
            limitReached: s.keeper.gaveUp,
            sendErrors: s.keeper.sendErrors,
            longestSilenceSeconds: s.keeper.longestSilenceMs / 1000,
          },
  };
}
