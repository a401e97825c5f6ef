/**
 * The frames a new VIP owner sends so the segment learns the VIP's new MAC. Pure builders.
 *
 * IPv4, gratuitous ARP (Ethernet broadcast), in two forms:
 * - request form, the ARP Announcement of RFC 5227 §2.3: op = request, sender and target protocol
 *   address both the VIP, target hardware address zero. RFC 5227 §3 explains why announcements
 *   are requests: every host processes a broadcast request, and an existing cache entry for the
 *   sender address is updated by it (RFC 826 "merge").
 * - reply form, RFC 5944 §4.6: op = reply, sender and target protocol address the VIP, and the
 *   target hardware address also the new MAC (Linux, for one, counts a reply as gratuitous only
 *   when tha == sha). Some stacks and switches only learn from replies.
 * The owner sends both by default (announce.arpForms): the cost is one extra 42-byte frame per
 * VIP per round, and which form a given peer honours is outside our control.
 *
 * IPv6, unsolicited Neighbor Advertisement (RFC 4861 §7.2.6): to the all-nodes address ff02::1
 * (Ethernet 33:33:00:00:00:01, RFC 2464 §7), Solicited flag clear, Override flag set so receivers
 * replace the cached link-layer address (§7.2.5), Router flag clear, with a Target Link-Layer
 * Address option carrying the new MAC. Hop limit 255 (§7.1.2: receivers drop anything else).
 * Source address: the VIP itself, an address assigned to the sending interface (§4.4), as Linux
 * does for its own unsolicited NAs. ICMPv6 checksum over the pseudo-header (RFC 8200 §8.1).
 */
import { DsrError } from '../../core/errors.ts';
import { parseIp } from '../../core/net/ip.ts';
import { parseMac } from '../../core/net/mac.ts';

export type ArpForm = 'request' | 'reply';

/** Frame layout shared with the claim parsers (arp-claim.ts, na-claim.ts) and sockets. */
export const ETH_HLEN = 14;
export const ETH_P_ARP = 0x0806;
export const ETH_P_IPV6 = 0x86dd;
export const ARP_LEN = 28;
export const IPV6_HLEN = 40;
export const IPPROTO_ICMPV6 = 58;
export const ND_NEIGHBOR_ADVERT = 136;
const BROADCAST = Buffer.alloc(6, 0xff);
const ALL_NODES_MAC = Buffer.from('333300000001', 'hex');
const ALL_NODES_IP = parseIp('ff02::1').bytes;
const NO_ADDRESS = Buffer.alloc(4);
const NO_MAC = Buffer.alloc(6);
const NA_LEN = 32; // type, code, checksum, flags+reserved, target, one 8-byte TLLA option
const NA_FLAG_OVERRIDE = 0x20000000;
const OPT_TARGET_LLADDR = 2;

function ethernet(dst: Buffer, src: Buffer, type: number, body: Buffer): Buffer {
  const f = Buffer.alloc(ETH_HLEN + body.length);
  dst.copy(f, 0);
  src.copy(f, 6);
  f.writeUInt16BE(type, 12);
  body.copy(f, ETH_HLEN);
  return f;
}

function macBytes(mac: string | Buffer): Buffer {
  const b = typeof mac === 'string' ? parseMac(mac) : mac;
  if (b.length !== 6) throw new DsrError('E_PACKET_SOCKET', `a MAC has 6 bytes, not ${b.length}`, {});
  return b;
}

function ipOf(address: string, family: 4 | 6): Buffer {
  const ip = parseIp(address);
  if (ip.family !== family) {
    throw new DsrError('E_PACKET_SOCKET', `${address} is not an IPv${family} address`, { address });
  }
  return ip.bytes;
}

/** An ARP frame over Ethernet for IPv4 (RFC 826), broadcast. */
function arpFrame(op: 1 | 2, sha: Buffer, spa: Buffer, tha: Buffer, tpa: Buffer): Buffer {
  const arp = Buffer.alloc(ARP_LEN);
  arp.writeUInt16BE(1, 0); // hardware: Ethernet
  arp.writeUInt16BE(0x0800, 2); // protocol: IPv4
  arp.writeUInt8(6, 4);
  arp.writeUInt8(4, 5);
  arp.writeUInt16BE(op, 6);
  sha.copy(arp, 8);
  spa.copy(arp, 14);
  tha.copy(arp, 18);
  tpa.copy(arp, 24);
  return ethernet(BROADCAST, sha, ETH_P_ARP, arp);
}

/** A gratuitous ARP for `address` owned by `mac` (42 bytes: Ethernet + ARP). */
export function gratuitousArp(mac: string | Buffer, address: string, form: ArpForm): Buffer {
  const sha = macBytes(mac);
  const ip = ipOf(address, 4);
  // request: target hardware stays zero (RFC 5227 §2.3)
  return form === 'request' ? arpFrame(1, sha, ip, NO_MAC, ip) : arpFrame(2, sha, ip, sha, ip);
}

/** "Who has `target`? Tell `sender`", from `mac`, broadcast. */
export function arpRequest(mac: string | Buffer, sender: string, target: string): Buffer {
  return arpFrame(1, macBytes(mac), ipOf(sender, 4), NO_MAC, ipOf(target, 4));
}

/**
 * An ARP probe for `address` from `mac` (RFC 5227 §2.1.1: a request with sender address 0.0.0.0
 * and target hardware zero): whoever holds the address answers, and no host updates its cache
 * from it, so asking costs the segment nothing.
 */
export function arpProbe(mac: string | Buffer, address: string): Buffer {
  return arpFrame(1, macBytes(mac), NO_ADDRESS, NO_MAC, ipOf(address, 4));
}

/** RFC 1071 ones' complement sum of the buffers, folded, complemented. */
export function internetChecksum(parts: Buffer[]): number {
  let sum = 0;
  let odd: number | undefined;
  for (const p of parts) {
    for (const byte of p) {
      if (odd === undefined) odd = byte;
      else {
        sum += (odd << 8) | byte;
        odd = undefined;
      }
    }
  }
  if (odd !== undefined) sum += odd << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * The ICMPv6 checksum of `icmp` (its checksum field zero to compute one; as received to check one,
 * which then yields 0): RFC 4443 §2.3, over the pseudo-header of RFC 8200 §8.1.
 */
export function icmpv6Checksum(source: Uint8Array, destination: Uint8Array, icmp: Uint8Array): number {
  const pseudo = Buffer.alloc(40);
  pseudo.set(source, 0);
  pseudo.set(destination, 16);
  pseudo.writeUInt32BE(icmp.length, 32);
  pseudo[39] = IPPROTO_ICMPV6;
  return internetChecksum([pseudo, Buffer.from(icmp.buffer, icmp.byteOffset, icmp.byteLength)]);
}

/** An unsolicited Neighbor Advertisement for `address` owned by `mac` (86 bytes). */
export function unsolicitedNeighbourAdvert(mac: string | Buffer, address: string): Buffer {
  const lladdr = macBytes(mac);
  const target = ipOf(address, 6);
  const icmp = Buffer.alloc(NA_LEN);
  icmp.writeUInt8(ND_NEIGHBOR_ADVERT, 0);
  icmp.writeUInt8(0, 1);
  icmp.writeUInt32BE(NA_FLAG_OVERRIDE, 4);
  target.copy(icmp, 8);
  icmp.writeUInt8(OPT_TARGET_LLADDR, 24);
  icmp.writeUInt8(1, 25); // option length in units of 8 bytes
  lladdr.copy(icmp, 26);
  icmp.writeUInt16BE(icmpv6Checksum(target, ALL_NODES_IP, icmp), 2);

  const ip6 = Buffer.alloc(IPV6_HLEN);
  ip6.writeUInt32BE(0x60000000, 0); // version 6, traffic class 0, flow label 0
  ip6.writeUInt16BE(NA_LEN, 4);
  ip6.writeUInt8(IPPROTO_ICMPV6, 6);
  ip6.writeUInt8(255, 7); // RFC 4861 §7.1.2
  target.copy(ip6, 8);
  ALL_NODES_IP.copy(ip6, 24);
  return ethernet(ALL_NODES_MAC, lladdr, ETH_P_IPV6, Buffer.concat([ip6, icmp]));
}
