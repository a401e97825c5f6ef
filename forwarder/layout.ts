/**
 * TypeScript mirror of forwarder/bpf/dsr_shared.h: constants, struct layouts
 * and their encoders/decoders. The C header is the definition; the layout
 * test compares LAYOUT with the BTF clang emits and the constants with the
 * header's #defines.
 *
 * Byte order: addresses and ports are network order in the structs (as on
 * the wire); every other integer is host order, and the hosts we run on
 * (x86-64, arm64) are little-endian.
 */
import { endianness } from 'node:os';
import { DsrError } from '../core/errors.ts';
import { formatIp, type IpFamily, parseIp } from '../core/net/ip.ts';

if (endianness() !== 'LE') {
  throw new DsrError('E_BPF_MAP', 'the forwarder map layouts assume a little-endian host', {
    endianness: endianness(),
  });
}

export const DSR = {
  AF_INET: 4,
  AF_INET6: 6,
  MAX_SERVICES: 1024,
  MAX_REALS: 16384,
  MAGLEV_DEFAULT_SIZE: 65537,
  CONN_DEFAULT_ENTRIES: 1 << 20,
  PERSIST_DEFAULT_ENTRIES: 1 << 18,
  FRAG_DEFAULT_ENTRIES: 1 << 14,
  EVENTS_DEFAULT_BYTES: 1 << 22,
  NO_REAL: 0xffffffff,
  SVC_F_ACTIVE: 0x01,
  SVC_F_PERSIST: 0x02,
  REAL_F_VALID: 0x01,
  REAL_F_DRAIN: 0x02,
  VLAN_KEEP: 0,
  VLAN_UNTAGGED: 0xffff,
  CONN_TCP_SYN: 1,
  CONN_TCP_EST: 2,
  CONN_TCP_CLOSING: 3,
  CONN_UDP: 4,
  EV_NEW_CONN: 1,
  EV_CONN_UPDATE: 2,
  EV_NEW_PERSIST: 3,
  CFG_F_SYN_ONLY: 0x01,
} as const;

/** Counter rows of the reason_stats map, by name (DSR_R_* in the header). */
export const REASONS = {
  pass_not_ip: 0,
  pass_not_service: 1,
  pass_malformed: 2,
  pass_fragment: 3,
  pass_icmp: 4,
  drop_no_real: 5,
  drop_tx_device: 6,
  drop_adjust: 7,
  tx_new_flow: 8,
  tx_persist_hit: 9,
  tx_icmp: 10,
  tx_fragment: 11,
  tx_redirect: 12,
  conn_reselect: 13,
  event_lost: 14,
  pass_other_mac: 15,
  tx_stateless: 16,
  drop_lease: 17,
} as const;
export type Reason = keyof typeof REASONS;
export const REASON_COUNT = 18;

export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

/** Byte offset of every field, and the struct size, as in dsr_shared.h. */
export const LAYOUT = {
  dsr_vip_key: { size: 20, fields: { addr: 0, family: 16, pad: 17 } },
  dsr_svc_key: { size: 20, fields: { vip: 0, port: 16, proto: 18, family: 19 } },
  dsr_svc: {
    size: 32,
    fields: { mask: 0, persist_timeout_ns: 16, maglev_size: 24, gen: 28, flags: 30, pad: 31 },
  },
  dsr_real: {
    size: 44,
    fields: {
      mac: 0,
      src_mac: 6,
      ifindex: 12,
      gen: 16,
      vlan: 18,
      flags: 20,
      family: 21,
      svc_id: 22,
      weight: 24,
      addr: 28,
    },
  },
  dsr_flow: { size: 40, fields: { src: 0, dst: 16, sport: 32, dport: 34, proto: 36, family: 37, pad: 38 } },
  dsr_flow4: { size: 16, fields: { src: 0, dst: 4, sport: 8, dport: 10, proto: 12, pad: 13 } },
  dsr_conn: {
    size: 32,
    fields: {
      last_seen_ns: 0,
      reported_ns: 8,
      real_id: 16,
      real_gen: 18,
      svc_id: 20,
      svc_gen: 22,
      state: 24,
      pad: 25,
      sync_epoch: 26,
      pad2: 28,
    },
  },
  dsr_persist_key: { size: 20, fields: { client: 0, svc_id: 16, family: 18, pad: 19 } },
  dsr_persist: {
    size: 16,
    fields: { last_seen_ns: 0, real_id: 8, real_gen: 10, svc_gen: 12, sync_epoch: 14 },
  },
  dsr_frag_key: { size: 40, fields: { src: 0, dst: 16, id: 32, proto: 36, family: 37, pad: 38 } },
  dsr_frag: { size: 16, fields: { last_seen_ns: 0, real_id: 8, real_gen: 10, svc_id: 12, svc_gen: 14 } },
  dsr_config: {
    size: 64,
    fields: {
      tcp_syn_timeout_ns: 0,
      tcp_est_timeout_ns: 8,
      tcp_fin_timeout_ns: 16,
      udp_timeout_ns: 24,
      frag_timeout_ns: 32,
      touch_ns: 40,
      hash_seed: 48,
      flags: 52,
      local_mac: 56,
      pad: 62,
    },
  },
  dsr_traffic: { size: 24, fields: { packets: 0, bytes: 8, flows: 16 } },
  dsr_event: {
    size: 56,
    fields: { ts_ns: 0, flow: 8, real_id: 48, svc_id: 50, type: 52, state: 53, pad: 54 },
  },
} as const;

export interface SvcKey {
  vip: Uint8Array;
  /** host order; 0 = every port */
  port: number;
  proto: number;
  family: IpFamily;
}

export interface SvcEntry {
  mask: Uint8Array;
  persistTimeoutNs: bigint;
  maglevSize: number;
  gen: number;
  flags: number;
}

export interface RealEntry {
  mac: Uint8Array;
  srcMac: Uint8Array;
  ifindex: number;
  gen: number;
  vlan: number;
  flags: number;
  /** 0 in a slot never used */
  family: IpFamily | 0;
  svcId: number;
  weight: number;
  addr: Uint8Array;
}

export interface Flow {
  src: Uint8Array;
  dst: Uint8Array;
  sport: number;
  dport: number;
  proto: number;
  family: IpFamily;
}

export interface ConnEntry {
  lastSeenNs: bigint;
  reportedNs: bigint;
  realId: number;
  realGen: number;
  svcId: number;
  svcGen: number;
  state: number;
  /** 0 when this director's program made it; else the sync bulk epoch that wrote it. */
  syncEpoch: number;
}

export interface PersistKey {
  client: Uint8Array;
  svcId: number;
  family: IpFamily;
}

export interface PersistEntry {
  lastSeenNs: bigint;
  realId: number;
  realGen: number;
  svcGen: number;
  /** As ConnEntry.syncEpoch. */
  syncEpoch: number;
}

export interface FragKey {
  src: Uint8Array;
  dst: Uint8Array;
  /** IP identification as on the wire (16 bits for IPv4, 32 for IPv6) */
  id: number;
  proto: number;
  family: IpFamily;
}

export interface FragEntry {
  lastSeenNs: bigint;
  realId: number;
  realGen: number;
  svcId: number;
  svcGen: number;
}

export interface ForwarderConfig {
  tcpSynTimeoutNs: bigint;
  tcpEstTimeoutNs: bigint;
  tcpFinTimeoutNs: bigint;
  udpTimeoutNs: bigint;
  fragTimeoutNs: bigint;
  touchNs: bigint;
  hashSeed: number;
  /** DSR.CFG_F_* */
  flags: number;
  /** This director's MAC on the interface: frames for other MACs are passed. All zeros: no check. */
  localMac: Uint8Array;
}

export interface Traffic {
  packets: bigint;
  bytes: bigint;
  /** Connection entries made (new flows); 0 for the reason counters. */
  flows: bigint;
}

export interface ForwarderEvent {
  tsNs: bigint;
  flow: Flow;
  realId: number;
  svcId: number;
  type: number;
  state: number;
}

/**
 * An address as the structs hold it, whatever its family: 16 bytes, network order, IPv4 in bytes
 * 0..3 and the rest zero. Parsing and text are core/net's.
 */
export interface MapAddress {
  family: IpFamily;
  bytes: Uint8Array;
}

/** 4 or 16 bytes (an address or a netmask) widened to the structs' 16. */
export function mapBytes(b: Uint8Array): Uint8Array {
  const out = new Uint8Array(16);
  out.set(b.subarray(0, 16));
  return out;
}

/** Throws E_ADDRESS_INVALID. */
export function parseMapAddress(text: string): MapAddress {
  const ip = parseIp(text);
  return { family: ip.family, bytes: mapBytes(ip.bytes) };
}

/** Canonical text of a struct address: its first 4 bytes for IPv4, all 16 for IPv6. */
export function formatMapAddress(family: IpFamily, bytes: Uint8Array): string {
  return formatIp(bytes.subarray(0, family === 4 ? 4 : 16));
}

const S = LAYOUT;
const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);
const bytes16 = (b: Uint8Array, off: number): Uint8Array => b.slice(off, off + 16);

function need(b: Uint8Array, size: number, what: string): void {
  if (b.byteLength < size) {
    throw new DsrError('E_DECODE', `${what} needs ${size} bytes, got ${b.byteLength}`, { what });
  }
}

function put16(out: Uint8Array, off: number, src: Uint8Array): void {
  out.set(src.subarray(0, 16), off);
}

export function encodeSvcKey(k: SvcKey): Uint8Array {
  const f = S.dsr_svc_key.fields;
  const out = new Uint8Array(S.dsr_svc_key.size);
  const v = view(out);
  put16(out, f.vip, k.vip);
  v.setUint16(f.port, k.port, false);
  v.setUint8(f.proto, k.proto);
  v.setUint8(f.family, k.family);
  return out;
}

export function decodeSvcKey(b: Uint8Array): SvcKey {
  const f = S.dsr_svc_key.fields;
  need(b, S.dsr_svc_key.size, 'dsr_svc_key');
  const v = view(b);
  return {
    vip: bytes16(b, f.vip),
    port: v.getUint16(f.port, false),
    proto: v.getUint8(f.proto),
    family: v.getUint8(f.family) as IpFamily,
  };
}

export function encodeSvc(s: SvcEntry): Uint8Array {
  const f = S.dsr_svc.fields;
  const out = new Uint8Array(S.dsr_svc.size);
  const v = view(out);
  put16(out, f.mask, s.mask);
  v.setBigUint64(f.persist_timeout_ns, s.persistTimeoutNs, true);
  v.setUint32(f.maglev_size, s.maglevSize, true);
  v.setUint16(f.gen, s.gen, true);
  v.setUint8(f.flags, s.flags);
  return out;
}

export function decodeSvc(b: Uint8Array): SvcEntry {
  const f = S.dsr_svc.fields;
  need(b, S.dsr_svc.size, 'dsr_svc');
  const v = view(b);
  return {
    mask: bytes16(b, f.mask),
    persistTimeoutNs: v.getBigUint64(f.persist_timeout_ns, true),
    maglevSize: v.getUint32(f.maglev_size, true),
    gen: v.getUint16(f.gen, true),
    flags: v.getUint8(f.flags),
  };
}

export function encodeReal(r: RealEntry): Uint8Array {
  const f = S.dsr_real.fields;
  const out = new Uint8Array(S.dsr_real.size);
  const v = view(out);
  out.set(r.mac.subarray(0, 6), f.mac);
  out.set(r.srcMac.subarray(0, 6), f.src_mac);
  v.setUint32(f.ifindex, r.ifindex, true);
  v.setUint16(f.gen, r.gen, true);
  v.setUint16(f.vlan, r.vlan, true);
  v.setUint8(f.flags, r.flags);
  v.setUint8(f.family, r.family);
  v.setUint16(f.svc_id, r.svcId, true);
  v.setUint32(f.weight, r.weight, true);
  put16(out, f.addr, r.addr);
  return out;
}

export function decodeReal(b: Uint8Array): RealEntry {
  const f = S.dsr_real.fields;
  need(b, S.dsr_real.size, 'dsr_real');
  const v = view(b);
  return {
    mac: b.slice(f.mac, f.mac + 6),
    srcMac: b.slice(f.src_mac, f.src_mac + 6),
    ifindex: v.getUint32(f.ifindex, true),
    gen: v.getUint16(f.gen, true),
    vlan: v.getUint16(f.vlan, true),
    flags: v.getUint8(f.flags),
    family: v.getUint8(f.family) as IpFamily | 0,
    svcId: v.getUint16(f.svc_id, true),
    weight: v.getUint32(f.weight, true),
    addr: bytes16(b, f.addr),
  };
}

export function encodeFlow(fl: Flow, out = new Uint8Array(S.dsr_flow.size), at = 0): Uint8Array {
  const f = S.dsr_flow.fields;
  const v = view(out);
  put16(out, at + f.src, fl.src);
  put16(out, at + f.dst, fl.dst);
  v.setUint16(at + f.sport, fl.sport, false);
  v.setUint16(at + f.dport, fl.dport, false);
  v.setUint8(at + f.proto, fl.proto);
  v.setUint8(at + f.family, fl.family);
  v.setUint16(at + f.pad, 0, true);
  return out;
}

export function decodeFlow(b: Uint8Array, at = 0): Flow {
  const f = S.dsr_flow.fields;
  need(b, at + S.dsr_flow.size, 'dsr_flow');
  const v = view(b);
  return {
    src: bytes16(b, at + f.src),
    dst: bytes16(b, at + f.dst),
    sport: v.getUint16(at + f.sport, false),
    dport: v.getUint16(at + f.dport, false),
    proto: v.getUint8(at + f.proto),
    family: v.getUint8(at + f.family) as IpFamily,
  };
}

/** Key of the IPv4 connection table (conns4) for an IPv4 flow. */
export function encodeFlow4(fl: Flow, out = new Uint8Array(S.dsr_flow4.size), at = 0): Uint8Array {
  const f = S.dsr_flow4.fields;
  const v = view(out);
  out.set(fl.src.subarray(0, 4), at + f.src);
  out.set(fl.dst.subarray(0, 4), at + f.dst);
  v.setUint16(at + f.sport, fl.sport, false);
  v.setUint16(at + f.dport, fl.dport, false);
  v.setUint8(at + f.proto, fl.proto);
  out.fill(0, at + f.pad, at + S.dsr_flow4.size);
  return out;
}

export function decodeFlow4(b: Uint8Array, at = 0): Flow {
  const f = S.dsr_flow4.fields;
  need(b, at + S.dsr_flow4.size, 'dsr_flow4');
  const v = view(b);
  const src = new Uint8Array(16);
  const dst = new Uint8Array(16);
  src.set(b.subarray(at + f.src, at + f.src + 4));
  dst.set(b.subarray(at + f.dst, at + f.dst + 4));
  return {
    src,
    dst,
    sport: v.getUint16(at + f.sport, false),
    dport: v.getUint16(at + f.dport, false),
    proto: v.getUint8(at + f.proto),
    family: 4,
  };
}

export function encodeConn(c: ConnEntry): Uint8Array {
  const f = S.dsr_conn.fields;
  const out = new Uint8Array(S.dsr_conn.size);
  const v = view(out);
  v.setBigUint64(f.last_seen_ns, c.lastSeenNs, true);
  v.setBigUint64(f.reported_ns, c.reportedNs, true);
  v.setUint16(f.real_id, c.realId, true);
  v.setUint16(f.real_gen, c.realGen, true);
  v.setUint16(f.svc_id, c.svcId, true);
  v.setUint16(f.svc_gen, c.svcGen, true);
  v.setUint8(f.state, c.state);
  v.setUint16(f.sync_epoch, c.syncEpoch, true);
  return out;
}

export function decodeConn(b: Uint8Array): ConnEntry {
  const f = S.dsr_conn.fields;
  need(b, S.dsr_conn.size, 'dsr_conn');
  const v = view(b);
  return {
    lastSeenNs: v.getBigUint64(f.last_seen_ns, true),
    reportedNs: v.getBigUint64(f.reported_ns, true),
    realId: v.getUint16(f.real_id, true),
    realGen: v.getUint16(f.real_gen, true),
    svcId: v.getUint16(f.svc_id, true),
    svcGen: v.getUint16(f.svc_gen, true),
    state: v.getUint8(f.state),
    syncEpoch: v.getUint16(f.sync_epoch, true),
  };
}

export function encodePersistKey(k: PersistKey): Uint8Array {
  const f = S.dsr_persist_key.fields;
  const out = new Uint8Array(S.dsr_persist_key.size);
  const v = view(out);
  put16(out, f.client, k.client);
  v.setUint16(f.svc_id, k.svcId, true);
  v.setUint8(f.family, k.family);
  return out;
}

export function decodePersistKey(b: Uint8Array): PersistKey {
  const f = S.dsr_persist_key.fields;
  need(b, S.dsr_persist_key.size, 'dsr_persist_key');
  const v = view(b);
  return {
    client: bytes16(b, f.client),
    svcId: v.getUint16(f.svc_id, true),
    family: v.getUint8(f.family) as IpFamily,
  };
}

export function encodePersist(p: PersistEntry): Uint8Array {
  const f = S.dsr_persist.fields;
  const out = new Uint8Array(S.dsr_persist.size);
  const v = view(out);
  v.setBigUint64(f.last_seen_ns, p.lastSeenNs, true);
  v.setUint16(f.real_id, p.realId, true);
  v.setUint16(f.real_gen, p.realGen, true);
  v.setUint16(f.svc_gen, p.svcGen, true);
  v.setUint16(f.sync_epoch, p.syncEpoch, true);
  return out;
}

export function decodePersist(b: Uint8Array): PersistEntry {
  const f = S.dsr_persist.fields;
  need(b, S.dsr_persist.size, 'dsr_persist');
  const v = view(b);
  return {
    lastSeenNs: v.getBigUint64(f.last_seen_ns, true),
    realId: v.getUint16(f.real_id, true),
    realGen: v.getUint16(f.real_gen, true),
    svcGen: v.getUint16(f.svc_gen, true),
    syncEpoch: v.getUint16(f.sync_epoch, true),
  };
}

export function encodeFragKey(k: FragKey): Uint8Array {
  const f = S.dsr_frag_key.fields;
  const out = new Uint8Array(S.dsr_frag_key.size);
  const v = view(out);
  put16(out, f.src, k.src);
  put16(out, f.dst, k.dst);
  // The program copies the header field as is: 2 wire bytes for IPv4, 4 for IPv6.
  if (k.family === 4) v.setUint16(f.id, k.id, false);
  else v.setUint32(f.id, k.id, false);
  v.setUint8(f.proto, k.proto);
  v.setUint8(f.family, k.family);
  return out;
}

export function decodeFrag(b: Uint8Array): FragEntry {
  const f = S.dsr_frag.fields;
  need(b, S.dsr_frag.size, 'dsr_frag');
  const v = view(b);
  return {
    lastSeenNs: v.getBigUint64(f.last_seen_ns, true),
    realId: v.getUint16(f.real_id, true),
    realGen: v.getUint16(f.real_gen, true),
    svcId: v.getUint16(f.svc_id, true),
    svcGen: v.getUint16(f.svc_gen, true),
  };
}

export function encodeConfig(c: ForwarderConfig): Uint8Array {
  const f = S.dsr_config.fields;
  const out = new Uint8Array(S.dsr_config.size);
  const v = view(out);
  v.setBigUint64(f.tcp_syn_timeout_ns, c.tcpSynTimeoutNs, true);
  v.setBigUint64(f.tcp_est_timeout_ns, c.tcpEstTimeoutNs, true);
  v.setBigUint64(f.tcp_fin_timeout_ns, c.tcpFinTimeoutNs, true);
  v.setBigUint64(f.udp_timeout_ns, c.udpTimeoutNs, true);
  v.setBigUint64(f.frag_timeout_ns, c.fragTimeoutNs, true);
  v.setBigUint64(f.touch_ns, c.touchNs, true);
  v.setUint32(f.hash_seed, c.hashSeed >>> 0, true);
  v.setUint32(f.flags, c.flags >>> 0, true);
  out.set(c.localMac.subarray(0, 6), f.local_mac);
  return out;
}

export function decodeConfig(b: Uint8Array): ForwarderConfig {
  const f = S.dsr_config.fields;
  need(b, S.dsr_config.size, 'dsr_config');
  const v = view(b);
  return {
    tcpSynTimeoutNs: v.getBigUint64(f.tcp_syn_timeout_ns, true),
    tcpEstTimeoutNs: v.getBigUint64(f.tcp_est_timeout_ns, true),
    tcpFinTimeoutNs: v.getBigUint64(f.tcp_fin_timeout_ns, true),
    udpTimeoutNs: v.getBigUint64(f.udp_timeout_ns, true),
    fragTimeoutNs: v.getBigUint64(f.frag_timeout_ns, true),
    touchNs: v.getBigUint64(f.touch_ns, true),
    hashSeed: v.getUint32(f.hash_seed, true),
    flags: v.getUint32(f.flags, true),
    localMac: b.slice(f.local_mac, f.local_mac + 6),
  };
}

/** Sums a per-CPU dsr_traffic value (one slot per possible CPU). */
export function decodeTrafficPerCpu(b: Uint8Array, cpus: number): Traffic {
  const { size, fields: f } = S.dsr_traffic;
  need(b, cpus * size, 'dsr_traffic[]');
  const v = view(b);
  let packets = 0n;
  let bytes = 0n;
  let flows = 0n;
  for (let i = 0; i < cpus; i++) {
    packets += v.getBigUint64(i * size + f.packets, true);
    bytes += v.getBigUint64(i * size + f.bytes, true);
    flows += v.getBigUint64(i * size + f.flows, true);
  }
  return { packets, bytes, flows };
}

export function decodeEvent(b: Uint8Array): ForwarderEvent {
  const f = S.dsr_event.fields;
  need(b, S.dsr_event.size, 'dsr_event');
  const v = view(b);
  return {
    tsNs: v.getBigUint64(f.ts_ns, true),
    flow: decodeFlow(b, f.flow),
    realId: v.getUint16(f.real_id, true),
    svcId: v.getUint16(f.svc_id, true),
    type: v.getUint8(f.type),
    state: v.getUint8(f.state),
  };
}

/** For tests and tools that produce events (e.g. a fake ring buffer). */
export function encodeEvent(e: ForwarderEvent): Uint8Array {
  const f = S.dsr_event.fields;
  const out = new Uint8Array(S.dsr_event.size);
  const v = view(out);
  v.setBigUint64(f.ts_ns, e.tsNs, true);
  encodeFlow(e.flow, out, f.flow);
  v.setUint16(f.real_id, e.realId, true);
  v.setUint16(f.svc_id, e.svcId, true);
  v.setUint8(f.type, e.type);
  v.setUint8(f.state, e.state);
  return out;
}
