/**
 * Announcing VIPs on the wire: the narrow interface, and its AF_PACKET implementation. The fake
 * is fake-announcer.ts. Frame layouts and the choice of ARP forms are in frames.ts.
 *
 * One `announce` call sends one round: for each IPv4 VIP a gratuitous ARP per configured form,
 * for each IPv6 VIP one unsolicited NA. Bursts and refresh timing belong to the caller
 * (vip-owner.ts). A frame the kernel will not take (full queue, interface down) is counted as
 * failed, not thrown: the next round sends it again.
 */
import { isDsrError } from '../../core/errors.ts';
import { AF_PACKET, closeFd, openSocket, SOCK_RAW, sendTo, WOULD_BLOCK } from '../../core/kernel/libc.ts';
import { parseIp } from '../../core/net/ip.ts';
import { type ArpForm, gratuitousArp, unsolicitedNeighbourAdvert } from './frames.ts';

export interface AnnounceResult {
  sent: number;
  failed: number;
  /** The errno name of the last failure, e.g. "ENETDOWN" or "EAGAIN". */
  lastError?: string;
}

/** One interface's share of a group's round: its MAC and the group's VIPs on it. */
export interface AnnounceTarget {
  readonly ifindex: number;
  readonly mac: string;
  readonly addresses: readonly string[];
}

/** Adds `r` into `total` (a round over several interfaces). */
export function addAnnounceResult(total: AnnounceResult, r: AnnounceResult): void {
  total.sent += r.sent;
  total.failed += r.failed;
  if (r.lastError !== undefined) total.lastError = r.lastError;
}

/** A round built ahead: calling it only sends (each call sends the round again). */
export type PreparedRound = () => AnnounceResult;

export interface Announcer {
  /** Sends one round for `addresses` on interface `ifindex`, whose MAC is `mac`. */
  announce(ifindex: number, mac: string, addresses: readonly string[]): AnnounceResult;
  /** The same round, its frames built now: for a takeover, where every µs before the send counts. */
  prepare(ifindex: number, mac: string, addresses: readonly string[]): PreparedRound;
  close(): void;
}

/** The frames of one round, in the order they are sent. Pure; shared by the real and fake announcers. */
export function roundFrames(
  mac: string,
  addresses: readonly string[],
  arpForms: readonly ArpForm[],
): Buffer[] {
  const frames: Buffer[] = [];
  for (const address of addresses) {
    if (parseIp(address).family === 4)
      for (const form of arpForms) frames.push(gratuitousArp(mac, address, form));
    else frames.push(unsolicitedNeighbourAdvert(mac, address));
  }
  return frames;
}

/** struct sockaddr_ll (packet(7)): what a packet socket is bound with, and names a frame's sender. */
export const SOCKADDR_LL_LEN = 20;

/** struct sockaddr_ll for sending a frame out of `ifindex`; the frame carries its own Ethernet header. */
export function sockaddrLl(ifindex: number, frame: Buffer): Buffer {
  const sa = Buffer.alloc(SOCKADDR_LL_LEN);
  sa.writeUInt16LE(AF_PACKET, 0);
  frame.copy(sa, 2, 12, 14); // sll_protocol: the frame's EtherType, network order
  sa.writeInt32LE(ifindex, 4);
  sa.writeUInt8(6, 11); // sll_halen
  frame.copy(sa, 12, 0, 6); // sll_addr: destination MAC
  return sa;
}

export interface PacketAnnouncerOptions {
  /** Which gratuitous ARP forms to send per IPv4 VIP (frames.ts explains both). Default both. */
  arpForms?: readonly ArpForm[];
}

/**
 * AF_PACKET, SOCK_RAW, protocol 0: a send-only socket (protocol 0 means the kernel queues no
 * received frames to it), non-blocking like every socket here.
 */
export class PacketAnnouncer implements Announcer {
  readonly #fd: number;
  readonly #forms: readonly ArpForm[];
  #closed = false;

  /** Opens the socket at once, in the calling thread's network namespace. Needs CAP_NET_RAW. */
  constructor(options: PacketAnnouncerOptions = {}) {
    this.#forms = options.arpForms ?? ['request', 'reply'];
    this.#fd = openSocket(AF_PACKET, SOCK_RAW, 0);
  }

  announce(ifindex: number, mac: string, addresses: readonly string[]): AnnounceResult {
    return this.prepare(ifindex, mac, addresses)();
  }

  prepare(ifindex: number, mac: string, addresses: readonly string[]): PreparedRound {
    const frames = roundFrames(mac, addresses, this.#forms).map((frame) => ({
      frame,
      to: sockaddrLl(ifindex, frame),
    }));
    return () => this.#send(frames, addresses.length);
  }

  #send(frames: readonly { frame: Buffer; to: Buffer }[], addressCount: number): AnnounceResult {
    const result: AnnounceResult = { sent: 0, failed: 0 };
    if (this.#closed) {
      result.failed = addressCount;
      result.lastError = 'closed';
      return result;
    }
    for (const { frame, to } of frames) {
      try {
        if (sendTo(this.#fd, frame, to) === WOULD_BLOCK) {
          result.failed++;
          result.lastError = 'EAGAIN';
        } else {
          result.sent++;
        }
      } catch (err) {
        result.failed++;
        result.lastError = isDsrError(err) ? String(err.context.errnoName ?? err.code) : String(err);
      }
    }
    return result;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeFd(this.#fd);
  }
}
