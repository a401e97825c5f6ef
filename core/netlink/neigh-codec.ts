/**
 * RTM_NEWNEIGH / RTM_DELNEIGH / RTM_GETNEIGH: struct ndmsg (family, ifindex, state, flags, type)
 * plus NDA_* attributes. IPv4 (ARP) and IPv6 (ND) entries only; bridge FDB entries share these
 * message types and the RTNLGRP_NEIGH group, and decode to undefined.
 */
import { DsrError } from '../errors.ts';
import { formatIp, type IpFamily, parseIp } from '../net/ip.ts';
import { formatMac } from '../net/mac.ts';
import { familyNumber } from './address-codec.ts';
import {
  AF_INET,
  AF_INET6,
  NDA_DST,
  NDA_FLAGS_EXT,
  NDA_LLADDR,
  NDMSG_LEN,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_REPLACE,
  NLM_F_REQUEST,
  NTF_EXT_MANAGED,
  NUD_NONE,
  NUD_VALID,
  RTM_DELNEIGH,
  RTM_GETNEIGH,
  RTM_NEWNEIGH,
} from './constants.ts';
import { decodeAttrs, encodeAttrs, type NetlinkRequest, readU32, u32 } from './message.ts';

export interface NeighbourMessage {
  family: IpFamily;
  ifindex: number;
  address: string;
  /** Link-layer address, when the entry has one (it may be stale: see `valid`). */
  mac?: string;
  /** NUD_* state bits. */
  state: number;
  /** NTF_* flags. */
  flags: number;
  /** NTF_EXT_* flags (NDA_FLAGS_EXT), e.g. NTF_EXT_MANAGED. */
  extFlags: number;
  /** The link-layer address may be used to send to this neighbour (the kernel's NUD_VALID). */
  valid: boolean;
}

function ndmsg(family: number, ifindex: number, state: number, flags: number): Buffer {
  const b = Buffer.alloc(NDMSG_LEN);
  b.writeUInt8(family, 0);
  b.writeInt32LE(ifindex, 4);
  b.writeUInt16LE(state, 8);
  b.writeUInt8(flags, 10);
  return b;
}

function checkIfindex(ifindex: number): void {
  if (!Number.isInteger(ifindex) || ifindex <= 0) {
    throw new DsrError('E_NETLINK', `interface index ${ifindex} is not a positive integer`, { ifindex });
  }
}

/** Dumps the ARP (4) or ND (6) table. Dumping AF_UNSPEC would add the bridge FDB: not wanted. */
export function encodeNeighbourDump(family: IpFamily): NetlinkRequest {
  return {
    type: RTM_GETNEIGH,
    flags: NLM_F_REQUEST | NLM_F_DUMP,
    payload: ndmsg(familyNumber(family), 0, 0, 0),
  };
}

/** One entry (RTM_GETNEIGH "doit", Linux 4.20+): answered by RTM_NEWNEIGH, or ENOENT. */
export function encodeNeighbourGet(ifindex: number, address: string): NetlinkRequest {
  checkIfindex(ifindex);
  const ip = parseIp(address);
  return {
    type: RTM_GETNEIGH,
    flags: NLM_F_REQUEST,
    payload: Buffer.concat([
      ndmsg(familyNumber(ip.family), ifindex, 0, 0),
      encodeAttrs([[NDA_DST, ip.bytes]]),
    ]),
  };
}

/**
 * Creates (or turns an existing entry into) a kernel-managed entry: with NTF_EXT_MANAGED the
 * kernel starts resolution at once and then keeps the entry reachable by itself, re-probing
 * before it goes stale (Linux 5.16+, the mechanism Cilium uses for its backends' MACs). State
 * NUD_NONE leaves the MAC to be learnt; a permanent state would be refused with managed.
 */
export function encodeNeighbourManaged(ifindex: number, address: string): NetlinkRequest {
  checkIfindex(ifindex);
  const ip = parseIp(address);
  return {
    type: RTM_NEWNEIGH,
    flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_REPLACE,
    payload: Buffer.concat([
      ndmsg(familyNumber(ip.family), ifindex, NUD_NONE, 0),
      encodeAttrs([
        [NDA_DST, ip.bytes],
        [NDA_FLAGS_EXT, u32(NTF_EXT_MANAGED)],
      ]),
    ]),
  };
}

export function encodeNeighbourDelete(ifindex: number, address: string): NetlinkRequest {
  checkIfindex(ifindex);
  const ip = parseIp(address);
  return {
    type: RTM_DELNEIGH,
    flags: NLM_F_REQUEST | NLM_F_ACK,
    payload: Buffer.concat([
      ndmsg(familyNumber(ip.family), ifindex, 0, 0),
      encodeAttrs([[NDA_DST, ip.bytes]]),
    ]),
  };
}

/** Decodes RTM_NEWNEIGH / RTM_DELNEIGH; undefined for non-IP families. Throws E_DECODE. */
export function decodeNeighbour(payload: Buffer): NeighbourMessage | undefined {
  if (payload.length < NDMSG_LEN) {
    throw new DsrError('E_DECODE', `ndmsg of ${payload.length} bytes`, { length: payload.length });
  }
  const af = payload.readUInt8(0);
  if (af !== AF_INET && af !== AF_INET6) return undefined;
  const family: IpFamily = af === AF_INET ? 4 : 6;
  const attrs = decodeAttrs(payload.subarray(NDMSG_LEN));
  const dst = attrs.get(NDA_DST);
  if (dst === undefined) throw new DsrError('E_DECODE', 'neighbour message without NDA_DST', {});
  if (dst.length !== (family === 4 ? 4 : 16)) {
    throw new DsrError('E_DECODE', `IPv${family} NDA_DST of ${dst.length} bytes`, {});
  }
  const state = payload.readUInt16LE(8);
  const msg: NeighbourMessage = {
    family,
    ifindex: payload.readInt32LE(4),
    address: formatIp(dst),
    state,
    flags: payload.readUInt8(10),
    extFlags: 0,
    valid: false,
  };
  const lladdr = attrs.get(NDA_LLADDR);
  if (lladdr !== undefined && lladdr.length > 0) msg.mac = formatMac(lladdr);
  const ext = attrs.get(NDA_FLAGS_EXT);
  if (ext !== undefined) msg.extFlags = readU32(ext, 'NDA_FLAGS_EXT');
  msg.valid = (state & NUD_VALID) !== 0 && msg.mac !== undefined;
  return msg;
}
