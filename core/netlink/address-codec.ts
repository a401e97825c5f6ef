/**
 * RTM_NEWADDR / RTM_DELADDR / RTM_GETADDR: struct ifaddrmsg (family, prefixlen, flags, scope,
 * ifindex) plus IFA_* attributes. Pure codec.
 */
import { DsrError } from '../errors.ts';
import { formatIp, type IpFamily, parseIp } from '../net/ip.ts';
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  IFA_ADDRESS,
  IFA_CACHEINFO,
  IFA_FLAGS,
  IFA_LABEL,
  IFA_LOCAL,
  IFA_PROTO,
  IFADDRMSG_LEN,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_DUMP,
  NLM_F_EXCL,
  NLM_F_REQUEST,
  RT_SCOPE_UNIVERSE,
  RTM_DELADDR,
  RTM_GETADDR,
  RTM_NEWADDR,
} from './constants.ts';
import {
  type AttrList,
  decodeAttrs,
  encodeAttrs,
  type NetlinkRequest,
  readCstr,
  readU8,
  readU32,
  u8,
  u32,
} from './message.ts';

export interface AddressMessage {
  family: IpFamily;
  ifindex: number;
  /** The interface's own address (IFA_LOCAL, else IFA_ADDRESS: IPv6 carries only the latter). */
  address: string;
  prefixLength: number;
  /** IFA_F_* flags, the 32-bit IFA_FLAGS attribute when present. */
  flags: number;
  scope: number;
  label?: string;
  /** IFA_PROTO: who added the address (Linux 5.18+), when set. */
  proto?: number;
}

export function familyNumber(family: IpFamily): number {
  return family === 4 ? AF_INET : AF_INET6;
}

export interface AddressSpec {
  ifindex: number;
  address: string;
  prefixLength: number;
  /** IFA_F_* flags to set on add (e.g. IFA_F_NODAD for an IPv6 VIP). */
  flags?: number;
  /** IFA_PROTO value to tag the address with, so an operator can tell who added it. */
  proto?: number;
  /**
   * IPv6: add it deprecated (preferred lifetime 0, valid for ever, IFA_CACHEINFO): still ours to
   * receive for, but never chosen as the source of our own connections while another address fits
   * (RFC 6724 §5 rule 3, "avoid deprecated addresses").
   */
  deprecated?: boolean;
}

/** struct ifa_cacheinfo: preferred and valid lifetimes (s; 0xffffffff is for ever), then two stamps the kernel ignores. */
function cacheInfo(preferred: number, valid: number): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt32LE(preferred, 0);
  b.writeUInt32LE(valid, 4);
  return b;
}

const FOREVER = 0xffffffff;

function ifaddrmsg(
  family: number,
  prefixLength: number,
  flags: number,
  scope: number,
  ifindex: number,
): Buffer {
  const b = Buffer.alloc(IFADDRMSG_LEN);
  b.writeUInt8(family, 0);
  b.writeUInt8(prefixLength, 1);
  b.writeUInt8(flags & 0xff, 2);
  b.writeUInt8(scope, 3);
  b.writeUInt32LE(ifindex, 4);
  return b;
}

function checkSpec(spec: AddressSpec): { family: IpFamily; bytes: Buffer } {
  const ip = parseIp(spec.address);
  const max = ip.family === 4 ? 32 : 128;
  if (!Number.isInteger(spec.prefixLength) || spec.prefixLength < 0 || spec.prefixLength > max) {
    throw new DsrError(
      'E_NETLINK',
      `prefix length ${spec.prefixLength} is not 0..${max} for ${spec.address}`,
      {
        ...spec,
      },
    );
  }
  if (!Number.isInteger(spec.ifindex) || spec.ifindex <= 0) {
    throw new DsrError('E_NETLINK', `interface index ${spec.ifindex} is not a positive integer`, { ...spec });
  }
  return ip;
}

/**
 * Adds an address. NLM_F_EXCL makes "already there" an EEXIST the caller can tell apart (an
 * idempotent add treats it as success) instead of silently replacing the existing one's flags.
 */
export function encodeAddressAdd(spec: AddressSpec): NetlinkRequest {
  const ip = checkSpec(spec);
  const flags = spec.flags ?? 0;
  const attrs: [number, Buffer][] = [
    [IFA_LOCAL, ip.bytes],
    [IFA_ADDRESS, ip.bytes],
    [IFA_FLAGS, u32(flags)],
  ];
  if (spec.proto !== undefined) attrs.push([IFA_PROTO, u8(spec.proto)]);
  if (spec.deprecated === true) attrs.push([IFA_CACHEINFO, cacheInfo(0, FOREVER)]);
  return {
    type: RTM_NEWADDR,
    flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
    payload: Buffer.concat([
      ifaddrmsg(familyNumber(ip.family), spec.prefixLength, flags, RT_SCOPE_UNIVERSE, spec.ifindex),
      encodeAttrs(attrs),
    ]),
  };
}

/** Removes an address; the kernel matches address and prefix length on that interface. */
export function encodeAddressRemove(spec: AddressSpec): NetlinkRequest {
  const ip = checkSpec(spec);
  const attrs: AttrList = [
    [IFA_LOCAL, ip.bytes],
    [IFA_ADDRESS, ip.bytes],
  ];
  return {
    type: RTM_DELADDR,
    flags: NLM_F_REQUEST | NLM_F_ACK,
    payload: Buffer.concat([
      ifaddrmsg(familyNumber(ip.family), spec.prefixLength, 0, RT_SCOPE_UNIVERSE, spec.ifindex),
      encodeAttrs(attrs),
    ]),
  };
}

/** Dumps addresses of one family, or of both with family undefined. */
export function encodeAddressDump(family?: IpFamily): NetlinkRequest {
  const af = family === undefined ? AF_UNSPEC : familyNumber(family);
  return { type: RTM_GETADDR, flags: NLM_F_REQUEST | NLM_F_DUMP, payload: ifaddrmsg(af, 0, 0, 0, 0) };
}

/**
 * Decodes the payload of RTM_NEWADDR / RTM_DELADDR. Returns undefined for families other than
 * IPv4/IPv6 (none are expected, but a decoder of kernel data must not assume). Throws E_DECODE.
 */
export function decodeAddress(payload: Buffer): AddressMessage | undefined {
  if (payload.length < IFADDRMSG_LEN) {
    throw new DsrError('E_DECODE', `ifaddrmsg of ${payload.length} bytes`, { length: payload.length });
  }
  const af = payload.readUInt8(0);
  if (af !== AF_INET && af !== AF_INET6) return undefined;
  const family: IpFamily = af === AF_INET ? 4 : 6;
  const attrs = decodeAttrs(payload.subarray(IFADDRMSG_LEN));
  const raw = attrs.get(IFA_LOCAL) ?? attrs.get(IFA_ADDRESS);
  if (raw === undefined) throw new DsrError('E_DECODE', 'address message without IFA_LOCAL/IFA_ADDRESS', {});
  if (raw.length !== (family === 4 ? 4 : 16)) {
    throw new DsrError('E_DECODE', `IPv${family} address attribute of ${raw.length} bytes`, {});
  }
  const msg: AddressMessage = {
    family,
    ifindex: payload.readUInt32LE(4),
    address: formatIp(raw),
    prefixLength: payload.readUInt8(1),
    flags: payload.readUInt8(2),
    scope: payload.readUInt8(3),
  };
  const flags = attrs.get(IFA_FLAGS);
  if (flags !== undefined) msg.flags = readU32(flags, 'IFA_FLAGS');
  const label = attrs.get(IFA_LABEL);
  if (label !== undefined) msg.label = readCstr(label);
  const proto = attrs.get(IFA_PROTO);
  if (proto !== undefined) msg.proto = readU8(proto, 'IFA_PROTO');
  return msg;
}
