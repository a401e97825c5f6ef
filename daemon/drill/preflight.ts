/**
 * The drill's preflight: may a planned handover to the peer (and, with --back, the way back) work
 * now, and is there anything that would make its verdict meaningless? Pure: facts in, checks out.
 * Nothing changes until every check passes.
 *
 * What each check reads (all of it already carried by the election and the sync protocols):
 *   - master here: this director's state in the group;
 *   - peer healthy: the peer's adverts (heard within 3 of its intervals, not lost, a backup);
 *   - peer in sync: the sync-ready flag in the peer's adverts (it holds our whole tables), our
 *     sender's unacknowledged age to it, and our receiver's in-sync state from it (we will need its
 *     tables to count its flows, and to take the group back);
 *   - same config: the config fingerprints the adverts carry.
 */
import type { DrillCheck } from '../../admin/catalogue/drill.ts';
import type { GroupElectionView, SyncPeerState } from './types.ts';

export interface PreflightFacts {
  self: string;
  group: GroupElectionView;
  peer: string;
  back: boolean;
  vips: readonly string[];
  heldVips: readonly string[];
  forwarderAttached: boolean;
  sync: { enabled: boolean; lagLimitMs: number; peer: SyncPeerState | undefined };
}

/** A peer heard within this many of its advert intervals is alive (VRRP declares it down after ~3). */
const HEARD_WITHIN_INTERVALS = 3;

const check = (name: string, ok: boolean, detail: string): DrillCheck => ({
  name,
  status: ok ? 'pass' : 'fail',
  detail,
});

export function preflightChecks(f: PreflightFacts): DrillCheck[] {
  const g = f.group;
  const peer = g.peers.find((p) => p.name === f.peer);
  const out: DrillCheck[] = [];

  out.push(
    check(
      'master here',
      g.role === 'master',
      g.role === 'master'
        ? `${f.self} is master of ${g.name}`
        : `${f.self} is ${g.role} of ${g.name}; run the drill on the master${g.master === null ? '' : ` (${g.master})`}`,
    ),
  );
  out.push(
    check(
      'no handover under way',
      g.handoverTo === null,
      g.handoverTo === null ? 'none' : `a handover to ${g.handoverTo} is in progress`,
    ),
  );
  const missing = f.vips.filter((v) => !f.heldVips.some((h) => h === v || h.startsWith(`${v}/`)));
  out.push(
    check(
      'VIPs held here',
      missing.length === 0,
      missing.length === 0 ? f.vips.join(', ') : `not held: ${missing.join(', ')}`,
    ),
  );
  out.push(
    check(
      'forwarder attached here',
      f.forwarderAttached,
      f.forwarderAttached ? 'XDP program attached' : 'the XDP program is not attached',
    ),
  );

  if (peer === undefined || peer.state === null || peer.lastHeardAgoMs === null) {
    out.push(check('peer healthy', false, `${f.peer} has never been heard in group ${g.name}`));
  } else {
    const limit = HEARD_WITHIN_INTERVALS * (peer.intervalMs ?? 1000);
    const heard = Math.round(peer.lastHeardAgoMs);
    const ok = !peer.lost && peer.lastHeardAgoMs <= limit && peer.state === 'backup';
    const why = peer.lost
      ? `${f.peer} is lost (last heard ${heard} ms ago)`
      : peer.lastHeardAgoMs > limit
        ? `${f.peer} last heard ${heard} ms ago (more than ${limit} ms)`
        : peer.state !== 'backup'
          ? `${f.peer} is ${peer.state}, not backup`
          : `${f.peer} is backup, heard ${heard} ms ago`;
    out.push(check('peer healthy', ok, why));
  }

  out.push(syncCheck(f, peer?.syncReady ?? null));
  const mine = f.sync.peer;
  out.push(
    check(
      "peer's tables here",
      !f.sync.enabled || mine?.inSync === true,
      !f.sync.enabled
        ? 'sync disabled'
        : mine === undefined
          ? `${f.peer} is not a sync peer`
          : mine.inSync
            ? `receiving ${f.peer}'s tables: in sync`
            : `receiving ${f.peer}'s tables: not in sync (${mine.notInSync ?? mine.state})`,
    ),
  );

  const fp = peer?.fingerprintMatch ?? null;
  out.push(
    check(
      'same config',
      fp === true,
      fp === true
        ? 'config fingerprints equal'
        : fp === false
          ? `${f.peer} runs another config (fingerprints differ): fix that before a drill`
          : `${f.peer}'s config fingerprint is unknown`,
    ),
  );

  if (f.back) out.push(backCheck(g, f.peer, peer?.priority ?? null));
  return out;
}

function syncCheck(f: PreflightFacts, peerSyncReady: boolean | null): DrillCheck {
  const name = 'peer in sync';
  if (!f.sync.enabled) {
    return check(name, false, 'sync is disabled: established flows would not carry over');
  }
  if (peerSyncReady !== true)
    return check(name, false, `${f.peer} does not hold our tables yet (not in sync)`);
  const s = f.sync.peer;
  if (s === undefined) return check(name, false, `${f.peer} is not a sync peer`);
  const lagOk = f.sync.lagLimitMs <= 0 || s.unackedMs <= f.sync.lagLimitMs;
  return check(
    name,
    lagOk,
    lagOk
      ? `${f.peer} holds our tables (oldest unacknowledged update ${Math.round(s.unackedMs)} ms, ${s.queued} queued)`
      : `${f.peer} is behind: oldest unacknowledged update ${Math.round(s.unackedMs)} ms (limit ${f.sync.lagLimitMs} ms)`,
  );
}

/**
 * The way back is our own preemption once the hold a handover leaves is released (RFC 5798 §6.4.2:
 * a backup preempts a master of lower priority). It can only work when we outrank the peer and
 * preempt; otherwise the group would stay on the peer, so say so before anything moves.
 */
function backCheck(g: GroupElectionView, peer: string, peerPriority: number | null): DrillCheck {
  const name = 'hand back possible';
  if (!g.preempt) {
    return check(name, false, `preempt is off for ${g.name}: run the drill without --back`);
  }
  if (peerPriority === null || g.effectivePriority <= peerPriority) {
    return check(
      name,
      false,
      `${g.name} comes back by preemption, which needs this director to outrank ${peer} (priority ${g.effectivePriority} vs ${peerPriority ?? 'unknown'})`,
    );
  }
  return check(name, true, `by preemption (priority ${g.effectivePriority} over ${peerPriority})`);
}

export const passed = (checks: readonly DrillCheck[]): boolean => checks.every((c) => c.status !== 'fail');
