/** Readings of a director's `status` answer that the pair's tests and the demo check (pure). */
import type { DaemonStatus } from '../../admin/catalogue/status.ts';

/** The sync part's status of its one peer (daemon/sync/part.ts status()). */
export interface SyncPeerView {
  peer: string;
  state: string;
  inSync: boolean;
  /** Why not in sync: waiting, resyncing, bulk-pending, gap, lost; null when in sync. */
  notInSync: string | null;
  applied: number;
  bulksCompleted: number;
  /** Entries the bulk under way, or the last one, carried. */
  bulkEntries: number;
  behindMessages: number;
}

/** The role of the director's (only) VIP group. */
export const role = (s: DaemonStatus): string => s.groups[0]?.role ?? 'unknown';

/** The sync part's own status (readiness, per-peer receiving state), for failure reports. */
export const syncStatus = (s: DaemonStatus): unknown =>
  s.parts.find((x) => x.name === 'sync')?.status ?? null;

export function syncPeer(s: DaemonStatus): SyncPeerView | undefined {
  return (syncStatus(s) as { streams?: SyncPeerView[] } | null)?.streams?.[0];
}

/** Whether the director holds its peer's tables (its sync from the peer is in sync). */
export const inSync = (s: DaemonStatus): boolean => syncPeer(s)?.inSync === true;

/** Every real server of every service forwarding (its MAC resolved). */
export const allForwarding = (s: DaemonStatus): boolean =>
  s.services.every((svc) => svc.realServers.every((r) => r.forwarding === 'active'));

/** The election's dropped datagrams by reason, transport and state machine together (failover/drop-reasons.ts). */
export function electionDrops(s: DaemonStatus): Record<string, number> {
  type Drops = Record<string, number>;
  const part = s.parts.find((x) => x.name === 'election')?.status as
    | { election?: { drops?: Drops; transport?: { drops?: Drops } | null } }
    | undefined;
  return { ...(part?.election?.transport?.drops ?? {}), ...(part?.election?.drops ?? {}) };
}
