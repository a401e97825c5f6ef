/**
 * Reading the connection table for operators and for drains: live flows per real server, and the
 * `dsrctl conns` listing. An entry the program would treat as expired (forwarder/conn-state.ts)
 * is not a flow. These walk whole tables (a million entries take about a second), so the part
 * runs them in a worker thread (forwarder-table-worker.ts), never on the daemon's event loop.
 */

import type { ParsedArgsOf } from '../../admin/catalogue/commands.ts';
import type { FlowCensus } from '../../admin/catalogue/drill.ts';
import type { ConnEntry, ConnsResult } from '../../admin/catalogue/flows.ts';
import { DsrError } from '../../core/errors.ts';
import { type IpAddress, parseIp } from '../../core/net/ip.ts';
import { connTimeout, isExpired } from '../conn-state.ts';
import { DSR, type ForwarderConfig, formatMapAddress, IPPROTO_TCP } from '../layout.ts';
import type { FlowCountsByReal, FlowTables } from '../tables.ts';

const STATE_NAMES: Record<number, string> = {
  [DSR.CONN_TCP_SYN]: 'syn',
  [DSR.CONN_TCP_EST]: 'established',
  [DSR.CONN_TCP_CLOSING]: 'closing',
  [DSR.CONN_UDP]: 'udp',
};

/** Real id → the config's service name and the real server's address. */
export type RealNames = ReadonlyMap<number, { service: string; address: string }>;

export interface TableCounts extends FlowCountsByReal {
  /** Persistence entries by real id. */
  persistent: Map<number, number>;
  /** Live connection entries. */
  total: number;
  /** Entries of the persistence table. */
  persistentTotal: number;
}

type Flow = Parameters<Parameters<FlowTables['forEachConn']>[0]>[0];
type Conn = Parameters<Parameters<FlowTables['forEachConn']>[0]>[1];

function forEachLive(
  tables: FlowTables,
  cfg: ForwarderConfig,
  now: bigint,
  visit: (flow: Flow, e: Conn, timeoutNs: bigint) => void,
): void {
  tables.forEachConn((flow, e) => {
    const timeout = connTimeout(cfg, e.state);
    if (!isExpired(now, e.lastSeenNs, timeout)) visit(flow, e, timeout);
  });
}

/**
 * The drill's census: live flows, and those with more than `minRemainingNs` to live. A flow that
 * close to expiry may legitimately be gone on a peer a moment later; the others may not.
 */
export function censusTables(
  tables: FlowTables,
  cfg: ForwarderConfig,
  now: bigint,
  minRemainingNs: bigint,
): FlowCensus {
  let live = 0;
  let longLived = 0;
  forEachLive(tables, cfg, now, (_flow, e, timeoutNs) => {
    live++;
    if (timeoutNs - BigInt.asIntN(64, now - e.lastSeenNs) > minRemainingNs) longLived++;
  });
  return { live, longLived };
}

/** Per config service name and real server address, from counts by real id. */
export function flowsByName(
  counts: ReadonlyMap<number, number>,
  names: RealNames,
): Map<string, Map<string, number>> {
  const out = new Map<string, Map<string, number>>();
  for (const [realId, n] of counts) {
    const r = names.get(realId);
    if (r === undefined) continue;
    const m = out.get(r.service) ?? new Map<string, number>();
    m.set(r.address, (m.get(r.address) ?? 0) + n);
    out.set(r.service, m);
  }
  return out;
}

/** "198.18.0.0/24" or an address; undefined = no filter. */
export function clientMatcher(spec: string | undefined): (family: 4 | 6, bytes: Uint8Array) => boolean {
  if (spec === undefined) return () => true;
  const [addr, bits] = spec.split('/');
  let parsed: IpAddress;
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

export function listTables(
  tables: FlowTables,
  cfg: ForwarderConfig,
  names: RealNames,
  args: ParsedArgsOf<'conns'>,
  now: bigint,
): ConnsResult {
  const matchClient = clientMatcher(args.client);
  const entries: ConnEntry[] = [];
  let total = 0;
  forEachLive(tables, cfg, now, (flow, e, timeoutNs) => {
    const r = names.get(e.realId);
    const service = r?.service ?? `service ${e.svcId}`;
    if (args.service !== undefined && service !== args.service) return;
    if (!matchClient(flow.family, flow.src)) return;
    total++;
    if (entries.length >= args.limit) return;
    entries.push({
      service,
      protocol: flow.proto === IPPROTO_TCP ? 'tcp' : 'udp',
      client: formatMapAddress(flow.family, flow.src),
      clientPort: flow.sport,
      vip: formatMapAddress(flow.family, flow.dst),
      vipPort: flow.dport,
      realServer: r?.address ?? `real ${e.realId}`,
      state: STATE_NAMES[e.state] ?? `state ${e.state}`,
      expiresS: Math.max(0, Math.round(Number(timeoutNs - (now - e.lastSeenNs)) / 1e9)),
    });
  });
  return { entries, total };
}
