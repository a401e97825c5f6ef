/**
 * Who claims an IPv4 address on the wire: the sender of an ARP request or reply (RFC 826) says
 * "sender protocol address is at sender hardware address", and every host that hears it may
 * update its cache (the RFC 826 merge). A claim for one of our VIPs from a MAC other than ours is
 * a second owner: a zombie director, a peer that thinks it is master, or a real server answering
 * ARP for the VIP it holds on its loopback (the classic DSR misconfiguration). Pure.
 */
import { formatMac } from '../../core/net/mac.ts';
import { ARP_LEN, ETH_HLEN, ETH_P_ARP } from './frames.ts';

export interface ArpClaim {
  /** The sender protocol address, dotted quad. */
  readonly address: string;
  /** The sender hardware address, aa:bb:cc:dd:ee:ff. */
  readonly mac: string;
}

/** The claim an Ethernet frame makes, or null: not ARP over Ethernet/IPv4, or a probe (sender 0.0.0.0). */
export function arpClaim(frame: Uint8Array): ArpClaim | null {
  if (frame.length < ETH_HLEN + ARP_LEN) return null;
  const v = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (v.getUint16(12) !== ETH_P_ARP) return null;
  const a = ETH_HLEN;
  // Ethernet hardware, IPv4 protocol, 6- and 4-byte addresses, request or reply.
  if (v.getUint16(a) !== 1 || v.getUint16(a + 2) !== 0x0800) return null;
  if (frame[a + 4] !== 6 || frame[a + 5] !== 4) return null;
  const op = v.getUint16(a + 6);
  if (op !== 1 && op !== 2) return null;
  const spa = frame.subarray(a + 14, a + 18);
  if (spa.every((b) => b === 0)) return null; // RFC 5227 probe: claims nothing
  return { address: spa.join('.'), mac: formatMac(frame.subarray(a + 8, a + 14)) };
}
