/**
 * `dsrctl explain CLIENT:PORT VIP:PORT/PROTO`: which real server a flow goes to and why, decided
 * by the forwarder's reference model (forwarder/model.ts, the program's rules in TypeScript, kept
 * identical by the differential test) over the live maps, seeded with the live connection and
 * persistence entries of that flow. Nothing is written to the kernel.
 */

import type { ParsedArgsOf } from '../admin/catalogue/commands.ts';
import type { ExplainResult } from '../admin/catalogue/flows.ts';
import type { ServiceConfig } from '../config/index.ts';
import { DsrError } from '../core/errors.ts';
import { maskBytes } from '../core/net/prefix.ts';
import { connTimeout, isExpired } from './conn-state.ts';
import type { Forwarder } from './forwarder.ts';
import {
  DSR,
  encodeFlow,
  encodePersistKey,
  type Flow,
  formatMapAddress,
  IPPROTO_TCP,
  IPPROTO_UDP,
  parseMapAddress,
} from './layout.ts';
import { SelectionModel } from './model.ts';

const TCP_ACK = 0x10;
const TCP_SYN = 0x02;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const seconds = (ns: bigint): number => Math.max(0, Math.round(Number(ns) / 1e9));

export function explainFlow(
  fwd: Forwarder,
  services: readonly ServiceConfig[],
  serviceNameOf: (forwarderName: string) => string | undefined,
  a: ParsedArgsOf<'explain'>,
  now: bigint,
): ExplainResult {
  const src = parseMapAddress(a.client);
  const dst = parseMapAddress(a.vip);
  if (src.family !== dst.family) {
    throw new DsrError('E_ADMIN_REQUEST', 'the client and the VIP must be of the same IP family', { ...a });
  }
  const flow: Flow = {
    src: src.bytes,
    dst: dst.bytes,
    sport: a.clientPort,
    dport: a.vipPort,
    proto: a.protocol === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP,
    family: src.family,
  };
  const steps: string[] = [];
  const cfg = fwd.store.getConfig();
  const realName = (id: number): string => fwd.reconciler.realById(id)?.address ?? `real ${id}`;
  const model = new SelectionModel(fwd.store);

  const conn = fwd.tables.getConn(flow);
  if (conn === null) {
    steps.push('connection table: no entry for this flow (it would be a new flow)');
  } else {
    model.conns.set(hex(encodeFlow(flow)), { ...conn });
    const left = connTimeout(cfg, conn.state) - (now - conn.lastSeenNs);
    steps.push(
      isExpired(now, conn.lastSeenNs, connTimeout(cfg, conn.state))
        ? `connection table: an expired entry to ${realName(conn.realId)} (ignored)`
        : `connection table: entry to ${realName(conn.realId)}, expires in ${seconds(left)} s unless traffic refreshes it`,
    );
  }

  const svcId =
    fwd.store.lookupServiceId({ vip: dst.bytes, port: a.vipPort, proto: flow.proto, family: dst.family }) ??
    fwd.store.lookupServiceId({ vip: dst.bytes, port: 0, proto: flow.proto, family: dst.family });
  const svc = svcId === null ? null : fwd.store.getService(svcId);
  const name = svcId === null ? undefined : serviceNameOf(fwd.reconciler.serviceById(svcId)?.name ?? '');
  if (svcId !== null && svc !== null && svc.flags & DSR.SVC_F_PERSIST) {
    const client = maskBytes(src.bytes, svc.mask);
    const key = { client, svcId, family: src.family };
    const pe = fwd.tables.getPersist(key);
    if (pe === null) {
      steps.push(`persistence: no entry for client ${formatMapAddress(src.family, client)}`);
    } else {
      model.persist.set(hex(encodePersistKey(key)), { ...pe });
      const left = svc.persistTimeoutNs - (now - pe.lastSeenNs);
      steps.push(
        `persistence: client ${formatMapAddress(src.family, client)} is pinned to ${realName(pe.realId)}` +
          (isExpired(now, pe.lastSeenNs, svc.persistTimeoutNs)
            ? ' (expired: ignored)'
            : ` for ${seconds(left)} more s`),
      );
    }
  }

  const verdict = model.step({ flow, tcpFlags: conn === null ? TCP_SYN : TCP_ACK }, now);
  if (verdict.action !== 'forward') {
    steps.push(
      verdict.reason === 'pass_not_service'
        ? `no service is ${a.vip}:${a.vipPort}/${a.protocol}: the packet goes to the director's own stack`
        : `the program would ${verdict.action} it (${verdict.reason})`,
    );
    return { service: name ?? null, realServer: null, via: 'none', steps };
  }
  const real = realName(verdict.realId);
  const sorry = services.find((s) => s.name === name)?.sorryServer === real;
  const via =
    verdict.via === 'conn'
      ? 'conn-table'
      : verdict.via === 'persist'
        ? 'persistence'
        : sorry
          ? 'sorry-server'
          : 'hash';
  if (verdict.via === 'maglev') {
    steps.push(
      `Maglev: the flow hash picks ${real}${sorry ? ' (the sorry server: the service is down)' : ''}`,
    );
  }
  return { service: name ?? null, realServer: real, via, steps };
}
