/**
 * The lab's address plan. Only the benchmarking ranges 198.18.0.0/15
 * (RFC 2544/RFC 6815) and 2001:2::/48 (RFC 5180) are ever used: they are
 * reserved for exactly this and never routed to anyone else.
 */
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { DsrError } from '../core/errors.ts';

const allowed = new BlockList();
allowed.addSubnet('198.18.0.0', 15, 'ipv4');
allowed.addSubnet('2001:2::', 48, 'ipv6');

export function isLabAddress(addr: string): boolean {
  if (isIPv4(addr)) return allowed.check(addr, 'ipv4');
  if (isIPv6(addr)) return allowed.check(addr, 'ipv6');
  return false;
}

export function assertLabAddress(addr: string): string {
  if (!isLabAddress(addr)) {
    throw new DsrError(
      'E_LAB_ADDRESS',
      `${addr} is not in 198.18.0.0/15 or 2001:2::/48; the lab uses no other`,
      {
        addr,
      },
    );
  }
  return addr;
}

export type HostRole = 'client' | 'director' | 'realserver';

/** Host number on the LAN: directors .2+, clients .10+, real servers .100+. */
export function hostNumber(role: HostRole, index: number): number {
  const base = role === 'director' ? 2 : role === 'client' ? 10 : 100;
  const limit = role === 'director' ? 8 : role === 'client' ? 90 : 99;
  if (index < 0 || index >= limit) {
    throw new DsrError('E_LAB_STATE', `a lab holds at most ${limit} hosts of role ${role}`, { role, index });
  }
  return base + index;
}

export const LAN4_PREFIX = '198.18.0.';
export const LAN6_PREFIX = '2001:2::';
export const DEFAULT_VIP4 = '198.18.0.200';
export const DEFAULT_VIP6 = '2001:2::200';

export function hostAddresses(n: number): { ipv4: string; ipv6: string } {
  // The IPv6 host part reuses the IPv4 digits (read as hex) so 198.18.0.100 pairs with 2001:2::100.
  return { ipv4: assertLabAddress(`${LAN4_PREFIX}${n}`), ipv6: assertLabAddress(`${LAN6_PREFIX}${n}`) };
}

/** Locally administered, unicast MACs: 02:d5:00:00:<role>:<index>. */
export function hostMac(role: HostRole, index: number): string {
  const r = role === 'director' ? 1 : role === 'client' ? 2 : 3;
  return `02:d5:00:00:${r.toString(16).padStart(2, '0')}:${index.toString(16).padStart(2, '0')}`;
}
