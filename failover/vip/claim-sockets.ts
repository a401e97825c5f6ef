/**
 * The packet sockets the conflict watch (conflict-watch.ts) reads claims from, one per address
 * family, each bound to one interface, non-blocking like every socket here, and each receiving the
 * claims of its family and nothing else: a director's data traffic never reaches userspace.
 *
 * - IPv4: protocol ETH_P_ARP. The kernel hands the socket ARP frames only (arp-claim.ts).
 * - IPv6: there is no EtherType for Neighbor Discovery, and an ETH_P_IPV6 socket alone would see
 *   every IPv6 packet the host receives or sends. A classic BPF socket filter (NA_FILTER) keeps
 *   ICMPv6 type 136, the Neighbor Advertisement (RFC 4861 §4.4, na-claim.ts), and drops the rest
 *   in the kernel, before anything is queued.
 *
 * Both are opened with protocol 0, which hooks a packet socket to no traffic, and start receiving
 * only when bound with their protocol and interface: the IPv6 one after its filter is on, so no
 * unfiltered frame can be queued between socket() and the filter (nor, for either, a frame from
 * another interface between socket() and bind()).
 *
 * NA_FILTER reads fixed frame offsets: the ICMPv6 header right after the IPv6 header. NAs carry no
 * extension headers in practice, and na-claim.ts does not follow them either. A VLAN interface
 * hands its sockets untagged frames, so the offsets hold there too.
 */
import {
  BPF_ABS,
  BPF_B,
  BPF_H,
  BPF_JEQ,
  BPF_JMP,
  BPF_K,
  BPF_LD,
  BPF_RET,
  jump,
  type SockFilter,
  stmt,
} from '../../core/kernel/classic-bpf.ts';
import {
  AF_PACKET,
  attachSocketFilter,
  bindSocket,
  closeFd,
  openSocket,
  SOCK_RAW,
} from '../../core/kernel/libc.ts';
import { SOCKADDR_LL_LEN } from './announcer.ts';
import { ETH_P_ARP, ETH_P_IPV6, IPPROTO_ICMPV6, ND_NEIGHBOR_ADVERT } from './frames.ts';

/** Frame offsets: EtherType; IPv6 next header (14 + 6); ICMPv6 type (14 + 40). */
const AT_ETHERTYPE = 12;
const AT_NEXT_HEADER = 20;
const AT_ICMPV6_TYPE = 54;
/** Bytes of an accepted frame to keep: all of it (an NA is far shorter). */
const KEEP_ALL = 0xffff;

/**
 * Accepts an IPv6 frame carrying ICMPv6 type 136 (Neighbor Advertisement); drops every other frame.
 * A jump's jt/jf count the instructions skipped: each failed test lands on the last one, the drop.
 */
export const NA_FILTER: readonly SockFilter[] = [
  stmt(BPF_LD | BPF_H | BPF_ABS, AT_ETHERTYPE),
  jump(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 5),
  stmt(BPF_LD | BPF_B | BPF_ABS, AT_NEXT_HEADER),
  jump(BPF_JMP | BPF_JEQ | BPF_K, IPPROTO_ICMPV6, 0, 3),
  stmt(BPF_LD | BPF_B | BPF_ABS, AT_ICMPV6_TYPE),
  jump(BPF_JMP | BPF_JEQ | BPF_K, ND_NEIGHBOR_ADVERT, 0, 1),
  stmt(BPF_RET | BPF_K, KEEP_ALL),
  stmt(BPF_RET | BPF_K, 0),
];

/** bind(2) a packet socket to `ifindex`, for frames of EtherType `protocol` (struct sockaddr_ll). */
export function bindPacketSocket(fd: number, ifindex: number, protocol: number): void {
  const sa = Buffer.alloc(SOCKADDR_LL_LEN);
  sa.writeUInt16LE(AF_PACKET, 0);
  sa.writeUInt16BE(protocol, 2);
  sa.writeInt32LE(ifindex, 4);
  bindSocket(fd, sa);
}

/** Runs `setup` on a new socket; closes it if that throws. */
function opened(fd: number, setup: (fd: number) => void): number {
  try {
    setup(fd);
  } catch (e) {
    closeFd(fd);
    throw e;
  }
  return fd;
}

/** An AF_PACKET socket that receives only ARP, on `ifindex` only. */
export function openArpSocket(ifindex: number): number {
  return opened(openSocket(AF_PACKET, SOCK_RAW, 0), (fd) => bindPacketSocket(fd, ifindex, ETH_P_ARP));
}

/** An AF_PACKET socket that receives only Neighbor Advertisements, on `ifindex` only. */
export function openNeighbourAdvertSocket(ifindex: number): number {
  return opened(openSocket(AF_PACKET, SOCK_RAW, 0), (fd) => {
    attachSocketFilter(fd, NA_FILTER);
    bindPacketSocket(fd, ifindex, ETH_P_IPV6);
  });
}
