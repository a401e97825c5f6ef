/**
 * Seeing another director announce our VIPs, during a drill: an AF_PACKET socket on the group's
 * interface for the few seconds around a handover, keeping the ARP frames whose sender address is a
 * VIP (a gratuitous ARP request or reply, RFC 5227 §3 "ARP Announcement") and the neighbour
 * advertisements whose target is one (RFC 4861 §7.2.6 unsolicited NA). Frames this host sends are
 * skipped (PACKET_OUTGOING), so what is left was announced by someone else.
 *
 * One socket per EtherType that is needed (ARP for IPv4 VIPs, IPv6 for IPv6 VIPs), so the kernel
 * queues nothing else for us. Non-blocking and polled on the event loop (core/kernel/fd-watch.ts).
 */
import { type FdWatch, watchReadable } from '../../core/kernel/fd-watch.ts';
import {
  AF_PACKET,
  bindSocket,
  closeFd,
  interfaceIndex,
  openSocket,
  recvFrom,
  SOCK_RAW,
} from '../../core/kernel/libc.ts';
import { canonicalIp, formatIp, parseIp } from '../../core/net/ip.ts';
import { formatMac } from '../../core/net/mac.ts';
import type { Announcement, AnnouncementWatch } from './types.ts';

const ETH_P_ARP = 0x0806;
const ETH_P_IPV6 = 0x86dd;
const IPPROTO_ICMPV6 = 58;
const ND_NEIGHBOR_ADVERT = 136;
const PACKET_OUTGOING = 4;
const SOCKADDR_LL_LEN = 20;
/** The longest frame we read: an NA's target ends at byte 78. */
const SNAP = 128;
/** Frames read per readiness callback at most, so a flood cannot hold the event loop. */
const BATCH = 256;

/** The VIP a frame announces and the sender's MAC, or null when it announces none of `vips`. */
export function parseAnnouncement(
  frame: Uint8Array,
  vips: ReadonlySet<string>,
): { vip: string; mac: string } | null {
  if (frame.length < 14) return null;
  const type = (frame[12] << 8) | frame[13];
  if (type === ETH_P_ARP) {
    // htype 1 (Ethernet), ptype IPv4, hlen 6, plen 4; sender MAC at 22, sender IP at 28.
    if (frame.length < 42) return null;
    if (frame[14] !== 0 || frame[15] !== 1 || frame[16] !== 0x08 || frame[17] !== 0 || frame[18] !== 6)
      return null;
    if (frame[19] !== 4) return null;
    const vip = formatIp(frame.subarray(28, 32));
    return vips.has(vip) ? { vip, mac: formatMac(frame.subarray(22, 28)) } : null;
  }
  if (type === ETH_P_IPV6) {
    // IPv6 header 40 bytes, next header ICMPv6 (an NA carries no extension headers), hop limit 255.
    if (frame.length < 78 || frame[20] !== IPPROTO_ICMPV6 || frame[21] !== 255) return null;
    if (frame[54] !== ND_NEIGHBOR_ADVERT) return null;
    const vip = formatIp(frame.subarray(62, 78));
    return vips.has(vip) ? { vip, mac: formatMac(frame.subarray(6, 12)) } : null;
  }
  return null;
}

function sockaddrLl(protocol: number, ifindex: number): Buffer {
  const sa = Buffer.alloc(SOCKADDR_LL_LEN);
  sa.writeUInt16LE(AF_PACKET, 0);
  sa.writeUInt16BE(protocol, 2);
  sa.writeInt32LE(ifindex, 4);
  return sa;
}

interface Tap {
  fd: number;
  watch: FdWatch;
}

export class PacketAnnouncementWatch implements AnnouncementWatch {
  readonly #vips: ReadonlySet<string>;
  readonly #now: () => number;
  readonly #seen: Announcement[] = [];
  readonly #taps: Tap[] = [];
  readonly #buf = Buffer.alloc(SNAP);
  #closed = false;

  /** Opens the sockets at once (needs CAP_NET_RAW), in the calling thread's network namespace. */
  constructor(ifname: string, vips: readonly string[], now: () => number = () => performance.now()) {
    this.#vips = new Set(vips.map(canonicalIp));
    this.#now = now;
    const ifindex = interfaceIndex(ifname);
    const types = new Set(vips.map((v) => (parseIp(v).family === 4 ? ETH_P_ARP : ETH_P_IPV6)));
    try {
      for (const type of types) this.#open(type, ifindex);
    } catch (err) {
      this.close();
      throw err;
    }
  }

  #open(type: number, ifindex: number): void {
    // socket(2) and bind(2) take the protocol in network byte order.
    const fd = openSocket(AF_PACKET, SOCK_RAW, ((type & 0xff) << 8) | (type >> 8));
    try {
      bindSocket(fd, sockaddrLl(type, ifindex));
      const watch = watchReadable(
        fd,
        () => this.#drain(fd),
        () => {},
      );
      this.#taps.push({ fd, watch });
    } catch (err) {
      closeFd(fd);
      throw err;
    }
  }

  #drain(fd: number): void {
    try {
      for (let i = 0; i < BATCH && !this.#closed; i++) {
        const r = recvFrom(fd, this.#buf, SOCKADDR_LL_LEN);
        if (r === undefined) return;
        if (r.from.length > 10 && r.from[10] === PACKET_OUTGOING) continue;
        const a = parseAnnouncement(this.#buf.subarray(0, Math.min(r.length, SNAP)), this.#vips);
        if (a !== null) this.#seen.push({ ...a, atMs: this.#now() });
      }
    } catch {
      // The interface went away or down: what was seen stands; the drill judges with that.
    }
  }

  seen(): Announcement[] {
    return [...this.#seen];
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#taps.splice(0)) {
      t.watch.close();
      closeFd(t.fd);
    }
  }
}
