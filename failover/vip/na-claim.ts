/**
 * Who claims an IPv6 address on the wire: a Neighbor Advertisement (RFC 4861 §4.4) says "the
 * target address is at this link-layer address", and a host that hears it updates its neighbour
 * cache (§7.2.5; an unsolicited one with the Override flag replaces the cached address, §7.2.6).
 * An NA for one of our VIPs from a MAC other than ours is a second owner, as an ARP claim is for
 * IPv4 (arp-claim.ts). Solicited or not, with Override or not: any valid NA counts, since any of
 * them can move or unsettle a cache entry. Pure.
 *
 * The link-layer address claimed is the Target Link-Layer Address option (§4.6.1) when present
 * (the one receivers cache), else the Ethernet source address.
 *
 * Only what a receiver would accept is a claim: the validity checks of §7.1.2 (hop limit 255,
 * checksum, code 0, length, no multicast target, Solicited clear when sent to a multicast address,
 * no zero-length option). An NA that fails them moves no cache, so it claims nothing. Extension
 * headers are not followed: the ICMPv6 header must come right after the IPv6 header (next header
 * 58). Real NAs carry none, and the watch's socket filter (claim-sockets.ts) lets through only those.
 */
import { formatIp } from '../../core/net/ip.ts';
import { formatMac } from '../../core/net/mac.ts';
import {
  ETH_HLEN,
  ETH_P_IPV6,
  IPPROTO_ICMPV6,
  IPV6_HLEN,
  icmpv6Checksum,
  ND_NEIGHBOR_ADVERT,
} from './frames.ts';

/** Type, code, checksum, flags + reserved, target address (§4.4); options follow. */
const NA_MIN_LEN = 24;
const NA_FLAG_SOLICITED = 0x40;
const OPT_TARGET_LLADDR = 2;
/** An Ethernet address in an ND option: type, length 1 (8 bytes), 6-byte MAC (RFC 2464 §6). */
const ETHERNET_LLADDR_UNITS = 1;

export interface NaClaim {
  /** The target address, in the canonical text the VIPs are written in (core/net/ip.ts). */
  readonly address: string;
  /** The link-layer address claimed, aa:bb:cc:dd:ee:ff. */
  readonly mac: string;
}

/** The claim an Ethernet frame makes, or null: not a valid Neighbor Advertisement (§7.1.2). */
export function naClaim(frame: Uint8Array): NaClaim | null {
  if (frame.length < ETH_HLEN + IPV6_HLEN + NA_MIN_LEN) return null;
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (v.getUint16(12) !== ETH_P_IPV6) return null;
  const ip = ETH_HLEN;
  if (frame[ip] >> 4 !== 6) return null;
  if (frame[ip + 6] !== IPPROTO_ICMPV6) return null; // extension headers: not followed (see above)
  // §7.1.2: hop limit 255 proves the sender is on the link (a router would have decremented it).
  if (frame[ip + 7] !== 255) return null;
  const icmpLen = v.getUint16(ip + 4);
  const at = ip + IPV6_HLEN;
  // The payload length bounds the message: bytes past it are Ethernet padding, and a frame cut
  // short of it is not a whole message.
  if (icmpLen < NA_MIN_LEN || at + icmpLen > frame.length) return null;
  const icmp = frame.subarray(at, at + icmpLen);
  if (icmp[0] !== ND_NEIGHBOR_ADVERT || icmp[1] !== 0) return null;
  const source = frame.subarray(ip + 8, ip + 24);
  const destination = frame.subarray(ip + 24, ip + 40);
  if (icmpv6Checksum(source, destination, icmp) !== 0) return null; // RFC 4443 §2.3
  const target = icmp.subarray(8, 24);
  if (target[0] === 0xff) return null; // §7.1.2: a multicast target is invalid
  if (destination[0] === 0xff && (icmp[4] & NA_FLAG_SOLICITED) !== 0) return null;
  const lladdr = targetLinkLayerAddress(icmp.subarray(NA_MIN_LEN));
  if (lladdr === null) return null;
  return { address: formatIp(target), mac: formatMac(lladdr ?? frame.subarray(6, 12)) };
}

/**
 * The first Target Link-Layer Address option's MAC; undefined when there is none; null when the
 * options are malformed (§7.1.2: zero length; one running past the message) or the option does not
 * hold an Ethernet address: receivers drop such an NA (Linux: "invalid link-layer address length").
 */
function targetLinkLayerAddress(options: Uint8Array): Uint8Array | null | undefined {
  let found: Uint8Array | undefined;
  for (let o = 0; o < options.length; ) {
    if (options.length - o < 2) return null;
    const bytes = options[o + 1] * 8;
    if (bytes === 0 || o + bytes > options.length) return null;
    if (options[o] === OPT_TARGET_LLADDR && found === undefined) {
      // A later duplicate is ignored, as Linux's option parser does.
      if (options[o + 1] !== ETHERNET_LLADDR_UNITS) return null;
      found = options.subarray(o + 2, o + 8);
    }
    o += bytes;
  }
  return found;
}
