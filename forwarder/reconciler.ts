/**
 * Applies a desired forwarder state (services, real servers with MACs and
 * weights, director MAC, settings) to the maps as the fewest writes that get
 * there, and is idempotent: the same desired state twice writes nothing.
 *
 * Ids: a service or a real server (of one service) keeps its id for as long
 * as it exists, so connection and persistence entries that name it stay
 * valid. A freed id gets a new generation when reused; entries carrying the
 * old generation are then treated as stale by the program. The id maps are
 * rebuilt from the pinned maps on restart (Reconciler.restore).
 *
 * Write order keeps every packet consistent: a real server is written before
 * a table can name it and freed only after the table that named it is gone;
 * a service's table and entry are written before its (VIP, proto, port) key
 * makes it reachable, and the key is removed first.
 *
 * Real servers without a resolved MAC get no new flows (weight 0 in the
 * table). One that had a MAC keeps it for its existing flows (a neighbour
 * entry going stale should not cut connections); one that never had a MAC
 * cannot carry anything. Both are listed in the report.
 */
import { DsrError } from '../core/errors.ts';
import { canonicalIp } from '../core/net/ip.ts';
import { parseMac } from '../core/net/mac.ts';
import { prefixMask } from '../core/net/prefix.ts';
import type { DirectoryData } from './directory.ts';
import {
  DSR,
  encodeConfig,
  encodeReal,
  encodeSvc,
  formatMapAddress,
  IPPROTO_TCP,
  IPPROTO_UDP,
  type MapAddress,
  mapBytes,
  parseMapAddress,
  type RealEntry,
  type SvcEntry,
  type SvcKey,
} from './layout.ts';
import { isPrime, MAGLEV_DEFAULT_SIZE, MAGLEV_MAX_SIZE, MAGLEV_MAX_WEIGHT } from './maglev.ts';
import type { ForwarderMapStore } from './map-store.ts';
import { type ForwarderSettings, resolveSettings, toForwarderConfig } from './settings.ts';

export interface DesiredReal {
  address: string;
  /** 0 = drain: existing flows only */
  weight: number;
  /**
   * With weight 0 (drained): clients pinned to it by persistence still reach it (the service's
   * drain.keep_persistence). Otherwise a real server at weight 0 gets no persistence hits.
   */
  keepPinned?: boolean;
  /**
   * Its established flows (and persistence entries) leave it: they are chosen anew on their next
   * packet (the service's reschedule_on_down, for a real server that failed its checks).
   */
  moveFlows?: boolean;
  /** resolved MAC from the neighbour table; null = not resolved */
  mac: string | null;
  /** egress interface when not the one the VIP traffic arrives on */
  ifindex?: number;
  /** 802.1Q VID the frame leaves with, or 'untagged'; absent = as received */
  vlan?: number | 'untagged';
}

export interface DesiredService {
  vip: string;
  protocol: 'tcp' | 'udp';
  /** 0 = every port */
  port: number;
  persistence?: { timeoutSec: number; prefixLen?: number };
  /** prime; default 65537 */
  maglevSize?: number;
  reals: DesiredReal[];
}

export interface DesiredState {
  directorMac: string;
  /** director MAC per egress ifindex, for real servers behind another interface */
  egressMacs?: Record<number, string>;
  services: DesiredService[];
  settings?: Partial<ForwarderSettings>;
}

export type TableBuilder = (backends: Array<{ key: string; weight: number }>, size: number) => Int32Array;

export type RealState = 'active' | 'draining' | 'unresolved' | 'stale-mac';

export interface ReconcileReport {
  writes: number;
  servicesAdded: string[];
  servicesRemoved: string[];
  tablesSwapped: string[];
  /** real servers that get no new flows because their MAC is not resolved */
  unresolved: Array<{ service: string; address: string }>;
}

interface SvcSlot {
  id: number;
  key: SvcKey;
  name: string;
  entry: SvcEntry;
  tableSig: string | null;
}

interface RealSlot {
  id: number;
  svcId: number;
  address: string;
  entry: RealEntry;
  state: RealState;
}

interface NormReal {
  address: string;
  addr: MapAddress;
  weight: number;
  keepPinned: boolean;
  moveFlows: boolean;
  mac: Uint8Array | null;
  ifindex: number;
  vlan: number;
}

interface NormService {
  name: string;
  key: SvcKey;
  mask: Uint8Array;
  persistTimeoutNs: bigint;
  persistent: boolean;
  size: number;
  reals: NormReal[];
}

const ZERO6 = new Uint8Array(6);
const nextGen = (g: number): number => (g % 0xffff) + 1;

function invalid(message: string, context: Record<string, unknown> = {}): DsrError {
  return new DsrError('E_FORWARDER_STATE', message, context);
}

export function serviceName(key: SvcKey): string {
  const vip = formatMapAddress(key.family, key.vip);
  const proto = key.proto === IPPROTO_TCP ? 'tcp' : key.proto === IPPROTO_UDP ? 'udp' : `proto${key.proto}`;
  return key.family === 6 ? `${proto}/[${vip}]:${key.port}` : `${proto}/${vip}:${key.port}`;
}

function normalizeService(s: DesiredService): NormService {
  const vip = parseMapAddress(s.vip);
  if (s.protocol !== 'tcp' && s.protocol !== 'udp') throw invalid(`protocol ${s.protocol} is not tcp or udp`);
  if (!Number.isInteger(s.port) || s.port < 0 || s.port > 65535)
    throw invalid(`port ${s.port} is not 0..65535`);
  const key: SvcKey = {
    vip: vip.bytes,
    port: s.port,
    proto: s.protocol === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP,
    family: vip.family,
  };
  const name = serviceName(key);
  const size = s.maglevSize ?? MAGLEV_DEFAULT_SIZE;
  if (!isPrime(size) || size > MAGLEV_MAX_SIZE) {
    throw invalid(`${name}: Maglev size ${size} is not a prime <= ${MAGLEV_MAX_SIZE}`, {
      service: name,
      size,
    });
  }
  const p = s.persistence;
  if (p && (!Number.isFinite(p.timeoutSec) || p.timeoutSec <= 0)) {
    throw invalid(`${name}: persistence timeout must be > 0 seconds`, { service: name });
  }
  const mask = mapBytes(prefixMask(vip.family, p?.prefixLen ?? (vip.family === 4 ? 32 : 128)));
  const seen = new Set<string>();
  const reals = s.reals.map((r): NormReal => {
    const addr = parseMapAddress(r.address);
    const address = formatMapAddress(addr.family, addr.bytes);
    if (seen.has(address))
      throw invalid(`${name}: real server ${address} is listed twice`, { service: name });
    seen.add(address);
    if (!Number.isInteger(r.weight) || r.weight < 0 || r.weight > MAGLEV_MAX_WEIGHT) {
      throw invalid(`${name}: weight of ${address} must be an integer 0..${MAGLEV_MAX_WEIGHT}`, {
        service: name,
      });
    }
    const ifindex = r.ifindex ?? 0;
    if (!Number.isInteger(ifindex) || ifindex < 0) throw invalid(`${name}: ifindex of ${address} is invalid`);
    const vlan = r.vlan === undefined ? DSR.VLAN_KEEP : r.vlan === 'untagged' ? DSR.VLAN_UNTAGGED : r.vlan;
    if (
      vlan !== DSR.VLAN_KEEP &&
      vlan !== DSR.VLAN_UNTAGGED &&
      !(Number.isInteger(vlan) && vlan >= 1 && vlan <= 4094)
    ) {
      throw invalid(`${name}: VLAN of ${address} must be 1..4094 or 'untagged'`, { service: name, vlan });
    }
    const mac = r.mac === null ? null : parseMac(r.mac);
    const keepPinned = r.keepPinned === true;
    return {
      address,
      addr,
      weight: r.weight,
      keepPinned,
      moveFlows: r.moveFlows === true,
      mac,
      ifindex,
      vlan,
    };
  });
  const persistTimeoutNs = p ? BigInt(Math.round(p.timeoutSec * 1e9)) : 0n;
  return { name, key, mask, persistTimeoutNs, persistent: p !== undefined, size, reals };
}

export class Reconciler {
  private readonly store: ForwarderMapStore;
  private readonly buildTable: TableBuilder;
  private readonly services = new Map<string, SvcSlot>();
  private readonly reals = new Map<string, RealSlot>();
  private readonly svcGens = new Uint16Array(DSR.MAX_SERVICES);
  private readonly realGens = new Uint16Array(DSR.MAX_REALS);
  private writes = 0;

  private constructor(store: ForwarderMapStore, buildTable: TableBuilder) {
    this.store = store;
    this.buildTable = buildTable;
  }

  /** Rebuilds the id maps from what the maps hold (empty maps: a fresh start). */
  static restore(store: ForwarderMapStore, buildTable: TableBuilder): Reconciler {
    const r = new Reconciler(store, buildTable);
    const entries = new Map(store.listServices().map((e) => [e.id, e.svc]));
    for (const [id, svc] of entries) r.svcGens[id] = svc.gen;
    for (const { key, id } of store.listServiceIds()) {
      const entry = entries.get(id);
      if (!entry || !(entry.flags & DSR.SVC_F_ACTIVE)) continue;
      const name = serviceName(key);
      r.services.set(name, { id, key, name, entry, tableSig: null });
    }
    const liveSvcIds = new Set([...r.services.values()].map((s) => s.id));
    for (const { id, real } of store.listReals()) {
      r.realGens[id] = real.gen;
      if (real.family === 0 || !liveSvcIds.has(real.svcId)) continue;
      const address = formatMapAddress(real.family, real.addr);
      // Weight 0 without the drain flag is a drain that keeps its pinned clients.
      const state: RealState = !(real.flags & DSR.REAL_F_VALID)
        ? 'unresolved'
        : real.flags & DSR.REAL_F_DRAIN || real.weight === 0
          ? 'draining'
          : 'active';
      r.reals.set(`${real.svcId}|${address}`, { id, svcId: real.svcId, address, entry: real, state });
    }
    return r;
  }

  reconcile(desired: DesiredState): ReconcileReport {
    // Validate everything before the first write: bad input changes nothing.
    const directorMac = parseMac(desired.directorMac);
    const egress = new Map<number, Uint8Array>();
    for (const [ifindex, mac] of Object.entries(desired.egressMacs ?? {}))
      egress.set(Number(ifindex), parseMac(mac));
    const config = { ...toForwarderConfig(resolveSettings(desired.settings)), localMac: directorMac };
    const wanted = desired.services.map(normalizeService).sort((a, b) => (a.name < b.name ? -1 : 1));
    const names = new Set<string>();
    for (const s of wanted) {
      if (names.has(s.name)) throw invalid(`service ${s.name} is listed twice`, { service: s.name });
      names.add(s.name);
    }
    this.checkCapacity(wanted);

    const report: ReconcileReport = {
      writes: 0,
      servicesAdded: [],
      servicesRemoved: [],
      tablesSwapped: [],
      unresolved: [],
    };
    const before = this.writes;

    if (Buffer.compare(encodeConfig(this.store.getConfig()), encodeConfig(config)) !== 0) {
      this.store.putConfig(config);
      this.writes++;
    }

    const devices = new Set(wanted.flatMap((s) => s.reals.map((r) => r.ifindex)).filter((i) => i !== 0));
    const haveDevices = new Set(this.store.listTxDevices());
    for (const ifindex of devices) {
      if (haveDevices.has(ifindex)) continue;
      this.store.putTxDevice(ifindex);
      this.writes++;
    }

    for (const s of wanted) this.applyService(s, directorMac, egress, report);
    for (const [name, slot] of [...this.services]) if (!names.has(name)) this.removeService(slot, report);

    for (const ifindex of haveDevices) {
      if (devices.has(ifindex)) continue;
      this.store.deleteTxDevice(ifindex);
      this.writes++;
    }
    report.writes = this.writes - before;
    return report;
  }

  /** Ids that a sync peer or the metrics need, by service id. */
  serviceById(id: number): { name: string; key: SvcKey; gen: number } | null {
    for (const s of this.services.values())
      if (s.id === id) return { name: s.name, key: s.key, gen: s.entry.gen };
    return null;
  }

  /** The real server behind a real id (events and counters carry ids). */
  realById(
    id: number,
  ): { service: string; svcId: number; address: string; gen: number; state: RealState } | null {
    for (const r of this.reals.values()) {
      if (r.id !== id) continue;
      const svc = this.serviceById(r.svcId);
      return svc
        ? { service: svc.name, svcId: r.svcId, address: r.address, gen: r.entry.gen, state: r.state }
        : null;
    }
    return null;
  }

  /** Ids of a real server of a service, e.g. to insert a synced connection. */
  findReal(
    service: string,
    address: string,
  ): { svcId: number; svcGen: number; realId: number; realGen: number } | null {
    const svc = this.services.get(service);
    if (!svc) return null;
    const real = this.reals.get(`${svc.id}|${canonicalIp(address)}`);
    return real ? { svcId: svc.id, svcGen: svc.entry.gen, realId: real.id, realGen: real.entry.gen } : null;
  }

  /** What every id names, and the timeouts in force (forwarder/directory.ts). */
  directory(): DirectoryData {
    return {
      config: this.store.getConfig(),
      services: [...this.services.values()].map((s) => ({
        id: s.id,
        gen: s.entry.gen,
        key: s.key,
        flags: s.entry.flags,
        mask: s.entry.mask,
        persistTimeoutNs: s.entry.persistTimeoutNs,
      })),
      reals: [...this.reals.values()]
        .filter((r) => r.entry.family !== 0)
        .map((r) => ({
          id: r.id,
          gen: r.entry.gen,
          svcId: r.svcId,
          family: r.entry.family as 4 | 6,
          addr: r.entry.addr,
        })),
    };
  }

  /** Every service and real server with its id and state (for status and metrics). */
  status(): Array<{
    service: string;
    id: number;
    reals: Array<{ address: string; id: number; weight: number; state: RealState }>;
  }> {
    return [...this.services.values()]
      .sort((a, b) => a.id - b.id)
      .map((s) => ({
        service: s.name,
        id: s.id,
        reals: [...this.reals.values()]
          .filter((r) => r.svcId === s.id)
          .sort((a, b) => a.id - b.id)
          .map((r) => ({ address: r.address, id: r.id, weight: r.entry.weight, state: r.state })),
      }));
  }

  private checkCapacity(wanted: NormService[]): void {
    let newServices = 0;
    let newReals = 0;
    for (const s of wanted) {
      const slot = this.services.get(s.name);
      if (!slot) newServices++;
      for (const r of s.reals) if (!slot || !this.reals.has(`${slot.id}|${r.address}`)) newReals++;
    }
    const freeServices = DSR.MAX_SERVICES - this.services.size;
    const freeReals = DSR.MAX_REALS - this.reals.size;
    if (newServices > freeServices || newReals > freeReals) {
      // Removals free ids too, but only after the additions; keep the rule simple and strict.
      throw invalid(
        `the desired state needs ${newServices} new services and ${newReals} new real servers; ` +
          `${freeServices} and ${freeReals} ids are free (at most ${DSR.MAX_SERVICES} services, ${DSR.MAX_REALS} real servers)`,
        { newServices, newReals, freeServices, freeReals },
      );
    }
  }

  private freeId(used: Iterable<{ id: number }>, max: number): number {
    const taken = new Set<number>();
    for (const u of used) taken.add(u.id);
    for (let id = 0; id < max; id++) if (!taken.has(id)) return id;
    throw invalid(`no free id below ${max}`);
  }

  private applyService(
    s: NormService,
    directorMac: Uint8Array,
    egress: Map<number, Uint8Array>,
    report: ReconcileReport,
  ): void {
    let slot = this.services.get(s.name);
    const isNew = slot === undefined;
    if (!slot) {
      const id = this.freeId(this.services.values(), DSR.MAX_SERVICES);
      this.svcGens[id] = nextGen(this.svcGens[id]);
      const entry: SvcEntry = {
        mask: s.mask,
        persistTimeoutNs: 0n,
        maglevSize: 0,
        gen: this.svcGens[id],
        flags: 0,
      };
      slot = { id, key: s.key, name: s.name, entry, tableSig: null };
      this.services.set(s.name, slot);
      report.servicesAdded.push(s.name);
    }
    const svcId = slot.id;

    // 1. real servers (written before any table names them)
    const backends: Array<{ key: string; weight: number; id: number }> = [];
    const keep = new Set<string>();
    for (const r of s.reals) {
      const k = `${svcId}|${r.address}`;
      keep.add(k);
      let rs = this.reals.get(k);
      if (!rs) {
        const id = this.freeId(this.reals.values(), DSR.MAX_REALS);
        this.realGens[id] = nextGen(this.realGens[id]);
        rs = { id, svcId, address: r.address, entry: emptyReal(this.realGens[id]), state: 'unresolved' };
        this.reals.set(k, rs);
      }
      const hadMac = (rs.entry.flags & DSR.REAL_F_VALID) !== 0;
      const mac = r.mac ?? (hadMac ? rs.entry.mac : null);
      const state: RealState =
        r.mac === null ? (mac ? 'stale-mac' : 'unresolved') : r.weight === 0 ? 'draining' : 'active';
      let flags = 0;
      const pinnedOnly = state === 'draining' && r.keepPinned;
      // Moving its flows: not valid, so connection-table and persistence hits on it are chosen anew
      // (the MAC is kept in the entry for when it comes back).
      if (mac && !(r.moveFlows && state === 'draining'))
        flags = DSR.REAL_F_VALID | (state === 'active' || pinnedOnly ? 0 : DSR.REAL_F_DRAIN);
      const entry: RealEntry = {
        mac: mac ?? ZERO6,
        srcMac: egress.get(r.ifindex) ?? directorMac,
        ifindex: r.ifindex,
        gen: rs.entry.gen,
        vlan: r.vlan,
        flags,
        family: r.addr.family,
        svcId,
        weight: r.weight,
        addr: r.addr.bytes,
      };
      this.writeReal(rs, entry);
      rs.state = state;
      if (r.mac === null) report.unresolved.push({ service: s.name, address: r.address });
      backends.push({ key: r.address, weight: state === 'active' ? r.weight : 0, id: rs.id });
    }

    // 2. the Maglev table, swapped whole
    backends.sort((a, b) => (a.key < b.key ? -1 : 1));
    const sig = `${s.size}|${backends.map((b) => `${b.key}=${b.weight}@${b.id}`).join(',')}`;
    if (sig !== slot.tableSig) {
      if (backends.some((b) => b.weight > 0)) {
        const idx = this.buildTable(
          backends.map((b) => ({ key: b.key, weight: b.weight })),
          s.size,
        );
        const table = new Uint32Array(idx.length);
        for (let i = 0; i < idx.length; i++) table[i] = idx[i] < 0 ? DSR.NO_REAL : backends[idx[i]].id;
        this.store.swapMaglevTable(svcId, table);
      } else {
        this.store.clearMaglevTable(svcId);
      }
      this.writes++;
      slot.tableSig = sig;
      report.tablesSwapped.push(s.name);
    }

    // 3. the service entry, then its key (which makes it reachable)
    const entry: SvcEntry = {
      mask: s.mask,
      persistTimeoutNs: s.persistTimeoutNs,
      maglevSize: s.size,
      gen: slot.entry.gen,
      flags: DSR.SVC_F_ACTIVE | (s.persistent ? DSR.SVC_F_PERSIST : 0),
    };
    if (isNew || Buffer.compare(encodeSvc(entry), encodeSvc(slot.entry)) !== 0) {
      this.store.putService(svcId, entry);
      this.writes++;
      slot.entry = entry;
    }
    if (isNew) {
      this.store.putServiceId(s.key, svcId);
      this.writes++;
    }

    // 4. real servers no longer in the service (no table names them any more)
    for (const [k, rs] of [...this.reals]) {
      if (rs.svcId !== svcId || keep.has(k)) continue;
      this.freeReal(k, rs);
    }
  }

  private removeService(slot: SvcSlot, report: ReconcileReport): void {
    this.store.deleteServiceId(slot.key);
    const entry: SvcEntry = {
      mask: new Uint8Array(16),
      persistTimeoutNs: 0n,
      maglevSize: 0,
      gen: slot.entry.gen,
      flags: 0,
    };
    this.store.putService(slot.id, entry);
    this.store.clearMaglevTable(slot.id);
    this.writes += 3;
    for (const [k, rs] of [...this.reals]) if (rs.svcId === slot.id) this.freeReal(k, rs);
    this.services.delete(slot.name);
    report.servicesRemoved.push(slot.name);
  }

  private writeReal(rs: RealSlot, entry: RealEntry): void {
    if (rs.entry.family !== 0 && Buffer.compare(encodeReal(entry), encodeReal(rs.entry)) === 0) return;
    this.store.putReal(rs.id, entry);
    this.writes++;
    rs.entry = entry;
  }

  private freeReal(k: string, rs: RealSlot): void {
    this.store.putReal(rs.id, emptyReal(rs.entry.gen));
    this.writes++;
    this.reals.delete(k);
  }
}

function emptyReal(gen: number): RealEntry {
  return {
    mac: ZERO6,
    srcMac: ZERO6,
    ifindex: 0,
    gen,
    vlan: 0,
    flags: 0,
    family: 0,
    svcId: 0,
    weight: 0,
    addr: new Uint8Array(16),
  };
}
