/**
 * Watches the wire for ARP claims to a group's VIPs from other MACs (arp-claim.ts), on an AF_PACKET
 * socket that receives only ARP (protocol ETH_P_ARP) on the group's interface: a director's data
 * traffic never reaches it. The socket is non-blocking and drained on a short timer; a segment's
 * ARP traffic is small, and a bounded number of frames is read per turn.
 *
 * IPv6 (unsolicited NAs from another MAC) is not watched: an ICMPv6-only socket would need a
 * socket filter, and an IPv6 packet socket without one would see every forwarded packet.
 */
import { AF_PACKET, bindSocket, closeFd, openSocket, recvFrom, SOCK_RAW } from '../../core/kernel/libc.ts';
import { arpClaim } from './arp-claim.ts';

const ETH_P_ARP = 0x0806;
const POLL_MS = 50;
const MAX_PER_TURN = 256;

/** A claim of one of our VIPs by another MAC. */
export interface VipConflict {
  readonly address: string;
  readonly mac: string;
}

/** What the VIP owner needs: started while it owns the VIPs, stopped otherwise. */
export interface ConflictWatch {
  /** Reports claims of `addresses` on `ifindex` by any MAC but `ownMac`. */
  watch(
    ifindex: number,
    ownMac: string,
    addresses: readonly string[],
    onConflict: (c: VipConflict) => void,
  ): void;
  stop(): void;
}

const htons = (n: number): number => ((n & 0xff) << 8) | (n >> 8);

/** An AF_PACKET socket that receives only ARP, on `ifindex` only (non-blocking, like every socket here). */
export function openArpSocket(ifindex: number): number {
  const fd = openSocket(AF_PACKET, SOCK_RAW, htons(ETH_P_ARP));
  try {
    const sa = Buffer.alloc(20); // struct sockaddr_ll
    sa.writeUInt16LE(AF_PACKET, 0);
    sa.writeUInt16BE(ETH_P_ARP, 2);
    sa.writeInt32LE(ifindex, 4);
    bindSocket(fd, sa);
  } catch (e) {
    closeFd(fd);
    throw e;
  }
  return fd;
}

export class PacketConflictWatch implements ConflictWatch {
  #fd: number | undefined;
  #timer: NodeJS.Timeout | undefined;

  watch(
    ifindex: number,
    ownMac: string,
    addresses: readonly string[],
    onConflict: (c: VipConflict) => void,
  ): void {
    this.stop();
    const fd = openArpSocket(ifindex);
    this.#fd = fd;
    const own = ownMac.toLowerCase();
    const watched = new Set(addresses);
    const buf = Buffer.alloc(128);
    this.#timer = setInterval(() => {
      try {
        for (let i = 0; i < MAX_PER_TURN; i++) {
          const r = recvFrom(fd, buf, 20);
          if (r === undefined) return;
          const claim = arpClaim(buf.subarray(0, Math.min(r.length, buf.length)));
          if (claim !== null && claim.mac !== own && watched.has(claim.address)) onConflict(claim);
        }
      } catch {
        // The socket failed (interface gone): the watch ends; the next takeover opens a new one.
        this.stop();
      }
    }, POLL_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#fd !== undefined) closeFd(this.#fd);
    this.#fd = undefined;
  }
}
