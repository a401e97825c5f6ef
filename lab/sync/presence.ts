/**
 * What the sync benchmark reads back from the standby's own BPF maps (a second copy of the program
 * over the daemon's pins, forwarder/harness.ts): how long a sampled connection took to appear there
 * (LagProbe), and which of the active's live entries the standby holds at an instant (presence).
 */
import { connTimeout, isExpired } from '../../forwarder/conn-state.ts';
import type { ForwarderInstance } from '../../forwarder/harness.ts';
import type { Flow } from '../../forwarder/layout.ts';

/** Connections sampled at their SYN (CLOCK_MONOTONIC ns), looked for on the standby until found. */
export class LagProbe {
  readonly #standby: ForwarderInstance;
  readonly #flowOf: (i: number) => Flow;
  #pending: [number, bigint][] = [];
  readonly lagsMs: number[] = [];

  constructor(standby: ForwarderInstance, flowOf: (i: number) => Flow) {
    this.#standby = standby;
    this.#flowOf = flowOf;
  }

  add(samples: readonly [number, bigint][]): void {
    this.#pending.push(...samples);
  }

  get pending(): number {
    return this.#pending.length;
  }

  /** Checks every pending sample once; those found get their lag. */
  poll(): void {
    const now = process.hrtime.bigint();
    this.#pending = this.#pending.filter(([i, at]) => {
      if (this.#standby.tables.getConn(this.#flowOf(i)) === null) return true;
      this.lagsMs.push(Number(now - at) / 1e6);
      return false;
    });
  }
}

export interface Presence {
  /** Live entries on the active (connections and persistence entries). */
  live: number;
  /** Of those, held live on the standby. */
  present: number;
  liveConns: number;
  livePersist: number;
  missingConns: number;
  missingPersist: number;
}

/**
 * Walks the active's tables at this instant and looks every live entry up on the standby, where it
 * must be live too (by the standby's own clock and timeouts). Services are matched by name: the
 * two directors may number them differently.
 */
export function presence(active: ForwarderInstance, standby: ForwarderInstance): Presence {
  const now = process.hrtime.bigint();
  const aCfg = active.store.getConfig();
  const bCfg = standby.store.getConfig();
  const r: Presence = {
    live: 0,
    present: 0,
    liveConns: 0,
    livePersist: 0,
    missingConns: 0,
    missingPersist: 0,
  };
  active.tables.forEachConn((flow, c) => {
    if (isExpired(now, c.lastSeenNs, connTimeout(aCfg, c.state))) return;
    r.liveConns++;
    const copy = standby.tables.getConn(flow);
    if (copy !== null && !isExpired(now, copy.lastSeenNs, connTimeout(bCfg, copy.state))) r.present++;
    else r.missingConns++;
  });
  const names = new Map(standby.reconciler.status().map((s) => [s.service, s.id]));
  active.tables.forEachPersist((key, p) => {
    const svc = active.reconciler.serviceById(key.svcId);
    const timeout = svc ? active.store.getService(key.svcId)?.persistTimeoutNs : undefined;
    if (svc === null || timeout === undefined || isExpired(now, p.lastSeenNs, timeout)) return;
    r.livePersist++;
    const svcId = names.get(svc.name);
    const copy = svcId === undefined ? null : standby.tables.getPersist({ ...key, svcId });
    const bTimeout = svcId === undefined ? undefined : standby.store.getService(svcId)?.persistTimeoutNs;
    if (copy !== null && bTimeout !== undefined && !isExpired(now, copy.lastSeenNs, bTimeout)) r.present++;
    else r.missingPersist++;
  });
  r.live = r.liveConns + r.livePersist;
  return r;
}
