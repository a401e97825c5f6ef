/**
 * What `dsrctl status` shows, and how the parts contribute to it.
 *
 * A part's status() may return, besides its own fields, any of `groups`, `peers` and `services`
 * in the shapes below. The daemon starts from what the config says (every group, peer, service
 * and real server, with state "unknown") and overlays what the parts report, matched by name
 * (groups, services), id (peers) and address (real servers). So the election can fill in roles,
 * health the real-server states, and the forwarder the flow counts, each on its own.
 */
import type { Config } from '../config/types.ts';

export type Role = 'master' | 'backup' | 'fault' | 'init' | 'unknown';

export interface GroupStatus {
  name: string;
  id: number;
  role: Role;
  /** Configured priority, and the one in force after tracked conditions. */
  priority: number;
  effectivePriority: number | null;
  /** Node id of the current master as this director sees it; null if none or unknown. */
  master: string | null;
  vips: string[];
  /** Why the group is in Fault, or other remarks. */
  reason?: string;
}

export interface PeerStatus {
  id: string;
  address: string;
  /** ms since the last authenticated message from this peer; null = never heard. */
  lastHeardMs: number | null;
  /** false when the peer's config fingerprint differs from ours; null = unknown. */
  fingerprintMatch: boolean | null;
  sync?: string;
}

export type RealServerState = 'up' | 'down' | 'draining' | 'disabled' | 'unknown';

export interface RealServerStatus {
  address: string;
  /** Weight in force (0 while down or draining); configured weight alongside. */
  weight: number;
  configuredWeight: number;
  state: RealServerState;
  /** Flows in the connection table to this real server; null when no forwarder reports it. */
  activeFlows: number | null;
  /**
   * The forwarder's view: 'active', 'draining' (weight 0), 'unresolved' (no MAC yet: no new
   * flows), 'stale-mac'; absent when no forwarder reports it.
   */
  forwarding?: string;
  persistentClients: number | null;
  /** The service's sorry server: 'up' with new flows while the service is down, else 'disabled'. */
  sorry?: boolean;
}

export interface ServiceStatus {
  name: string;
  vip: string;
  protocol: 'tcp' | 'udp';
  port: number;
  scheduler: string;
  persistenceTimeoutS: number | null;
  state: 'up' | 'down' | 'unknown';
  realServers: RealServerStatus[];
}

export interface StatusContribution {
  groups?: Partial<GroupStatus>[];
  peers?: Partial<PeerStatus>[];
  services?: (Partial<Omit<ServiceStatus, 'realServers'>> & { realServers?: Partial<RealServerStatus>[] })[];
}

export interface ClusterView {
  groups: GroupStatus[];
  peers: PeerStatus[];
  services: ServiceStatus[];
}

/** What the config alone says: everything exists, nothing is known about its state. */
export function viewFromConfig(config: Config): ClusterView {
  return {
    groups: config.vipGroups.map((g) => ({
      name: g.name,
      id: g.id,
      role: 'unknown',
      priority: g.priority,
      effectivePriority: null,
      master: null,
      vips: [...g.vips],
    })),
    peers: config.peers.map((p) => ({
      id: p.id,
      address: p.address,
      lastHeardMs: null,
      fingerprintMatch: null,
    })),
    services: config.services.map((s) => ({
      name: s.name,
      vip: s.vip,
      protocol: s.protocol,
      port: s.port,
      scheduler: `${s.scheduler.kind}/${s.scheduler.tableSize}`,
      persistenceTimeoutS: s.persistence === null ? null : s.persistence.timeoutS,
      state: 'unknown',
      realServers: [
        ...s.realServers.map(
          (r): RealServerStatus => ({
            address: r.address,
            weight: r.weight,
            configuredWeight: r.weight,
            state: 'unknown',
            activeFlows: null,
            persistentClients: null,
          }),
        ),
        // Listed (the forwarder reports it too) and named, so it never reads as a real server.
        ...(s.sorryServer === null
          ? []
          : [
              {
                address: s.sorryServer,
                weight: 0,
                configuredWeight: 0,
                state: 'unknown' as const,
                activeFlows: null,
                persistentClients: null,
                sorry: true,
              },
            ]),
      ],
    })),
  };
}

function isContribution(value: unknown): value is StatusContribution {
  return typeof value === 'object' && value !== null;
}

function overlay<T extends object>(base: T[], extra: Partial<T>[] | undefined, key: keyof T): T[] {
  if (!Array.isArray(extra)) return base;
  const out = [...base];
  for (const e of extra) {
    if (typeof e !== 'object' || e === null || e[key] === undefined) continue;
    const i = out.findIndex((b) => b[key] === e[key]);
    if (i === -1) out.push(e as T);
    else out[i] = { ...out[i], ...e };
  }
  return out;
}

/** Overlays the parts' contributions (in part order, later wins) on the view from config. */
export function mergeView(base: ClusterView, statuses: readonly unknown[]): ClusterView {
  let view = base;
  for (const s of statuses) {
    if (!isContribution(s)) continue;
    const services = Array.isArray(s.services)
      ? s.services.map((c) => {
          const existing = view.services.find((v) => v.name === c.name);
          const realServers = overlay(existing?.realServers ?? [], c.realServers, 'address');
          return { ...c, realServers };
        })
      : undefined;
    view = {
      groups: overlay(view.groups, s.groups, 'name'),
      peers: overlay(view.peers, s.peers, 'id'),
      services: overlay(view.services, services as Partial<ServiceStatus>[] | undefined, 'name'),
    };
  }
  return view;
}

export interface ReloadRecord {
  at: string;
  ok: boolean;
  /** Why it failed (the config errors, one per line), or null. */
  error: string | null;
  /** Parts the change was handed to. */
  parts: string[];
}

/** The result of the `status` admin command. */
export interface DaemonStatus extends ClusterView {
  node: string;
  pid: number;
  version: string;
  state: 'starting' | 'running' | 'stopping';
  uptimeS: number;
  config: { path: string; fingerprint: string | null; loadedAt: string; lastReload: ReloadRecord | null };
  log: { level: string };
  eventLoop: {
    delayP99Ms: number;
    delayMaxMs: number;
    stalls: number;
    maxGapMs: number;
    lastStall: { agoMs: number; gapMs: number } | null;
  };
  parts: { name: string; state: string; error?: string; status?: unknown }[];
}
