/**
 * The forwarder as the daemon runs it: load (restoring pinned tables), apply
 * the desired state, then attach XDP to the interface, in that order, so no
 * packet meets an unconfigured program. Afterwards: reconcile on config or
 * health changes, read counters, sweep expired entries, and stop
 * either for a restart (stay attached, keep the pins: flows survive) or for
 * good (detach, and optionally remove the pins).
 */
import { DsrError } from '../core/errors.ts';
import { BpfMapStore } from './bpf-map-store.ts';
import type { Traffic } from './layout.ts';
import { libbpf } from './libbpf.ts';
import { type LoadedForwarder, type LoadOptions, loadForwarder, type XdpMode } from './loader.ts';
import { buildMaglevTable } from './maglev.ts';
import { type DesiredState, type ReconcileReport, Reconciler, type TableBuilder } from './reconciler.ts';
import { ForwarderStats } from './stats.ts';
import { FlowTables } from './tables.ts';
import { VipLeases } from './vip-leases.ts';

export interface ForwarderOptions extends LoadOptions {
  /** interface the VIP traffic arrives on */
  ifname: string;
  desired: DesiredState;
  mode?: XdpMode | 'auto';
  buildTable?: TableBuilder;
}

export interface ForwarderStatus {
  ifname: string;
  mode: XdpMode;
  /** maps taken over from pins at start (0 on a first start) */
  restoredMaps: number;
  reasons: Record<string, Traffic>;
  services: Array<{
    service: string;
    traffic: Traffic;
    reals: Array<{ address: string; state: string; weight: number; traffic: Traffic }>;
  }>;
}

export class Forwarder {
  readonly ifname: string;
  readonly ifindex: number;
  readonly mode: XdpMode;
  readonly loaded: LoadedForwarder;
  readonly store: BpfMapStore;
  readonly reconciler: Reconciler;
  readonly tables: FlowTables;
  readonly stats: ForwarderStats;
  readonly leases: VipLeases;

  private constructor(opts: ForwarderOptions, ifindex: number) {
    this.ifname = opts.ifname;
    this.ifindex = ifindex;
    this.loaded = loadForwarder(opts);
    try {
      this.store = new BpfMapStore(this.loaded.maps);
      this.reconciler = Reconciler.restore(this.store, opts.buildTable ?? buildMaglevTable);
      this.tables = new FlowTables(this.loaded.maps);
      this.stats = new ForwarderStats(this.loaded.maps);
      this.leases = new VipLeases(this.loaded.maps.vip_leases);
      this.reconciler.reconcile(opts.desired);
      this.mode = this.loaded.attach(ifindex, opts.mode ?? 'auto');
    } catch (e) {
      this.loaded.close();
      throw e;
    }
  }

  static start(opts: ForwarderOptions): Forwarder {
    const ifindex = libbpf.ifIndex(opts.ifname);
    if (ifindex === 0) {
      throw new DsrError('E_BPF_ATTACH', `no interface ${opts.ifname} in this network namespace`, {
        ifname: opts.ifname,
      });
    }
    return new Forwarder(opts, ifindex);
  }

  reconcile(desired: DesiredState): ReconcileReport {
    return this.reconciler.reconcile(desired);
  }

  /** Removes entries the program would treat as expired; returns how many. */
  sweep(now: bigint = process.hrtime.bigint()): { conns: number; persist: number } {
    const cfg = this.store.getConfig();
    const conns = this.tables.sweepConns(cfg, now);
    const persist = this.tables.sweepPersist((svcId) => {
      const svc = this.reconciler.serviceById(svcId) ? this.store.getService(svcId) : null;
      return svc ? svc.persistTimeoutNs : null;
    }, now);
    return { conns, persist: persist.removed };
  }

  status(): ForwarderStatus {
    return {
      ifname: this.ifname,
      mode: this.mode,
      restoredMaps: this.loaded.restored.length,
      reasons: this.stats.reasons(),
      services: this.reconciler.status().map((s) => ({
        service: s.service,
        traffic: this.stats.service(s.id),
        reals: s.reals.map((r) => ({
          address: r.address,
          state: r.state,
          weight: r.weight,
          traffic: this.stats.real(r.id),
        })),
      })),
    };
  }

  /**
   * restart: stay attached and keep the pins (the next start restores them);
   * otherwise detach, and with removePins also drop every table.
   */
  stop(how: { restart: true } | { restart: false; removePins: boolean }): void {
    if (how.restart) {
      this.loaded.close();
      return;
    }
    try {
      this.loaded.detach(this.ifindex);
    } finally {
      if (how.removePins) this.loaded.uninstall();
      else this.loaded.close();
    }
  }
}
