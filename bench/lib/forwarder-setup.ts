/**
 * Puts benchmark services into a loaded forwarder: one service (VIP, proto,
 * port) with its real servers and weighted Maglev table, written through the
 * forwarder's own map store (forwarder/bpf-map-store.ts) and table builder
 * (forwarder/maglev.ts), so the benchmark runs the program as the daemon
 * configures it.
 */
import { parseIp, parseMac, prefixMask } from '../../forwarder/addr.ts';
import { BpfMapStore } from '../../forwarder/bpf-map-store.ts';
import { DSR } from '../../forwarder/layout.ts';
import type { LoadedForwarder } from '../../forwarder/loader.ts';
import { buildMaglevTable, MAGLEV_DEFAULT_SIZE } from '../../forwarder/maglev.ts';

export interface BenchService {
  svcId: number;
  vip: string;
  proto: 'tcp' | 'udp';
  port: number;
  /** Persistence timeout in seconds (client /32 or /128); absent = no persistence. */
  persistSec?: number;
  /** The director's MAC (source MAC of forwarded frames). */
  directorMac: string;
  /** Real servers of this service; real ids are firstRealId, firstRealId + 1, ... */
  reals: readonly { addr: string; mac: string }[];
  firstRealId: number;
}

/** Both sides agree on gen 1: entries made by the program name (id, gen) of what they point to. */
const GEN = 1;

export function storeOf(fwd: LoadedForwarder): BpfMapStore {
  return new BpfMapStore(fwd.maps);
}

export function addBenchService(store: BpfMapStore, svc: BenchService): void {
  const vip = parseIp(svc.vip);
  const realIds = svc.reals.map((_, i) => svc.firstRealId + i);
  svc.reals.forEach((r, i) => {
    const addr = parseIp(r.addr);
    store.putReal(realIds[i], {
      mac: parseMac(r.mac),
      srcMac: parseMac(svc.directorMac),
      ifindex: 0, // XDP_TX out of the arrival interface
      gen: GEN,
      vlan: DSR.VLAN_KEEP,
      flags: DSR.REAL_F_VALID,
      family: addr.family,
      svcId: svc.svcId,
      weight: 1,
      addr: addr.bytes,
    });
  });
  const table = buildMaglevTable(
    svc.reals.map((r) => ({ key: r.addr, weight: 1 })),
    MAGLEV_DEFAULT_SIZE,
  );
  store.swapMaglevTable(
    svc.svcId,
    Uint32Array.from(table, (i) => (i < 0 ? DSR.NO_REAL : realIds[i])),
  );
  const persist = svc.persistSec !== undefined;
  store.putService(svc.svcId, {
    mask: prefixMask(vip.family, persist ? (vip.family === 4 ? 32 : 128) : 0),
    persistTimeoutNs: persist ? BigInt(Math.round(svc.persistSec! * 1e9)) : 0n,
    maglevSize: MAGLEV_DEFAULT_SIZE,
    gen: GEN,
    flags: DSR.SVC_F_ACTIVE | (persist ? DSR.SVC_F_PERSIST : 0),
  });
  store.putServiceId(
    { vip: vip.bytes, port: svc.port, proto: svc.proto === 'tcp' ? 6 : 17, family: vip.family },
    svc.svcId,
  );
}
