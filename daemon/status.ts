/**
 * How the parts contribute to what `dsrctl status` shows (DaemonStatus, admin/catalogue/status.ts).
 *
 * A part's status() may return, besides its own fields, any of `groups`, `peers` and `services`
 * (StatusContribution). The daemon starts from what the config says (every group, peer, service
 * and real server, with state "unknown") and overlays what the parts report, matched by name
 * (groups, services), id (peers) and address (real servers). So the election can fill in roles,
 * health the real-server states, and the forwarder the flow counts, each on its own.
 */
import type {
  ClusterView,
  GroupStatus,
  PeerStatus,
  RealServerStatus,
  ServiceStatus,
} from '../admin/catalogue/status.ts';
import type { Config } from '../config/types.ts';

export interface StatusContribution {
  groups?: Partial<GroupStatus>[];
  peers?: Partial<PeerStatus>[];
  services?: (Partial<Omit<ServiceStatus, 'realServers'>> & { realServers?: Partial<RealServerStatus>[] })[];
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
            closingFlows: null,
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
                closingFlows: null,
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
