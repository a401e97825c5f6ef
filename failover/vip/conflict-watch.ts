/**
 * Watches the wire for other MACs claiming a group's VIPs: ARP claims of its IPv4 VIPs
 * (arp-claim.ts) and Neighbor Advertisements for its IPv6 VIPs (na-claim.ts), each on a packet
 * socket that receives those frames only, on the group's interface only (claim-sockets.ts): a
 * director's data traffic never reaches userspace. A socket is opened only for a family the group
 * has VIPs of. The sockets are non-blocking and drained on one short timer; a segment's ARP and ND
 * traffic is small, and a bounded number of frames is read per socket per turn.
 */
import { isDsrError } from '../../core/errors.ts';
import { closeFd, errnos, recvFrom } from '../../core/kernel/libc.ts';
import { formatIp, tryParseIp } from '../../core/net/ip.ts';
import { arpClaim } from './arp-claim.ts';
import { openArpSocket, openNeighbourAdvertSocket } from './claim-sockets.ts';
import { naClaim } from './na-claim.ts';

const POLL_MS = 50;
const MAX_PER_TURN = 256;
/** Longer than any ARP frame or NA we parse; a longer frame is read truncated and parses as nothing. */
const FRAME_BYTES = 1514;
const SOCKADDR_LL_LEN = 20;

/** A claim of one of our VIPs by another MAC. */
export interface VipConflict {
  readonly address: string;
  readonly mac: string;
}

/** What the VIP owner needs: started while it owns the VIPs, stopped otherwise. */
export interface ConflictWatch {
  /** Reports claims of `addresses` (IPv4 and IPv6) on `ifindex` by any MAC but `ownMac`. */
  watch(
    ifindex: number,
    ownMac: string,
    addresses: readonly string[],
    onConflict: (c: VipConflict) => void,
  ): void;
  stop(): void;
}

interface ClaimSocket {
  readonly fd: number;
  readonly claimOf: (frame: Uint8Array) => VipConflict | null;
  /** Canonical text of the watched addresses of the socket's family. */
  readonly watched: ReadonlySet<string>;
}

/** The canonical text of each valid address of `family` (the parsers write that form). */
function ofFamily(addresses: readonly string[], family: 4 | 6): Set<string> {
  const out = new Set<string>();
  for (const a of addresses) {
    const ip = tryParseIp(a);
    if (ip?.family === family) out.add(formatIp(ip.bytes));
  }
  return out;
}

export class PacketConflictWatch implements ConflictWatch {
  #sockets: ClaimSocket[] = [];
  #timer: NodeJS.Timeout | undefined;

  /** Opens the sockets at once; throws (E_SYSCALL) if one cannot be opened, leaving none open. */
  watch(
    ifindex: number,
    ownMac: string,
    addresses: readonly string[],
    onConflict: (c: VipConflict) => void,
  ): void {
    this.stop();
    const v4 = ofFamily(addresses, 4);
    const v6 = ofFamily(addresses, 6);
    try {
      if (v4.size > 0) this.#sockets.push({ fd: openArpSocket(ifindex), claimOf: arpClaim, watched: v4 });
      if (v6.size > 0) {
        this.#sockets.push({ fd: openNeighbourAdvertSocket(ifindex), claimOf: naClaim, watched: v6 });
      }
    } catch (e) {
      this.stop();
      throw e;
    }
    if (this.#sockets.length === 0) return;
    const own = ownMac.toLowerCase();
    const buf = Buffer.alloc(FRAME_BYTES);
    this.#timer = setInterval(() => {
      for (const s of this.#sockets) {
        if (!this.#drain(s, buf, own, onConflict)) {
          // The socket failed for good (the interface was deleted): the watch ends; the next
          // takeover opens a new one.
          this.stop();
          return;
        }
      }
    }, POLL_MS);
    this.#timer.unref();
  }

  /** Reads what is queued (up to MAX_PER_TURN frames); false when the socket failed for good. */
  #drain(s: ClaimSocket, buf: Buffer, own: string, onConflict: (c: VipConflict) => void): boolean {
    try {
      for (let i = 0; i < MAX_PER_TURN; i++) {
        const r = recvFrom(s.fd, buf, SOCKADDR_LL_LEN);
        if (r === undefined) return true;
        const claim = s.claimOf(buf.subarray(0, Math.min(r.length, buf.length)));
        if (claim !== null && claim.mac !== own && s.watched.has(claim.address)) onConflict(claim);
      }
      return true;
    } catch (e) {
      // The interface went down (carrier loss, `ip link set down`): the read reports ENETDOWN
      // once, and the socket receives again when the link comes back. Anything else ends it.
      return isDsrError(e) && e.context.errno === errnos.ENETDOWN;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const s of this.#sockets.splice(0)) closeFd(s.fd);
  }
}
