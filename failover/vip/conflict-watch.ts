/**
 * Watches the wire for other MACs claiming a group's VIPs: ARP claims of its IPv4 VIPs
 * (arp-claim.ts) and Neighbor Advertisements for its IPv6 VIPs (na-claim.ts), each on a packet
 * socket that receives those frames only, on the group's interface only (claim-sockets.ts): a
 * director's data traffic never reaches userspace. A socket is opened only for a family the group
 * has VIPs of. The sockets are non-blocking and drained on one short timer; a segment's ARP and ND
 * traffic is small, and a bounded number of frames is read per socket per turn.
 *
 * It also asks: an ARP probe for each IPv4 VIP (RFC 5227, sender 0.0.0.0, so no cache learns from
 * it) PROBE_FIRST_MS after the watch starts and every PROBE_EVERY_MS after. The master does not
 * answer its own probe; a real server that would answer ARP for the VIP (arp_ignore=0, the classic
 * DSR misconfiguration), a zombie director or any other host holding the VIP does, and its answer
 * is a claim like any other: found before it bites (before that host announces the VIP on its
 * own, when it next resolves its gateway from the VIP). IPv6 is not asked: a Linux real server
 * answers Neighbor Solicitations for every address it holds, so the answer would not tell a
 * misconfigured one from a correct one.
 */
import { isDsrError } from '../../core/errors.ts';
import { closeFd, errnos, recvFrom, sendTo } from '../../core/kernel/libc.ts';
import { formatIp, tryParseIp } from '../../core/net/ip.ts';
import { SOCKADDR_LL_LEN, sockaddrLl } from './announcer.ts';
import { arpClaim } from './arp-claim.ts';
import { openArpSocket, openNeighbourAdvertSocket } from './claim-sockets.ts';
import { arpProbe } from './frames.ts';
import { naClaim } from './na-claim.ts';

const POLL_MS = 50;
const MAX_PER_TURN = 256;
/** Longer than any ARP frame or NA we parse; a longer frame is read truncated and parses as nothing. */
const FRAME_BYTES = 1514;
/** The first probe: after the takeover's own announcements have gone out. */
export const PROBE_FIRST_MS = 1000;
/** Then: a misconfigured real server found within a minute, at a few frames a minute. */
export const PROBE_EVERY_MS = 30_000;

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
  #probeTimers: NodeJS.Timeout[] = [];

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
    const arp = this.#sockets.find((s) => s.claimOf === arpClaim);
    if (arp !== undefined) this.#startProbes(arp.fd, ifindex, ownMac, [...v4]);
  }

  /** ARP probes for the IPv4 VIPs, now and then (see the header); a failed send waits for the next. */
  #startProbes(fd: number, ifindex: number, ownMac: string, vips: readonly string[]): void {
    const frames = vips.map((v) => arpProbe(ownMac, v));
    const to = sockaddrLl(ifindex, frames[0]);
    const probe = (): void => {
      for (const f of frames) {
        try {
          sendTo(fd, f, to);
        } catch {
          // The link is down or the interface went away: the next probe, or the next watch.
        }
      }
    };
    const first = setTimeout(probe, PROBE_FIRST_MS);
    const every = setInterval(probe, PROBE_EVERY_MS);
    first.unref();
    every.unref();
    this.#probeTimers.push(first, every);
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
    for (const t of this.#probeTimers.splice(0)) clearTimeout(t);
    for (const s of this.#sockets.splice(0)) closeFd(s.fd);
  }
}
