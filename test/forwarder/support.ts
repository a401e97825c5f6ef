/**
 * Shared set-up of the forwarder's BPF tests: root check, one build of the
 * object, a standard service set and helpers to read frames.
 */
import type { ExecutionContext } from 'ava';
import { formatMac } from '../../core/net/mac.ts';
import { buildBpf } from '../../forwarder/bpf-build.ts';
import { createForwarderInstance, type ForwarderInstance } from '../../forwarder/harness.ts';
import { decodeEvent, type ForwarderEvent } from '../../forwarder/layout.ts';
import type { LoadOptions } from '../../forwarder/loader.ts';
import type { DesiredService, DesiredState } from '../../forwarder/reconciler.ts';
import { requireRoot } from '../../lab/require-root.ts';

export const skipReason = requireRoot();
if (!skipReason) buildBpf({ quiet: true });

export const DIRECTOR_MAC = '02:d5:00:00:00:01';
export const CLIENT_MAC = '02:d5:00:00:00:02';
export const REAL_MACS = ['02:d5:00:00:10:01', '02:d5:00:00:10:02', '02:d5:00:00:10:03'];
export const REAL4 = ['198.18.0.100', '198.18.0.101', '198.18.0.102'];
export const VIP4 = '198.18.0.200';
export const VIP4_ALL_PORTS = '198.18.0.201';
export const VIP4_PERSIST = '198.18.0.202';
export const VIP6 = '2001:2::200';
export const CLIENT4 = '198.18.1.10';
export const CLIENT6 = '2001:2::1:10';

export function reals(weights = [1, 1, 1]): DesiredService['reals'] {
  return REAL4.map((address, i) => ({ address, weight: weights[i], mac: REAL_MACS[i] }));
}

/** tcp and udp on VIP4:80/53, every udp port of VIP4_ALL_PORTS, tcp VIP6:80, persistent tcp VIP4_PERSIST:443. */
export function standardDesired(weights = [1, 1, 1]): DesiredState {
  return {
    directorMac: DIRECTOR_MAC,
    services: [
      { vip: VIP4, protocol: 'tcp', port: 80, reals: reals(weights) },
      { vip: VIP4, protocol: 'udp', port: 53, reals: reals(weights) },
      { vip: VIP4_ALL_PORTS, protocol: 'udp', port: 0, reals: reals(weights) },
      { vip: VIP6, protocol: 'tcp', port: 80, reals: reals(weights) },
      {
        vip: VIP4_PERSIST,
        protocol: 'tcp',
        port: 443,
        persistence: { timeoutSec: 600, prefixLen: 24 },
        reals: reals(weights),
      },
    ],
  };
}

/** A loaded, configured instance removed in the test's teardown. */
export function instance(
  t: ExecutionContext,
  desired = standardDesired(),
  load: LoadOptions = {},
): ForwarderInstance {
  const fwd = createForwarderInstance({
    desired,
    load: { connEntries: 65536, persistEntries: 4096, ...load },
  });
  t.teardown(() => fwd.destroy());
  return fwd;
}

export const dstMac = (frame: Uint8Array): string => formatMac(frame.subarray(0, 6));
export const srcMac = (frame: Uint8Array): string => formatMac(frame.subarray(6, 12));

/** Index into REAL_MACS of the frame's destination, or -1. */
export function realIndex(frame: Uint8Array): number {
  return REAL_MACS.indexOf(dstMac(frame));
}

/** Program clock (bpf_ktime_get_ns is CLOCK_MONOTONIC, as is process.hrtime). */
export const nowNs = (): bigint => process.hrtime.bigint();

/** The program's events, read from its ring when asked (closed with the test). */
export function eventReader(t: ExecutionContext, fwd: ForwarderInstance): { drain(): ForwarderEvent[] } {
  const ring = fwd.ring();
  t.teardown(() => ring.close());
  return {
    drain() {
      const out: ForwarderEvent[] = [];
      ring.drain((d, at, size) => out.push(decodeEvent(new Uint8Array(d.buffer, d.byteOffset + at, size))));
      return out;
    },
  };
}
