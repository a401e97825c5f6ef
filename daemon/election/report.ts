/**
 * How the election's outputs and status are told to the rest of the daemon: roles in dsrctl
 * status, alert events, metrics. Pure mappings, tested on their own.
 */

import type { GroupStatus, PeerStatus, Role } from '../../admin/catalogue/status.ts';
import type { Config } from '../../config/index.ts';
import type { ElectionAlert, ElectionStatus, PeerKeys } from '../../failover/index.ts';
import type { AlertsPart } from '../alerts/part.ts';

type AlertSink = Pick<AlertsPart, 'emit'>;

export type ElectionStateName = ElectionStatus['state'];

export function roleOf(state: ElectionStateName): Role {
  return state === 'initialize' ? 'init' : state;
}

export type DirectorRole = 'init' | 'backup' | 'master' | 'fault';

export function directorRole(state: ElectionStateName): DirectorRole {
  return state === 'initialize' ? 'init' : state;
}

/** Node id → config name (ours and the peers'). */
export type NodeNames = ReadonlyMap<number, string>;

const nameOf = (names: NodeNames, id: number): string => names.get(id) ?? `node-${id}`;

export function groupStatus(config: Config, s: ElectionStatus, names: NodeNames): GroupStatus {
  const g = config.vipGroups.find((x) => x.id === s.groupId);
  const failing = s.conditions.filter((c) => c.failing).map((c) => c.name);
  const out: GroupStatus = {
    name: g?.name ?? String(s.groupId),
    id: s.groupId,
    role: roleOf(s.state),
    priority: s.basePriority,
    effectivePriority: s.effectivePriority,
    master: s.masterId === null ? null : nameOf(names, s.masterId),
    vips: [...(g?.vips ?? [])],
  };
  const remarks = [...failing.map((n) => `${n} failing`)];
  if (s.preemptHold) remarks.push('preemption held');
  if (!s.syncReady) remarks.push('not in sync');
  if (remarks.length > 0) out.reason = remarks.join(', ');
  return out;
}

/** One line per peer over all groups: the freshest last-heard, and any fingerprint mismatch. */
export function peerStatuses(
  config: Config,
  groups: readonly ElectionStatus[],
  names: NodeNames,
  peerKeys: Readonly<Record<number, PeerKeys>> = {},
): PeerStatus[] {
  const keysOf = (name: string): PeerStatus['keys'] => {
    const id = [...names].find(([, n]) => n === name)?.[0];
    const k = id === undefined ? undefined : peerKeys[id];
    return k === undefined ? null : { sendsWith: k.sendsWith, accepts: [...k.accepts] };
  };
  return config.peers.map((p) => {
    let lastHeardMs: number | null = null;
    let fingerprintMatch: boolean | null = null;
    for (const g of groups) {
      const ps = g.peers.find((x) => nameOf(names, x.nodeId) === p.id);
      if (ps === undefined) continue;
      if (ps.lastHeardAgoMs !== null && (lastHeardMs === null || ps.lastHeardAgoMs < lastHeardMs)) {
        lastHeardMs = ps.lastHeardAgoMs;
      }
      if (ps.fingerprintMatch === false) fingerprintMatch = false;
      else if (ps.fingerprintMatch === true && fingerprintMatch === null) fingerprintMatch = true;
    }
    return {
      id: p.id,
      address: p.address,
      lastHeardMs: lastHeardMs === null ? null : Math.round(lastHeardMs),
      fingerprintMatch,
      keys: keysOf(p.id),
    };
  });
}

/**
 * What has been told about each peer. Every VIP group runs its own election and peer table, so with
 * N groups a peer that dies is reported lost N times over: peer and config-fingerprint events are
 * about the peer, not a group, and only the first group to see a change raises it.
 */
export class PeerAlertMemory {
  readonly #lost = new Set<string>();
  /** Peer → the `theirs/ours` fingerprints of the mismatch last raised. */
  readonly #mismatch = new Map<string, string>();

  /** Whether this alert about `peer` is news (and remember it). */
  news(alert: ElectionAlert, peer: string): boolean {
    switch (alert.kind) {
      case 'peer-lost':
        if (this.#lost.has(peer)) return false;
        this.#lost.add(peer);
        return true;
      case 'peer-recovered':
        return this.#lost.delete(peer);
      case 'fingerprint-mismatch': {
        const key = `${alert.theirs}/${alert.ours}`;
        if (this.#mismatch.get(peer) === key) return false;
        this.#mismatch.set(peer, key);
        return true;
      }
      case 'fingerprint-match':
        return this.#mismatch.delete(peer);
      default:
        return true;
    }
  }
}

/** Raises the alert event an election alert maps to; the rest are only logged by the caller. */
export function raiseAlert(
  alerts: AlertSink | undefined,
  group: string,
  ourName: string,
  alert: ElectionAlert,
  names: NodeNames,
  ourFingerprint: string,
  memory: PeerAlertMemory = new PeerAlertMemory(),
): void {
  if (alerts === undefined) return;
  if ('peer' in alert && !memory.news(alert, nameOf(names, alert.peer))) return;
  switch (alert.kind) {
    case 'split-brain-detected':
      alerts.emit('split_brain_detected', { group, masters: [ourName, nameOf(names, alert.peer)] });
      return;
    case 'split-brain-resolved':
      alerts.emit('split_brain_resolved', { group });
      return;
    case 'fingerprint-mismatch':
      alerts.emit('fingerprint_mismatch', {
        peer: nameOf(names, alert.peer),
        localFingerprint: alert.ours,
        peerFingerprint: alert.theirs,
      });
      return;
    case 'fingerprint-match':
      alerts.emit('fingerprint_match', { peer: nameOf(names, alert.peer), fingerprint: ourFingerprint });
      return;
    case 'peer-lost':
      alerts.emit('peer_lost', {
        peer: nameOf(names, alert.peer),
        lastHeardSecondsAgo: alert.silentMs / 1000,
      });
      return;
    case 'peer-recovered':
      alerts.emit('peer_recovered', { peer: nameOf(names, alert.peer) });
      return;
    default:
      return;
  }
}
