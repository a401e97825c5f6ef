/**
 * Builds the IPv4 TCP/UDP Ethernet frames the forwarder benchmark feeds to
 * BPF_PROG_TEST_RUN and to the live-frames generator. Checksums are real
 * (RFC 791 §3.1 header checksum, RFC 768/793 pseudo-header sums) so a frame
 * that reaches a real server's stack is not dropped for a bad checksum.
 */
import { DsrError } from '../../core/errors.ts';

export interface Frame4Spec {
  srcMac: string;
  dstMac: string;
  srcIp: string;
  dstIp: string;
  proto: 'udp' | 'tcp';
  sport: number;
  dport: number;
  /** TCP flags byte (default ACK = 0x10). */
  tcpFlags?: number;
  /** Total frame length without FCS; padded with zero payload (min 60). */
  size?: number;
  /** UDP only: leave the checksum 0 ("none", allowed for IPv4 by RFC 768). */
  noUdpChecksum?: boolean;
}

export const TCP_SYN = 0x02;
export const TCP_ACK = 0x10;

export function macBytes(mac: string): Buffer {
  const parts = mac.split(':');
  if (parts.length !== 6 || parts.some((p) => !/^[0-9a-fA-F]{2}$/.test(p))) {
    throw new DsrError('E_BENCH', `not a MAC address: ${JSON.stringify(mac)}`, { mac });
  }
  return Buffer.from(parts.map((p) => Number.parseInt(p, 16)));
}

export function ipv4Bytes(ip: string): Buffer {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new DsrError('E_BENCH', `not an IPv4 address: ${JSON.stringify(ip)}`, { ip });
  }
  return Buffer.from(parts);
}

/** RFC 1071 one's-complement sum of 16-bit words, folded and complemented. */
function checksum(...parts: Buffer[]): number {
  let sum = 0;
  for (const b of parts) {
    for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) | (i + 1 < b.length ? b[i + 1] : 0);
  }
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

export function buildFrame4(spec: Frame4Spec): Buffer {
  const l4len = spec.proto === 'udp' ? 8 : 20;
  const size = Math.max(spec.size ?? 60, 14 + 20 + l4len);
  const f = Buffer.alloc(size);
  macBytes(spec.dstMac).copy(f, 0);
  macBytes(spec.srcMac).copy(f, 6);
  f.writeUInt16BE(0x0800, 12);
  const ip = f.subarray(14, 34);
  const ipLen = size - 14;
  ip[0] = 0x45;
  ip.writeUInt16BE(ipLen, 2);
  ip.writeUInt16BE(0x4000, 6); // DF
  ip[8] = 64;
  ip[9] = spec.proto === 'udp' ? 17 : 6;
  ipv4Bytes(spec.srcIp).copy(ip, 12);
  ipv4Bytes(spec.dstIp).copy(ip, 16);
  ip.writeUInt16BE(checksum(ip), 10);
  const l4 = f.subarray(34);
  l4.writeUInt16BE(spec.sport, 0);
  l4.writeUInt16BE(spec.dport, 2);
  if (spec.proto === 'udp') {
    l4.writeUInt16BE(l4.length, 4);
  } else {
    l4.writeUInt32BE(1, 4); // seq
    l4.writeUInt32BE(1, 8); // ack
    l4[12] = 5 << 4;
    l4[13] = spec.tcpFlags ?? TCP_ACK;
    l4.writeUInt16BE(65535, 14);
  }
  if (!(spec.proto === 'udp' && spec.noUdpChecksum)) {
    const pseudo = Buffer.alloc(12);
    ip.copy(pseudo, 0, 12, 20);
    pseudo[9] = ip[9];
    pseudo.writeUInt16BE(l4.length, 10);
    const c = checksum(pseudo, l4);
    l4.writeUInt16BE(spec.proto === 'udp' && c === 0 ? 0xffff : c, spec.proto === 'udp' ? 6 : 16);
  }
  return f;
}
