/**
 * From the config, the health part's backends and the neighbour table to the forwarder's desired
 * state (forwarder/reconciler.ts). Pure: the part calls it on every change and the reconciler
 * writes only what differs.
 */
import type { Config, ServiceConfig } from '../../config/index.ts';
import { parseIp } from '../../core/net/ip.ts';
import { IPPROTO_TCP, IPPROTO_UDP, parseMapAddress } from '../../forwarder/layout.ts';
import type { DesiredService, DesiredState } from '../../forwarder/reconciler.ts';
import { serviceName } from '../../forwarder/reconciler.ts';
import type { Backend } from '../../health/service-health.ts';

/** A backend as the health part reports it (health/service-health.ts), or from config alone. */
export interface BackendWeight {
  id: string;
  weight: number;
  /** Drained, but clients pinned to it by persistence still reach it (drain.keep_persistence). */
  keepPinned?: boolean;
  /** Its checks failed (not merely drained or unchecked): reschedule_on_down moves its flows. */
  down?: boolean;
}

/**
 * The health part's backends as the forwarder takes them. A drained real server that is up keeps
 * its pinned clients while its drain allows new persistence (the service's drain.keep_persistence);
 * any other real server at weight 0 gets no persistence hits.
 */
export function healthBackends(
  backends: readonly Backend[],
  allowsPersistence: (rs: string) => boolean,
): BackendWeight[] {
  return backends.map((b) => {
    const out: BackendWeight = { id: b.id, weight: b.weight };
    if (b.drained && b.health === 'up' && !b.sorry && allowsPersistence(b.id)) out.keepPinned = true;
    if (b.health === 'down') out.down = true;
    return out;
  });
}

export interface DesiredInputs {
  directorMac: string;
  /** Backends with effective weights; undefined while no health part has a view of the service. */
  backends(service: string): BackendWeight[] | undefined;
  /** The real server's MAC when resolved. */
  macOf(address: string): string | undefined;
}

/** The forwarder's name of a service ("tcp/198.18.0.200:80", "udp/[2001:2::200]:53"). */
export function forwarderServiceName(s: Pick<ServiceConfig, 'vip' | 'protocol' | 'port'>): string {
  const vip = parseMapAddress(s.vip);
  return serviceName({
    vip: vip.bytes,
    port: s.port,
    proto: s.protocol === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP,
    family: vip.family,
  });
}

/**
 * Without a health verdict every real server takes its configured weight and the sorry server
 * none: that is also what the health part reports for servers without checks.
 */
export function configBackends(s: ServiceConfig): BackendWeight[] {
  const list = s.realServers.map((r) => ({ id: r.address, weight: r.weight }));
  if (s.sorryServer !== null) list.push({ id: s.sorryServer, weight: 0 });
  return list;
}

function desiredService(s: ServiceConfig, inputs: DesiredInputs): DesiredService {
  const family = parseIp(s.vip).family;
  const backends = inputs.backends(s.name) ?? configBackends(s);
  const d: DesiredService = {
    vip: s.vip,
    protocol: s.protocol,
    port: s.port,
    maglevSize: s.scheduler.tableSize,
    reals: backends.map((b) => ({
      address: b.id,
      weight: b.weight,
      mac: inputs.macOf(b.id) ?? null,
      ...(b.keepPinned === true ? { keepPinned: true } : {}),
      // reschedule_on_down: the flows of a real server that failed its checks are chosen anew.
      ...(b.down === true && s.rescheduleOnDown ? { moveFlows: true } : {}),
    })),
  };
  if (s.persistence !== null) {
    d.persistence = {
      timeoutSec: s.persistence.timeoutS,
      prefixLen: family === 4 ? s.persistence.netmaskV4 : s.persistence.netmaskV6,
    };
  }
  return d;
}

export function desiredState(config: Config, inputs: DesiredInputs): DesiredState {
  return {
    directorMac: inputs.directorMac,
    services: config.services.map((s) => desiredService(s, inputs)),
    settings: {
      tcpEstablishedSec: config.timers.tcpEstablishedS,
      tcpClosingSec: config.timers.tcpClosingS,
      udpSec: config.timers.udpS,
      synOnly: config.forwarder.synOnly,
    },
  };
}

/** Every address the forwarder needs a MAC for: real servers and sorry servers. */
export function backendAddresses(config: Config): string[] {
  const all = new Set<string>();
  for (const s of config.services) {
    for (const r of s.realServers) all.add(r.address);
    if (s.sorryServer !== null) all.add(s.sorryServer);
  }
  return [...all];
}
