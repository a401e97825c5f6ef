/**
 * The forwarder's tables as the sync sees them (sync/): the
 * SyncTable over the BPF connection and persistence maps, and the turning of
 * the program's events into SyncEntries for the sender.
 *
 * Sync entries name real servers by address and carry remaining lifetimes
 * (sync/entries.ts); the maps hold real ids and last-seen stamps.
 * Both conversions go through the reconciler (address <-> id, generation) and
 * the timeouts in force here, so a received entry expires on this director
 * when it would have on the sender. The wire format wants one address family
 * per entry: an IPv4 real server of an IPv6 service travels v4-mapped
 * (::ffff:a.b.c.d, RFC 4291 section 2.5.5.2).
 */
import { formatIp, parseIp } from '../core/net/ip.ts';
import { maskBytes } from '../core/net/prefix.ts';
import { connTimeout, isExpired } from '../forwarder/conn-state.ts';
import {
  type ConnEntry,
  DSR,
  type Flow,
  type ForwarderConfig,
  type ForwarderEvent,
  mapBytes,
  type SvcKey,
} from '../forwarder/layout.ts';
import type { ForwarderView } from '../forwarder/map-store.ts';
import type { Reconciler } from '../forwarder/reconciler.ts';
import type { FlowTables } from '../forwarder/tables.ts';
import type { SyncEntry } from './entries.ts';
import type { SyncTable } from './table.ts';

const MS = 1_000_000n;

export interface SyncTableDeps {
  tables: FlowTables;
  reconciler: Reconciler;
  view: ForwarderView;
  /** CLOCK_MONOTONIC ns (the program's clock) */
  now?: () => bigint;
}

/** Address bytes of the wire family (4 or 16) for a real server address. */
function wireAddr(address: string, family: 4 | 6): Uint8Array {
  const a = parseIp(address);
  if (family === 4) return new Uint8Array(a.bytes.subarray(0, 4));
  if (a.family === 6) return new Uint8Array(a.bytes);
  const mapped = new Uint8Array(16);
  mapped[10] = 0xff;
  mapped[11] = 0xff;
  mapped.set(a.bytes, 12);
  return mapped;
}

/** The real server address named by wire bytes (v4-mapped IPv6 back to IPv4). */
function realAddress(bytes: Uint8Array): string {
  const mapped =
    bytes.length === 16 &&
    bytes.subarray(0, 10).every((b) => b === 0) &&
    bytes[10] === 0xff &&
    bytes[11] === 0xff;
  return formatIp(mapped ? bytes.subarray(12, 16) : bytes);
}

const wire = (a: Uint8Array, family: 4 | 6): Uint8Array => a.slice(0, family === 4 ? 4 : 16);

function remainingMs(now: bigint, lastSeen: bigint, timeout: bigint): number {
  const left = timeout - (now - lastSeen);
  if (left <= 0n) return 0;
  const ms = left / MS;
  return ms > 0xffffffffn ? 0xffffffff : Number(ms);
}

/** last-seen stamp that leaves `lifetimeMs` of `timeout` (never in the future). */
function lastSeenFor(now: bigint, lifetimeMs: number, timeout: bigint): bigint {
  const used = timeout - BigInt(lifetimeMs) * MS;
  return used > 0n ? now - used : now;
}

export class BpfSyncTable implements SyncTable {
  private readonly d: Required<SyncTableDeps>;
  /** Entries that named a service or real server this director does not have (config drift). */
  unknown = 0;

  constructor(deps: SyncTableDeps) {
    this.d = { now: () => process.hrtime.bigint(), ...deps };
  }

  private service(
    vip: Uint8Array,
    vport: number,
    proto: number,
  ): { id: number; name: string; key: SvcKey } | null {
    const family = vip.length === 4 ? 4 : 6;
    const key: SvcKey = { vip: mapBytes(vip), port: vport, proto, family };
    const id = this.d.view.lookupServiceId(key) ?? this.d.view.lookupServiceId({ ...key, port: 0 });
    const svc = id === null ? null : this.d.reconciler.serviceById(id);
    return svc && id !== null ? { id, name: svc.name, key: svc.key } : null;
  }

  /**
   * Many entries at once: services and the config are looked up once per batch and connection
   * entries are written with one batched syscall per family. Per-entry upserts cost three
   * syscalls each and top out near 60k entries/s here; the sync must keep up with 100k new
   * flows/s (issue 6).
   */
  upsertMany(entries: readonly SyncEntry[]): void {
    const cfg = this.d.view.getConfig();
    const now = this.d.now();
    const services = new Map<string, ReturnType<BpfSyncTable['service']>>();
    const reals = new Map<string, ReturnType<Reconciler['findReal']>>();
    const conns: [Flow, ConnEntry][] = [];
    for (const e of entries) {
      if (e.kind !== 'conn') {
        this.upsert(e);
        continue;
      }
      const sk = `${e.proto}/${e.vport}/${e.vip.join('.')}`;
      let svc = services.get(sk);
      if (svc === undefined) {
        svc = this.service(e.vip, e.vport, e.proto);
        services.set(sk, svc);
      }
      // Real servers repeat across a batch: resolve each (service, address) once.
      const rk = svc && e.realServer ? `${sk}/${e.realServer.join('.')}` : '';
      let ids = reals.get(rk);
      if (ids === undefined) {
        ids = svc && e.realServer ? this.d.reconciler.findReal(svc.name, realAddress(e.realServer)) : null;
        reals.set(rk, ids);
      }
      if (!svc || !ids) {
        this.unknown++;
        continue;
      }
      const state = validState(e.tcpState, e.proto);
      conns.push([
        flowOf(e),
        {
          lastSeenNs: lastSeenFor(now, e.lifetimeMs, connTimeout(cfg, state)),
          reportedNs: now,
          realId: ids.realId,
          realGen: ids.realGen,
          svcId: ids.svcId,
          svcGen: ids.svcGen,
          state,
        },
      ]);
    }
    // Buffers sized to the batch: putConns allocates `batch` slots per family.
    if (conns.length) this.d.tables.putConns(conns, Math.min(conns.length, 65536));
  }

  upsert(e: SyncEntry): void {
    if (e.kind === 'conn-delete') {
      this.remove(e);
      return;
    }
    if (e.kind === 'conn') {
      this.upsertMany([e]);
      return;
    }
    const svc = this.service(e.vip, e.vport, e.proto);
    const ids = svc && e.realServer ? this.d.reconciler.findReal(svc.name, realAddress(e.realServer)) : null;
    if (!svc || !ids) {
      this.unknown++;
      return;
    }
    const now = this.d.now();
    const family = e.client.length === 4 ? 4 : 6;
    const entry = this.d.view.getService(ids.svcId);
    if (!entry || !(entry.flags & DSR.SVC_F_PERSIST)) {
      this.unknown++;
      return;
    }
    this.d.tables.putPersist(
      { client: maskBytes(mapBytes(e.client), entry.mask), svcId: ids.svcId, family },
      {
        lastSeenNs: lastSeenFor(now, e.lifetimeMs, entry.persistTimeoutNs),
        realId: ids.realId,
        realGen: ids.realGen,
        svcGen: ids.svcGen,
      },
    );
  }

  remove(e: SyncEntry): void {
    if (e.kind !== 'persist') {
      this.d.tables.deleteConn(flowOf(e));
      return;
    }
    const svc = this.service(e.vip, e.vport, e.proto);
    const entry = svc ? this.d.view.getService(svc.id) : null;
    if (!svc || !entry) return;
    const family = e.client.length === 4 ? 4 : 6;
    this.d.tables.deletePersist({ client: maskBytes(mapBytes(e.client), entry.mask), svcId: svc.id, family });
  }

  *entries(): Iterable<SyncEntry> {
    const cfg = this.d.view.getConfig();
    const now = this.d.now();
    const out: SyncEntry[] = [];
    this.d.tables.forEachConn((flow, c) => {
      const timeout = connTimeout(cfg, c.state);
      const real = this.d.reconciler.realById(c.realId);
      if (!real || real.gen !== c.realGen || isExpired(now, c.lastSeenNs, timeout)) return;
      out.push({
        kind: 'conn',
        proto: flow.proto,
        client: wire(flow.src, flow.family),
        clientPort: flow.sport,
        vip: wire(flow.dst, flow.family),
        vport: flow.dport,
        realServer: wireAddr(real.address, flow.family),
        tcpState: c.state,
        lifetimeMs: remainingMs(now, c.lastSeenNs, timeout),
      });
    });
    this.d.tables.forEachPersist((key, p) => {
      const svc = this.d.reconciler.serviceById(key.svcId);
      const entry = svc ? this.d.view.getService(key.svcId) : null;
      const real = this.d.reconciler.realById(p.realId);
      if (!svc || !entry || !real || real.gen !== p.realGen || svc.gen !== p.svcGen) return;
      if (isExpired(now, p.lastSeenNs, entry.persistTimeoutNs)) return;
      out.push({
        kind: 'persist',
        proto: svc.key.proto,
        client: wire(key.client, key.family),
        clientPort: 0,
        vip: wire(svc.key.vip, key.family),
        vport: svc.key.port,
        realServer: wireAddr(real.address, key.family),
        tcpState: 0,
        lifetimeMs: remainingMs(now, p.lastSeenNs, entry.persistTimeoutNs),
      });
    });
    yield* out;
  }
}

function validState(state: number, proto: number): number {
  if (state >= DSR.CONN_TCP_SYN && state <= DSR.CONN_UDP) return state;
  return proto === 6 ? DSR.CONN_TCP_EST : DSR.CONN_UDP;
}

/** The flow of an entry; IPv4 keys read only the first 4 bytes, so no padded copies are made. */
function flowOf(e: SyncEntry): Flow {
  const family = e.client.length === 4 ? 4 : 6;
  return {
    src: e.client,
    dst: e.vip,
    sport: e.clientPort,
    dport: e.vport,
    proto: e.proto,
    family,
  };
}

/**
 * The sync entry for one of the program's events (null when its real server
 * or service is no longer known here, e.g. just removed).
 */
export function eventToSyncEntry(
  ev: ForwarderEvent,
  deps: { reconciler: Reconciler; view: ForwarderView },
  cfg: ForwarderConfig = deps.view.getConfig(),
): SyncEntry | null {
  const real = deps.reconciler.realById(ev.realId);
  if (!real) return null;
  const f = ev.flow;
  const family = f.family;
  if (ev.type === DSR.EV_NEW_PERSIST) {
    const svc = deps.reconciler.serviceById(ev.svcId);
    const entry = svc ? deps.view.getService(ev.svcId) : null;
    if (!svc || !entry) return null;
    return {
      kind: 'persist',
      proto: f.proto,
      client: wire(f.src, family),
      clientPort: 0,
      vip: wire(f.dst, family),
      vport: svc.key.port,
      realServer: wireAddr(real.address, family),
      tcpState: 0,
      lifetimeMs: remainingMs(0n, 0n, entry.persistTimeoutNs),
    };
  }
  return {
    kind: 'conn',
    proto: f.proto,
    client: wire(f.src, family),
    clientPort: f.sport,
    vip: wire(f.dst, family),
    vport: f.dport,
    realServer: wireAddr(real.address, family),
    tcpState: ev.state,
    lifetimeMs: remainingMs(0n, 0n, connTimeout(cfg, ev.state)),
  };
}
