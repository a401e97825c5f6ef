/**
 * Reading the connection table for operators and for drains: live flows per real server, and the
 * `dsrctl conns` listing. An entry the program would treat as expired (forwarder/conn-state.ts)
 * is not a flow.
 */

import { formatIp, type IpAddr, parseIp } from '../../../forwarder/addr.ts';
import { connTimeout, isExpired } from '../../../forwarder/conn-state.ts';
import type { Forwarder } from '../../../forwarder/forwarder.ts';
import { DSR, type ForwarderConfig, IPPROTO_TCP } from '../../../forwarder/layout.ts';
import type { ConnsArgs } from '../../admin/contract-args.ts';
import type { ConnEntry as AdminConnEntry, ConnsResult } from '../../admin/contracts.ts';
import { DsrError } from '../../errors.ts';

const STATE_NAMES: Record<number, string> = {
  [DSR.CONN_TCP_SYN]: 'syn',
  [DSR.CONN_TCP_EST]: 'established',
  [DSR.CONN_TCP_CLOSING]: 'closing',
  [DSR.CONN_UDP]: 'udp',
};

/** Maps the forwarder's ids and names to the config's service names. */
export interface ServiceNames {
  /** Forwarder service name ("tcp/198.18.0.200:80") → config name. */
  byForwarderName: ReadonlyMap<string, string>;
}

export interface FlowCounts {
  /** Live flows by config service name and real server address. */
  perReal: Map<string, Map<string, number>>;
  total: number;
  /** Entries of the persistence table (after the sweep removed the expired ones). */
  persistent: number;
}

function liveEntries(fwd: Forwarder, now: bigint, visit: (e: ConnEntry, flow: FlowView) => void): void {
  const cfg: ForwarderConfig = fwd.store.getConfig();
  fwd.tables.forEachConn((flow, entry) => {
    if (isExpired(now, entry.lastSeenNs, connTimeout(cfg, entry.state))) return;
    visit({ ...entry, timeoutNs: connTimeout(cfg, entry.state) }, flow);
  });
}

type ConnEntry = Parameters<Parameters<Forwarder['tables']['forEachConn']>[0]>[1] & { timeoutNs: bigint };
type FlowView = Parameters<Parameters<Forwarder['tables']['forEachConn']>[0]>[0];

function realNames(fwd: Forwarder, names: ServiceNames): Map<number, { service: string; address: string }> {
  const out = new Map<number, { service: string; address: string }>();
  for (const s of fwd.reconciler.status()) {
    const service = names.byForwarderName.get(s.service) ?? s.service;
    for (const r of s.reals) out.set(r.id, { service, address: r.address });
  }
  return out;
}

export function countFlows(fwd: Forwarder, names: ServiceNames, now: bigint): FlowCounts {
  const reals = realNames(fwd, names);
  const perReal = new Map<string, Map<string, number>>();
  let total = 0;
  liveEntries(fwd, now, (e) => {
    total++;
    const r = reals.get(e.realId);
    if (r === undefined) return;
    const m = perReal.get(r.service) ?? new Map<string, number>();
    m.set(r.address, (m.get(r.address) ?? 0) + 1);
    perReal.set(r.service, m);
  });
  let persistent = 0;
  fwd.tables.forEachPersist(() => {
    persistent++;
  });
  return { perReal, total, persistent };
}

/** "198.18.0.0/24" or an address; undefined = no filter. */
function clientMatcher(spec: string | undefined): (family: 4 | 6, bytes: Uint8Array) => boolean {
  if (spec === undefined) return () => true;
  const [addr, bits] = spec.split('/');
  let parsed: IpAddr;
  try {
    parsed = parseIp(addr);
  } catch {
    throw new DsrError('E_ADMIN_REQUEST', `--client ${spec} is not an address or prefix`, { client: spec });
  }
  const max = parsed.family === 4 ? 32 : 128;
  const len = bits === undefined ? max : Number(bits);
  if (!Number.isInteger(len) || len < 0 || len > max) {
    throw new DsrError('E_ADMIN_REQUEST', `--client ${spec}: prefix length must be 0..${max}`, {
      client: spec,
    });
  }
  return (family, bytes) => {
    if (family !== parsed.family) return false;
    for (let bit = 0; bit < len; bit++) {
      const mask = 0x80 >> (bit % 8);
      if ((bytes[bit >> 3] & mask) !== (parsed.bytes[bit >> 3] & mask)) return false;
    }
    return true;
  };
}

export function listConns(fwd: Forwarder, names: ServiceNames, args: ConnsArgs, now: bigint): ConnsResult {
  const reals = realNames(fwd, names);
  const matchClient = clientMatcher(args.client);
  const entries: AdminConnEntry[] = [];
  let total = 0;
  liveEntries(fwd, now, (e, flow) => {
    const r = reals.get(e.realId);
    const service = r?.service ?? `service ${e.svcId}`;
    if (args.service !== undefined && service !== args.service) return;
    if (!matchClient(flow.family, flow.src)) return;
    total++;
    if (entries.length >= args.limit) return;
    const leftNs = e.timeoutNs - (now - e.lastSeenNs);
    entries.push({
      service,
      protocol: flow.proto === IPPROTO_TCP ? 'tcp' : 'udp',
      client: formatIp({ family: flow.family, bytes: flow.src }),
      clientPort: flow.sport,
      vip: formatIp({ family: flow.family, bytes: flow.dst }),
      vipPort: flow.dport,
      realServer: r?.address ?? `real ${e.realId}`,
      state: STATE_NAMES[e.state] ?? `state ${e.state}`,
      expiresS: Math.max(0, Math.round(Number(leftNs) / 1e9)),
    });
  });
  return { entries, total };
}
