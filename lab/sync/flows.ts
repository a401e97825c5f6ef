/**
 * Synthetic flows for the sync benchmark: flow i is a TCP connection from
 * 198.19.x.y:port to the VIP, with x, y and port derived from i, so either
 * side can tell which flow an entry is without any extra field on the wire.
 */
import type { SyncEntry } from '../../sync/entries.ts';

export const BENCH_VIP = [198, 18, 0, 200];
export const BENCH_REALS = ['198.18.0.100', '198.18.0.101', '198.18.0.102'];
export const MAX_FLOWS = 1 << 24;

export function flowEntry(i: number): SyncEntry {
  return {
    kind: 'conn',
    proto: 6,
    client: new Uint8Array([198, 19, (i >> 8) & 0xff, i & 0xff]),
    clientPort: 1024 + (i >> 16),
    vip: new Uint8Array(BENCH_VIP),
    vport: 80,
    realServer: new Uint8Array([198, 18, 0, 100 + (i % 3)]),
    tcpState: 2,
    lifetimeMs: 900_000,
  };
}

/** The flow index of an entry made by flowEntry, or -1. */
export function flowIndex(e: SyncEntry): number {
  if (e.client.length !== 4 || e.client[0] !== 198 || e.client[1] !== 19) return -1;
  return ((e.clientPort - 1024) << 16) | (e.client[2] << 8) | e.client[3];
}

export const hrNowNs = (): bigint => process.hrtime.bigint();
