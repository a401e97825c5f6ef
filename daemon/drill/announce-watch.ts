/**
 * Seeing another director announce our VIPs, during a drill: an AF_PACKET socket on the group's
 * interface for the few seconds around a handover, keeping the ARP frames whose sender address is a
 * VIP (a gratuitous ARP request or reply, RFC 5227 §3 "ARP Announcement") and the neighbour
 * advertisements whose target is one (RFC 4861 §7.2.6 unsolicited NA). Frames this host sends are
 * skipped (PACKET_OUTGOING), so what is left was announced by someone else.
 *
 * The frames are read as the conflict watch reads them (failover/vip/arp-claim.ts, na-claim.ts),
 * on the same sockets (claim-sockets.ts): ARP only, and a filter that keeps only NAs, so the
 * kernel queues nothing else for us. Non-blocking and polled on the event loop
 * (core/kernel/fd-watch.ts).
 */
import { type FdWatch, watchReadable } from '../../core/kernel/fd-watch.ts';
import { closeFd, interfaceIndex, recvFrom } from '../../core/kernel/libc.ts';
import { canonicalIp, parseIp } from '../../core/net/ip.ts';
import { SOCKADDR_LL_LEN } from '../../failover/vip/announcer.ts';
import { arpClaim } from '../../failover/vip/arp-claim.ts';
import { openArpSocket, openNeighbourAdvertSocket } from '../../failover/vip/claim-sockets.ts';
import { naClaim } from '../../failover/vip/na-claim.ts';
import type { Announcement, AnnouncementWatch } from './types.ts';

const PACKET_OUTGOING = 4;
/** Longer than any ARP frame or NA we parse. */
const SNAP = 1514;
/** Frames read per readiness callback at most, so a flood cannot hold the event loop. */
const BATCH = 256;

/** The VIP a frame announces and the sender's MAC, or null when it announces none of `vips`. */
export function parseAnnouncement(
  frame: Uint8Array,
  vips: ReadonlySet<string>,
): { vip: string; mac: string } | null {
  const claim = arpClaim(frame) ?? naClaim(frame);
  return claim !== null && vips.has(claim.address) ? { vip: claim.address, mac: claim.mac } : null;
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
    const families = new Set(vips.map((v) => parseIp(v).family));
    try {
      if (families.has(4)) this.#tap(openArpSocket(ifindex));
      if (families.has(6)) this.#tap(openNeighbourAdvertSocket(ifindex));
    } catch (err) {
      this.close();
      throw err;
    }
  }

  #tap(fd: number): void {
    try {
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
