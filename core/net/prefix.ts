/** Prefix lengths as netmasks, and masking an address with one (persistence by client subnet). */
import { DsrError } from '../errors.ts';
import type { IpFamily } from './ip.ts';

/** The netmask of a prefix length (/24, /64 ...): 4 bytes for IPv4, 16 for IPv6. Throws E_ADDRESS_INVALID. */
export function prefixMask(family: IpFamily, prefixLen: number): Uint8Array {
  const bits = family === 4 ? 32 : 128;
  if (!Number.isInteger(prefixLen) || prefixLen < 0 || prefixLen > bits) {
    throw new DsrError('E_ADDRESS_INVALID', `prefix length ${prefixLen} is not in 0..${bits}`, {
      family,
      prefixLen,
    });
  }
  const mask = new Uint8Array(bits / 8);
  for (let i = 0; i < prefixLen; i++) mask[i >> 3] |= 0x80 >> (i & 7);
  return mask;
}

/** `addr` AND `mask`, byte by byte, as long as `addr`; `mask` is at least as long. */
export function maskBytes(addr: Uint8Array, mask: Uint8Array): Uint8Array {
  const out = new Uint8Array(addr.length);
  for (let i = 0; i < addr.length; i++) out[i] = addr[i] & mask[i];
  return out;
}
