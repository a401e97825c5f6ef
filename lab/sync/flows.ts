/**
 * The flows the sync benchmark makes, by index, so the traffic worker and the checker on the
 * standby name the same flow without passing it around: clients in 198.19.0.0/16 (the
 * benchmarking range, outside the lab's host addresses), one source port per 65536 clients.
 */
import type { Flow } from '../../forwarder/layout.ts';

export const CLIENT_NET = [198, 19] as const;

/** Client address bytes (4) and source port of flow `i`. */
export function clientOf(i: number): { addr: Uint8Array; port: number } {
  return {
    addr: Uint8Array.of(CLIENT_NET[0], CLIENT_NET[1], (i >> 8) & 255, i & 255),
    port: 1024 + (i >>> 16),
  };
}

/** The table flow of connection `i` to `vip:port` (IPv4, the map's 16-byte form). */
export function flowOf(i: number, vip: Uint8Array, port: number, proto: number): Flow {
  const c = clientOf(i);
  const src = new Uint8Array(16);
  src.set(c.addr);
  const dst = new Uint8Array(16);
  dst.set(vip.subarray(0, 4));
  return { src, dst, sport: c.port, dport: port, proto, family: 4 };
}
