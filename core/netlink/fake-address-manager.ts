/**
 * In-memory AddressManager for unit tests: the same idempotent results as the kernel, a log of
 * every call, and injectable failures.
 */
import { DsrError } from '../errors.ts';
import { canonicalIp, parseIp } from '../net/ip.ts';
import type { AddOptions, AddressManager, InterfaceAddress } from './address-manager.ts';
import { DSR_ADDRESS_PROTO } from './address-manager.ts';
import { IFA_F_NODAD, IFA_F_PERMANENT } from './constants.ts';

export interface FakeAddressCall {
  op: 'add' | 'remove' | 'list';
  ifindex: number;
  address?: string;
  prefixLength?: number;
}

export class FakeAddressManager implements AddressManager {
  readonly calls: FakeAddressCall[] = [];
  readonly #addresses = new Map<number, InterfaceAddress[]>();
  readonly #failures: { op: FakeAddressCall['op']; error: Error }[] = [];
  closed = false;

  /** Interfaces that exist; an operation on another index fails like the kernel (ENODEV). */
  readonly interfaces: number[];

  constructor(interfaces: number[] = [1, 2]) {
    this.interfaces = interfaces;
  }

  /** Makes the next call of `op` fail with `error` (once). */
  failNext(op: FakeAddressCall['op'], error: Error): void {
    this.#failures.push({ op, error });
  }

  /** Puts an address in place as if someone else (or a crashed run) had added it. */
  preset(ifindex: number, address: string, prefixLength: number, proto?: number): void {
    const list = this.#addresses.get(ifindex) ?? [];
    list.push({
      ifindex,
      family: parseIp(address).family,
      address: canonicalIp(address),
      prefixLength,
      flags: IFA_F_PERMANENT,
      proto,
    });
    this.#addresses.set(ifindex, list);
  }

  /** The addresses now on an interface, as "addr/prefix" strings. */
  current(ifindex: number): string[] {
    return (this.#addresses.get(ifindex) ?? []).map((a) => `${a.address}/${a.prefixLength}`);
  }

  #check(op: FakeAddressCall['op'], ifindex: number): void {
    const i = this.#failures.findIndex((f) => f.op === op);
    if (i >= 0) {
      const [f] = this.#failures.splice(i, 1);
      throw f.error;
    }
    if (!this.interfaces.includes(ifindex)) {
      throw new DsrError('E_NETLINK', `no interface with index ${ifindex} (ENODEV)`, {
        errno: 19,
        errnoName: 'ENODEV',
      });
    }
  }

  async add(
    ifindex: number,
    address: string,
    prefixLength: number,
    options: AddOptions = {},
  ): Promise<'added' | 'present'> {
    this.calls.push({ op: 'add', ifindex, address, prefixLength });
    this.#check('add', ifindex);
    const canonical = canonicalIp(address);
    const list = this.#addresses.get(ifindex) ?? [];
    if (list.some((a) => a.address === canonical && a.prefixLength === prefixLength)) return 'present';
    list.push({
      ifindex,
      family: parseIp(address).family,
      address: canonical,
      prefixLength,
      flags: IFA_F_PERMANENT | (options.noDad ? IFA_F_NODAD : 0),
      proto: options.proto ?? DSR_ADDRESS_PROTO,
    });
    this.#addresses.set(ifindex, list);
    return 'added';
  }

  async remove(ifindex: number, address: string, prefixLength: number): Promise<'removed' | 'absent'> {
    this.calls.push({ op: 'remove', ifindex, address, prefixLength });
    this.#check('remove', ifindex);
    const canonical = canonicalIp(address);
    const list = this.#addresses.get(ifindex) ?? [];
    const i = list.findIndex((a) => a.address === canonical && a.prefixLength === prefixLength);
    if (i < 0) return 'absent';
    list.splice(i, 1);
    return 'removed';
  }

  async list(ifindex: number): Promise<InterfaceAddress[]> {
    this.calls.push({ op: 'list', ifindex });
    this.#check('list', ifindex);
    return (this.#addresses.get(ifindex) ?? []).map((a) => ({ ...a }));
  }

  close(): void {
    this.closed = true;
  }
}
