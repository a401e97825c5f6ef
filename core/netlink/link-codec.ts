/**
 * RTM_NEWLINK / RTM_DELLINK / RTM_GETLINK: struct ifinfomsg (family, type, index, flags, change)
 * plus IFLA_* attributes. Only what the director needs: name, MAC, MTU, up/carrier state.
 */
import { DsrError } from '../errors.ts';
import { formatMac } from '../net/mac.ts';
import {
  AF_UNSPEC,
  IFF_LOWER_UP,
  IFF_UP,
  IFINFOMSG_LEN,
  IFLA_ADDRESS,
  IFLA_CARRIER,
  IFLA_IFNAME,
  IFLA_MTU,
  IFLA_OPERSTATE,
  NLM_F_DUMP,
  NLM_F_REQUEST,
  OPER_STATES,
  RTM_GETLINK,
} from './constants.ts';
import { decodeAttrs, type NetlinkRequest, readCstr, readU8, readU32 } from './message.ts';

export interface LinkMessage {
  ifindex: number;
  name?: string;
  /** IFF_* flags. */
  flags: number;
  /** Hardware address, for Ethernet "aa:bb:cc:dd:ee:ff". */
  mac?: string;
  mtu?: number;
  /** RFC 2863 operational state ("up", "down", "lowerlayerdown", "unknown", ...). */
  operState?: string;
  /** Administratively up (IFF_UP). */
  adminUp: boolean;
  /** The driver reports carrier (IFF_LOWER_UP). */
  lowerUp: boolean;
}

function ifinfomsg(ifindex: number): Buffer {
  const b = Buffer.alloc(IFINFOMSG_LEN);
  b.writeUInt8(AF_UNSPEC, 0);
  b.writeInt32LE(ifindex, 4);
  return b;
}

/** One link by index (answered by a single RTM_NEWLINK, or ENODEV). */
export function encodeLinkGet(ifindex: number): NetlinkRequest {
  if (!Number.isInteger(ifindex) || ifindex <= 0) {
    throw new DsrError('E_NETLINK', `interface index ${ifindex} is not a positive integer`, { ifindex });
  }
  return { type: RTM_GETLINK, flags: NLM_F_REQUEST, payload: ifinfomsg(ifindex) };
}

export function encodeLinkDump(): NetlinkRequest {
  return { type: RTM_GETLINK, flags: NLM_F_REQUEST | NLM_F_DUMP, payload: ifinfomsg(0) };
}

/** Decodes the payload of RTM_NEWLINK / RTM_DELLINK. Throws E_DECODE. */
export function decodeLink(payload: Buffer): LinkMessage {
  if (payload.length < IFINFOMSG_LEN) {
    throw new DsrError('E_DECODE', `ifinfomsg of ${payload.length} bytes`, { length: payload.length });
  }
  const flags = payload.readUInt32LE(8);
  const msg: LinkMessage = {
    ifindex: payload.readInt32LE(4),
    flags,
    adminUp: (flags & IFF_UP) !== 0,
    lowerUp: (flags & IFF_LOWER_UP) !== 0,
  };
  const attrs = decodeAttrs(payload.subarray(IFINFOMSG_LEN));
  const name = attrs.get(IFLA_IFNAME);
  if (name !== undefined) msg.name = readCstr(name);
  const mac = attrs.get(IFLA_ADDRESS);
  if (mac !== undefined && mac.length > 0) msg.mac = formatMac(mac);
  const mtu = attrs.get(IFLA_MTU);
  if (mtu !== undefined) msg.mtu = readU32(mtu, 'IFLA_MTU');
  const oper = attrs.get(IFLA_OPERSTATE);
  if (oper !== undefined) {
    const n = readU8(oper, 'IFLA_OPERSTATE');
    msg.operState = OPER_STATES[n] ?? `state ${n}`;
  }
  const carrier = attrs.get(IFLA_CARRIER);
  if (carrier !== undefined && readU8(carrier, 'IFLA_CARRIER') === 0) msg.lowerUp = false;
  return msg;
}
