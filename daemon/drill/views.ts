/**
 * The drill's views (drill-types.ts) over the real daemon parts and the kernel. Thin: each method
 * reads or calls one thing; the decisions are in drill-run.ts and drill-preflight.ts.
 */
import { connect } from 'node:net';
import type { Config } from '../../config/index.ts';
import { DsrError } from '../../core/errors.ts';
import { interfaceIndex } from '../../core/kernel/libc.ts';
import { RtnlNeighbourTable } from '../../core/netlink/neighbour-table.ts';
import { handOver } from '../election/handover.ts';
import type { ElectionPart } from '../election/part.ts';
import { directorRole } from '../election/report.ts';
import type { ForwarderPart } from '../forwarder/part.ts';
import type { SyncPart } from '../sync/part.ts';
import type { VipPart } from '../vip/part.ts';
import { PacketAnnouncementWatch } from './announce-watch.ts';
import type {
  DrillClock,
  DrillElection,
  DrillForwarder,
  DrillNet,
  DrillSetup,
  DrillSync,
  DrillVips,
  GroupElectionView,
  ProbeResult,
} from './types.ts';

export function electionView(election: ElectionPart, self: string): DrillElection {
  const entry = (group: string) => {
    const g = [...election.groups.values()].find((x) => x.config.name === group);
    if (g === undefined) throw new DsrError('E_USAGE', `no VIP group named "${group}"`, { group });
    return g;
  };
  const idOf = (name: string): number => {
    const found = [...election.names].find(([, n]) => n === name);
    if (found === undefined) throw new DsrError('E_USAGE', `"${name}" is not a peer of this director`);
    return found[0];
  };
  const nameOf = (id: number): string => election.names.get(id) ?? `node-${id}`;
  return {
    self,
    groupNames: () => [...election.groups.values()].map((g) => g.config.name),
    group(name): GroupElectionView {
      const g = entry(name);
      const s = election.groupStatus(g.id);
      return {
        name,
        role: directorRole(s.state),
        master: s.masterId === null ? (s.state === 'master' ? self : null) : nameOf(s.masterId),
        effectivePriority: s.effectivePriority,
        preempt: s.preempt,
        preemptDelayMs: s.preemptDelayMs,
        preemptHold: s.preemptHold,
        masterDownIntervalMs: s.masterDownIntervalMs,
        handoverTo: s.handover === null ? null : nameOf(s.handover.target),
        peers: s.peers.map((p) => ({
          name: nameOf(p.nodeId),
          state: p.state,
          priority: p.priority,
          syncReady: p.syncReady,
          lastHeardAgoMs: p.lastHeardAgoMs,
          lost: p.lost,
          intervalMs: p.intervalMs,
          fingerprintMatch: p.fingerprintMatch,
        })),
      };
    },
    handOver(group, peer, onStarted) {
      const g = entry(group);
      return handOver(election, group, g.id, idOf(peer), { force: false, onStarted });
    },
    releaseHold(group) {
      const g = entry(group);
      return election.input(g.id, { kind: 'release-hold' });
    },
  };
}

export function syncView(sync: SyncPart, config: () => Config): DrillSync {
  return {
    enabled: () => sync.enabled,
    lagLimitMs: () => config().sync.lagAlertMs,
    copyMarginMs: () => sync.copyMarginMs,
    peer: (name) => sync.peerStates().find((p) => p.peer === name),
    countTables: (peer, longLivedMs, limitMs) => sync.countPeerTables(peer, longLivedMs, limitMs),
  };
}

export function forwarderView(forwarder: ForwarderPart): DrillForwarder {
  return {
    attached: () => forwarder.attached(),
    census: (ms) => forwarder.census(ms),
    forwardedPackets: () => {
      const fwd = forwarder.engine();
      if (fwd === undefined) return 0;
      return fwd.status().services.reduce((n, s) => n + Number(s.traffic.packets), 0);
    },
  };
}

export function vipView(vip: VipPart): DrillVips {
  return {
    held: (group) => vip.owned(group)?.held ?? [],
    framesSent: (group) => vip.owned(group)?.framesSent ?? 0,
  };
}

/** A TCP connection to vip:port, closed as soon as it is established. */
function probeTcp(vip: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const sock = connect({ host: vip, port });
    const done = (ok: boolean, error?: string): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve({ ok, ms: performance.now() - t0, ...(error === undefined ? {} : { error }) });
    };
    const timer = setTimeout(() => done(false, `no answer in ${timeoutMs} ms`), timeoutMs);
    sock.once('connect', () => done(true));
    sock.once('error', (e) => done(false, e.message));
  });
}

async function macOf(ifname: string, address: string): Promise<string | null> {
  const table = new RtnlNeighbourTable();
  try {
    const e = await table.lookup(interfaceIndex(ifname), address);
    return e?.mac ?? null;
  } finally {
    table.close();
  }
}

export const kernelNet: DrillNet = {
  watchAnnouncements: (ifname, vips) => new PacketAnnouncementWatch(ifname, vips),
  macOf,
  probeTcp,
};

export const realClock: DrillClock = {
  now: () => performance.now(),
  wall: () => Date.now(),
  sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
};

/** The group's VIPs and interface, the peer's address, and a TCP service to connect to. */
export function drillSetup(config: Config, group: string, peer: string): DrillSetup {
  const g = config.vipGroups.find((x) => x.name === group);
  if (g === undefined) throw new DsrError('E_USAGE', `no VIP group named "${group}"`, { group });
  const p = config.peers.find((x) => x.id === peer);
  if (p === undefined) throw new DsrError('E_USAGE', `"${peer}" is not a peer of this director`, { peer });
  const svc = config.services.find((s) => g.vips.includes(s.vip) && s.protocol === 'tcp' && s.port !== 0);
  return {
    group,
    vips: [...g.vips],
    ifname: g.interface,
    peerAddress: p.address,
    probe: svc === undefined ? null : { service: svc.name, vip: svc.vip, port: svc.port },
  };
}
