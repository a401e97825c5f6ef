/**
 * Ethernet frame builder for BPF_PROG_TEST_RUN fixtures, the differential
 * test and the benchmarks: TCP/UDP over IPv4/IPv6 with optional 802.1Q tag,
 * IPv4 options, IPv6 extension headers, fragments, ICMP too-big errors, ARP
 * and neighbour solicitations. Checksums are computed (RFC 1071).
 */
import { parseIp } from '../core/net/ip.ts';
import { parseMac } from '../core/net/mac.ts';

export const ETH_P_IP = 0x0800;
export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;
export const ETH_P_8021Q = 0x8100;
export const TCP_FIN = 0x01;
export const TCP_SYN = 0x02;
export const TCP_RST = 0x04;
export const TCP_PSH = 0x08;
export const TCP_ACK = 0x10;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMPV6 = 58;
export const IPV6_HOPOPTS = 0;
export const IPV6_ROUTING = 43;
export const IPV6_FRAGMENT = 44;
export const IPV6_DSTOPTS = 60;

export interface PacketSpec {
  src: string;
  dst: string;
  proto: 'tcp' | 'udp' | number;
  sport?: number;
  dport?: number;
  tcpFlags?: number;
  /** payload bytes, or a length of zero bytes */
  payload?: Uint8Array | number;
  ttl?: number;
  /** IPv4 identification / IPv6 fragment id */
  ipId?: number;
  /** fragment offset in bytes (multiple of 8); > 0 leaves out the L4 header */
  fragOffset?: number;
  moreFragments?: boolean;
  /** bytes of IPv4 options (multiple of 4, NOPs) */
  ipv4Options?: number;
  /** IPv6 extension headers (hop-by-hop, routing, destination options) before the L4 header */
  ipv6Ext?: number[];
}

export interface FrameSpec extends PacketSpec {
  srcMac: string;
  dstMac: string;
  /** 802.1Q VID; absent = untagged */
  vlan?: number;
}

function sum16(bytes: Uint8Array, init = 0): number {
  let s = init;
  for (let i = 0; i + 1 < bytes.length; i += 2) s += (bytes[i] << 8) | bytes[i + 1];
  if (bytes.length & 1) s += bytes[bytes.length - 1] << 8;
  return s;
}

function fold(s: number): number {
  let x = s;
  while (x > 0xffff) x = (x & 0xffff) + Math.floor(x / 0x10000);
  return ~x & 0xffff;
}

/** RFC 1071 Internet checksum. */
export function inetChecksum(bytes: Uint8Array, init = 0): number {
  return fold(sum16(bytes, init));
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function protoNumber(p: PacketSpec['proto']): number {
  if (p === 'tcp') return IPPROTO_TCP;
  if (p === 'udp') return IPPROTO_UDP;
  return p;
}

function payloadBytes(p: PacketSpec['payload']): Uint8Array {
  if (p === undefined) return new Uint8Array(0);
  return typeof p === 'number' ? new Uint8Array(p) : p;
}

function l4Header(spec: PacketSpec, proto: number, payloadLen: number): Uint8Array {
  if (proto === IPPROTO_TCP) {
    const h = new Uint8Array(20);
    const v = new DataView(h.buffer);
    v.setUint16(0, spec.sport ?? 0);
    v.setUint16(2, spec.dport ?? 0);
    v.setUint32(4, 1000);
    v.setUint32(8, (spec.tcpFlags ?? TCP_ACK) & TCP_ACK ? 2000 : 0);
    h[12] = 5 << 4;
    h[13] = spec.tcpFlags ?? TCP_ACK;
    v.setUint16(14, 65535);
    return h;
  }
  if (proto === IPPROTO_UDP) {
    const h = new Uint8Array(8);
    const v = new DataView(h.buffer);
    v.setUint16(0, spec.sport ?? 0);
    v.setUint16(2, spec.dport ?? 0);
    v.setUint16(4, 8 + payloadLen);
    return h;
  }
  return new Uint8Array(0);
}

/** Pseudo-header sum (RFC 793 / RFC 768 for IPv4, RFC 8200 section 8.1 for IPv6). */
function pseudoSum(src: Uint8Array, dst: Uint8Array, family: 4 | 6, proto: number, len: number): number {
  const n = family === 4 ? 4 : 16;
  return sum16(src.subarray(0, n)) + sum16(dst.subarray(0, n)) + proto + len;
}

function withL4Checksum(
  l4: Uint8Array,
  proto: number,
  src: Uint8Array,
  dst: Uint8Array,
  family: 4 | 6,
): void {
  const at = proto === IPPROTO_TCP ? 16 : proto === IPPROTO_UDP ? 6 : proto === IPPROTO_ICMPV6 ? 2 : -1;
  if (at < 0) return;
  let c = inetChecksum(l4, pseudoSum(src, dst, family, proto, l4.length));
  if (proto === IPPROTO_UDP && c === 0) c = 0xffff;
  l4[at] = c >> 8;
  l4[at + 1] = c & 0xff;
}

/** An IP packet (no Ethernet header). */
export function buildPacket(spec: PacketSpec): Uint8Array {
  const src = parseIp(spec.src);
  const dst = parseIp(spec.dst);
  const proto = protoNumber(spec.proto);
  const payload = payloadBytes(spec.payload);
  const later = (spec.fragOffset ?? 0) > 0;
  const l4 = later ? payload : concat(l4Header(spec, proto, payload.length), payload);
  if (!later) withL4Checksum(l4, proto, src.bytes, dst.bytes, src.family);
  if (src.family === 4) {
    const opts = spec.ipv4Options ?? 0;
    const h = new Uint8Array(20 + opts).fill(1, 20); // NOP options
    const v = new DataView(h.buffer);
    h[0] = 0x40 | ((20 + opts) >> 2);
    v.setUint16(2, h.length + l4.length);
    v.setUint16(4, spec.ipId ?? 0);
    v.setUint16(6, ((spec.fragOffset ?? 0) >> 3) | (spec.moreFragments ? 0x2000 : 0));
    h[8] = spec.ttl ?? 64;
    h[9] = proto;
    h.set(src.bytes.subarray(0, 4), 12);
    h.set(dst.bytes.subarray(0, 4), 16);
    v.setUint16(10, inetChecksum(h));
    return concat(h, l4);
  }
  const exts: Uint8Array[] = [];
  const chain = [...(spec.ipv6Ext ?? [])];
  const fragmented = spec.fragOffset !== undefined || spec.moreFragments;
  if (fragmented) chain.push(IPV6_FRAGMENT);
  for (let i = 0; i < chain.length; i++) {
    const next = i + 1 < chain.length ? chain[i + 1] : proto;
    const e = new Uint8Array(8);
    e[0] = next;
    if (chain[i] === IPV6_FRAGMENT) {
      new DataView(e.buffer).setUint16(2, (spec.fragOffset ?? 0) | (spec.moreFragments ? 1 : 0));
      new DataView(e.buffer).setUint32(4, spec.ipId ?? 0);
    } else {
      e[2] = 1; // one PadN option covering the 6 remaining bytes (RFC 8200 section 4.2)
      e[3] = 4;
    }
    exts.push(e);
  }
  const ext = concat(...exts);
  const h = new Uint8Array(40);
  const v = new DataView(h.buffer);
  v.setUint32(0, 0x60000000);
  v.setUint16(4, ext.length + l4.length);
  h[6] = chain.length > 0 ? chain[0] : proto;
  h[7] = spec.ttl ?? 64;
  h.set(src.bytes, 8);
  h.set(dst.bytes, 24);
  return concat(h, ext, l4);
}

function ethernet(srcMac: string, dstMac: string, type: number, vlan: number | undefined): Uint8Array {
  const h = new Uint8Array(vlan === undefined ? 14 : 18);
  const v = new DataView(h.buffer);
  h.set(parseMac(dstMac), 0);
  h.set(parseMac(srcMac), 6);
  if (vlan === undefined) {
    v.setUint16(12, type);
  } else {
    v.setUint16(12, ETH_P_8021Q);
    v.setUint16(14, vlan);
    v.setUint16(16, type);
  }
  return h;
}

export function buildFrame(spec: FrameSpec): Uint8Array {
  const pkt = buildPacket(spec);
  const type = parseIp(spec.src).family === 4 ? ETH_P_IP : ETH_P_IPV6;
  return concat(ethernet(spec.srcMac, spec.dstMac, type, spec.vlan), pkt);
}

export interface TooBigSpec {
  srcMac: string;
  dstMac: string;
  vlan?: number;
  /** the router reporting the error */
  router: string;
  vip: string;
  client: string;
  proto: 'tcp' | 'udp';
  vipPort: number;
  clientPort: number;
  mtu: number;
}

/**
 * ICMP fragmentation needed (RFC 792, RFC 1191) or ICMPv6 packet too big
 * (RFC 4443 section 3.2) from a router to the VIP, quoting a real server's
 * reply (VIP -> client).
 */
export function buildTooBig(spec: TooBigSpec): Uint8Array {
  const quoted = buildPacket({
    src: spec.vip,
    dst: spec.client,
    proto: spec.proto,
    sport: spec.vipPort,
    dport: spec.clientPort,
    payload: 64,
  });
  const v6 = parseIp(spec.vip).family === 6;
  const quote = quoted.subarray(0, v6 ? Math.min(quoted.length, 1232) : 28 + 20);
  const icmp = concat(new Uint8Array(8), quote);
  const v = new DataView(icmp.buffer);
  if (v6) {
    icmp[0] = 2;
    v.setUint32(4, spec.mtu);
  } else {
    icmp[0] = 3;
    icmp[1] = 4;
    v.setUint16(6, spec.mtu);
    v.setUint16(2, inetChecksum(icmp));
  }
  const outer = buildPacket({
    src: spec.router,
    dst: spec.vip,
    proto: v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP,
    payload: icmp,
  });
  return concat(ethernet(spec.srcMac, spec.dstMac, v6 ? ETH_P_IPV6 : ETH_P_IP, spec.vlan), outer);
}

/** ARP request (RFC 826) for targetIp, broadcast. */
export function buildArpRequest(srcMac: string, senderIp: string, targetIp: string): Uint8Array {
  const a = new Uint8Array(28);
  const v = new DataView(a.buffer);
  v.setUint16(0, 1);
  v.setUint16(2, ETH_P_IP);
  a[4] = 6;
  a[5] = 4;
  v.setUint16(6, 1);
  a.set(parseMac(srcMac), 8);
  a.set(parseIp(senderIp).bytes.subarray(0, 4), 14);
  a.set(parseIp(targetIp).bytes.subarray(0, 4), 24);
  return concat(ethernet(srcMac, 'ff:ff:ff:ff:ff:ff', ETH_P_ARP, undefined), a, new Uint8Array(18));
}

/** Neighbour solicitation (RFC 4861 section 4.3) for target, to its solicited-node group. */
export function buildNeighborSolicitation(srcMac: string, src: string, target: string): Uint8Array {
  const t = parseIp(target).bytes;
  const group = `ff02::1:ff${t[13].toString(16).padStart(2, '0')}:${((t[14] << 8) | t[15]).toString(16)}`;
  const ns = new Uint8Array(32);
  ns[0] = 135;
  ns.set(t, 8);
  ns[24] = 1; // source link-layer address option
  ns[25] = 1;
  ns.set(parseMac(srcMac), 26);
  const pkt = buildPacket({ src, dst: group, proto: IPPROTO_ICMPV6, payload: ns, ttl: 255 });
  const dstMac = `33:33:ff:${t[13].toString(16).padStart(2, '0')}:${t[14].toString(16).padStart(2, '0')}:${t[15]
    .toString(16)
    .padStart(2, '0')}`;
  return concat(ethernet(srcMac, dstMac, ETH_P_IPV6, undefined), pkt);
}
