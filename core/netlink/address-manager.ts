/**
 * Interface addresses (the VIPs a master holds): the narrow interface the failover code uses, and
 * its rtnetlink implementation. The in-memory fake is fake-address-manager.ts.
 *
 * add and remove are idempotent and say what they did, so a caller re-applying its desired state
 * after a crash or a flap never fails on "already there" / "already gone".
 */

import { isDsrError } from '../errors.ts';
import type { IpFamily } from '../net/ip.ts';
import { decodeAddress, encodeAddressAdd, encodeAddressDump, encodeAddressRemove } from './address-codec.ts';
import { IFA_F_NODAD, RTM_NEWADDR } from './constants.ts';
import { requestNow } from './request-now.ts';
import { NetlinkSocket } from './socket.ts';

export interface InterfaceAddress {
  ifindex: number;
  family: IpFamily;
  address: string;
  prefixLength: number;
  /** IFA_F_* flags. */
  flags: number;
  /** IFA_PROTO: who added the address, when the kernel recorded it. */
  proto?: number;
}

export interface AddOptions {
  /** Skip duplicate address detection (IFA_F_NODAD): an IPv6 VIP must be usable at once. */
  noDad?: boolean;
  /** IFA_PROTO tag; defaults to DSR_ADDRESS_PROTO. */
  proto?: number;
  /** IPv6: never our own connections' source while another address fits (address-codec.ts). */
  deprecated?: boolean;
}

/**
 * IFA_PROTO value dsr-director tags its VIPs with (0-3 are the kernel's own). `ip -d addr` shows it
 * as "proto 213", so an operator can tell a VIP the daemon added from one added by hand.
 */
export const DSR_ADDRESS_PROTO = 213;

export interface AddressManager {
  add(
    ifindex: number,
    address: string,
    prefixLength: number,
    options?: AddOptions,
  ): Promise<'added' | 'present'>;
  remove(ifindex: number, address: string, prefixLength: number): Promise<'removed' | 'absent'>;
  list(ifindex: number): Promise<InterfaceAddress[]>;
  close(): void;
}

function hasErrno(err: unknown, errno: number): boolean {
  return isDsrError(err, 'E_NETLINK') && err.context.errno === errno;
}

const EEXIST = 17;
const EADDRNOTAVAIL = 99;

export class RtnlAddressManager implements AddressManager {
  readonly #socket: NetlinkSocket;

  /** Opens its own rtnetlink socket, in the calling thread's network namespace. */
  constructor(socket: NetlinkSocket = new NetlinkSocket()) {
    this.#socket = socket;
  }

  async add(
    ifindex: number,
    address: string,
    prefixLength: number,
    options: AddOptions = {},
  ): Promise<'added' | 'present'> {
    const flags = options.noDad ? IFA_F_NODAD : 0;
    const req = encodeAddressAdd({
      ifindex,
      address,
      prefixLength,
      flags,
      proto: options.proto ?? DSR_ADDRESS_PROTO,
      deprecated: options.deprecated,
    });
    try {
      await this.#socket.request(req);
      return 'added';
    } catch (err) {
      if (hasErrno(err, EEXIST)) return 'present';
      throw err;
    }
  }

  async remove(ifindex: number, address: string, prefixLength: number): Promise<'removed' | 'absent'> {
    try {
      await this.#socket.request(encodeAddressRemove({ ifindex, address, prefixLength }));
      return 'removed';
    } catch (err) {
      if (hasErrno(err, EADDRNOTAVAIL)) return 'absent';
      throw err;
    }
  }

  async list(ifindex: number): Promise<InterfaceAddress[]> {
    const out: InterfaceAddress[] = [];
    for (const msg of await this.#socket.request(encodeAddressDump())) {
      if (msg.type !== RTM_NEWADDR) continue;
      const a = decodeAddress(msg.payload);
      if (a === undefined || a.ifindex !== ifindex) continue;
      const entry: InterfaceAddress = {
        ifindex: a.ifindex,
        family: a.family,
        address: a.address,
        prefixLength: a.prefixLength,
        flags: a.flags,
      };
      if (a.proto !== undefined) entry.proto = a.proto;
      out.push(entry);
    }
    return out;
  }

  close(): void {
    this.#socket.close();
  }
}

/**
 * remove(), answered before it returns (request-now.ts): for the election thread, which releases
 * a hung main thread's VIPs and has no event loop turn to wait for.
 */
export function removeAddressNow(
  ifindex: number,
  address: string,
  prefixLength: number,
): 'removed' | 'absent' {
  try {
    requestNow(encodeAddressRemove({ ifindex, address, prefixLength }));
    return 'removed';
  } catch (err) {
    if (hasErrno(err, EADDRNOTAVAIL)) return 'absent';
    throw err;
  }
}
