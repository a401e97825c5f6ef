/**
 * A spoofed ACK flood against the forwarder's connection table, on a forwarder of its own (no
 * daemon, no pins), side by side with and without SYN-only entries: `live` long-lived connections
 * are opened (SYN, ACK), then `flood` ACKs from as many distinct sources arrive; how many of the
 * live connections are still in the table after it? The table is small (the LRU evicts the coldest
 * when full), so a flood that makes entries pushes live flows out.
 */

import { buildFrame, TCP_ACK, TCP_SYN } from '../../forwarder/frames.ts';
import { createForwarderInstance } from '../../forwarder/harness.ts';
import { DSR } from '../../forwarder/layout.ts';
import type { DesiredState } from '../../forwarder/reconciler.ts';
import { clientOf, flowOf } from './flows.ts';

const VIP = '198.18.0.200';
const DIRECTOR_MAC = '02:d5:00:00:0f:01';

export interface FloodResult {
  synOnly: boolean;
  live: number;
  flood: number;
  /** Live connections no longer in the table after the flood. */
  evicted: number;
  /** Entries the flood made (new flows the program counted), and packets it sent statelessly. */
  floodEntries: number;
  stateless: number;
  seconds: number;
}

export function ackFlood(o: {
  synOnly: boolean;
  live: number;
  flood: number;
  tableSize: number;
}): FloodResult {
  const desired: DesiredState = {
    directorMac: DIRECTOR_MAC,
    services: [
      {
        vip: VIP,
        protocol: 'tcp',
        port: 80,
        reals: [1, 2, 3].map((n) => ({
          address: `198.18.0.${100 + n}`,
          weight: 1,
          mac: `02:d5:00:00:10:0${n}`,
        })),
      },
    ],
    settings: { synOnly: o.synOnly },
  };
  const fwd = createForwarderInstance({ desired, load: { connEntries: o.tableSize } });
  try {
    const f = buildFrame({
      srcMac: '02:d5:00:00:ff:02',
      dstMac: DIRECTOR_MAC,
      src: '198.19.0.1',
      dst: VIP,
      proto: 'tcp',
      sport: 1024,
      dport: 80,
    });
    const patch = (i: number, flags: number) => {
      const c = clientOf(i);
      f.set(c.addr, 26);
      f[34] = c.port >> 8;
      f[35] = c.port & 255;
      f[47] = flags;
    };
    for (let i = 0; i < o.live; i++) {
      patch(i, TCP_SYN);
      fwd.send(f);
      patch(i, TCP_ACK);
      fwd.send(f);
    }
    const before = fwd.stats.reasons();
    const t0 = performance.now();
    for (let k = 0; k < o.flood; k++) {
      patch(o.live + k, TCP_ACK);
      fwd.send(f);
    }
    const seconds = (performance.now() - t0) / 1000;
    const vip = Uint8Array.of(198, 18, 0, 200);
    let kept = 0;
    for (let i = 0; i < o.live; i++) {
      const e = fwd.tables.getConn(flowOf(i, vip, 80, 6));
      if (e !== null && e.state === DSR.CONN_TCP_EST) kept++;
    }
    return {
      synOnly: o.synOnly,
      live: o.live,
      flood: o.flood,
      evicted: o.live - kept,
      floodEntries: Number(fwd.stats.reasons().tx_new_flow.packets - before.tx_new_flow.packets),
      stateless: Number(fwd.stats.reasons().tx_stateless.packets - before.tx_stateless.packets),
      seconds,
    };
  } finally {
    fwd.destroy();
  }
}
