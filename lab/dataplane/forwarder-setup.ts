/**
 * The desired forwarder state of the benchmarks: services on the lab VIP with
 * real servers of known MACs, in the reconciler's own terms, so the benchmark
 * configures the program exactly as the daemon does (forwarder/reconciler.ts
 * through forwarder/harness.ts).
 */
import type { DesiredService, DesiredState } from '../../forwarder/reconciler.ts';

export interface BenchReal {
  addr: string;
  mac: string;
}

export function benchService(
  vip: string,
  protocol: 'tcp' | 'udp',
  port: number,
  reals: readonly BenchReal[],
  persistSec?: number,
): DesiredService {
  return {
    vip,
    protocol,
    port,
    ...(persistSec === undefined ? {} : { persistence: { timeoutSec: persistSec } }),
    reals: reals.map((r) => ({ address: r.addr, weight: 1, mac: r.mac })),
  };
}

export function benchDesired(directorMac: string, services: DesiredService[]): DesiredState {
  return { directorMac, services };
}

/** Reconciler service name (as in its reports), e.g. "tcp/198.18.0.200:80". */
export const benchServiceName = (protocol: 'tcp' | 'udp', vip: string, port: number): string =>
  `${protocol}/${vip}:${port}`;
