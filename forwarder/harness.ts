/**
 * A configured forwarder instance that is not attached anywhere, driven by
 * BPF_PROG_TEST_RUN: what the BPF fixtures, the differential test and the
 * benchmarks share. Loads the program (unpinned unless a pin dir is given),
 * applies a desired state through the real reconciler and offers test runs
 * and bulk connection-table fills.
 *
 * Without a desired state it takes the tables as it finds them: opened on a
 * running dsrd's pin directory, it is a second copy of the program over that
 * daemon's own maps, which the lab uses to fill them and to put traffic
 * through them. (It must not read their events: the daemon's sync does.)
 */

import { DsrError } from '../core/errors.ts';
import { BpfMapStore } from './bpf-map-store.ts';
import { type ConnEntry, DSR, type Flow, IPPROTO_TCP, parseMapAddress } from './layout.ts';
import { type LoadedForwarder, type LoadOptions, loadForwarder } from './loader.ts';
import { buildMaglevTable } from './maglev.ts';
import { type DesiredState, type ReconcileReport, Reconciler, type TableBuilder } from './reconciler.ts';
import { EventRing } from './ringbuf.ts';
import { ForwarderStats } from './stats.ts';
import { FlowTables } from './tables.ts';
import { TestRunner, type TestRunResult } from './test-run.ts';
import { VipLeases } from './vip-leases.ts';

export interface InstanceOptions {
  /** Applied through the reconciler; absent: the tables are used as found (pins of a running dsrd). */
  desired?: DesiredState;
  load?: LoadOptions;
  buildTable?: TableBuilder;
}

export interface ConnFill {
  /** service name as the reconciler reports it, e.g. "tcp/198.18.0.200:80" */
  service: string;
  /** real server address the entries point at */
  real: string;
  /** destination port of the flows (for port-0 services); default the service port */
  dport?: number;
}

export class ForwarderInstance {
  readonly loaded: LoadedForwarder;
  readonly store: BpfMapStore;
  readonly reconciler: Reconciler;
  readonly tables: FlowTables;
  readonly stats: ForwarderStats;
  readonly leases: VipLeases;
  private readonly runner: TestRunner;

  constructor(opts: InstanceOptions) {
    this.loaded = loadForwarder(opts.load ?? {});
    try {
      const m = this.loaded.maps;
      this.store = new BpfMapStore(m);
      this.reconciler = Reconciler.restore(this.store, opts.buildTable ?? buildMaglevTable);
      this.tables = new FlowTables(m);
      this.stats = new ForwarderStats(m);
      this.leases = new VipLeases(m.vip_leases);
      this.runner = new TestRunner(this.loaded.progFd);
      if (opts.desired !== undefined) this.reconciler.reconcile(opts.desired);
    } catch (e) {
      this.loaded.close();
      throw e;
    }
  }

  reconcile(desired: DesiredState): ReconcileReport {
    return this.reconciler.reconcile(desired);
  }

  /** Runs the program on `frame` `repeat` times; ns is the kernel's average per run. */
  run(frame: Uint8Array, repeat = 1): TestRunResult {
    return this.runner.run(frame, repeat);
  }

  /** Runs the program on `frame` once for its effect on the tables (traffic); returns the XDP verdict. */
  send(frame: Uint8Array): number {
    return this.runner.runOnly(frame);
  }

  /** A reader of the program's event ring (drain it after test runs; close it when done). */
  ring(): EventRing {
    const m = this.loaded.maps.events;
    return new EventRing(m.fd, m.maxEntries);
  }

  /**
   * Fills the connection table with `count` established entries of a service,
   * all pointing at one real server: clients 198.18.0.0 + (i >> 10) (or
   * 2001:2:: + (i >> 10)), source ports 1024 + (i & 1023). Returns the number written.
   */
  fillConnTable(count: number, fill: ConnFill): number {
    const ids = this.reconciler.findReal(fill.service, fill.real);
    const svc = ids ? this.reconciler.serviceById(ids.svcId) : null;
    if (!ids || !svc) {
      throw new DsrError('E_FORWARDER_STATE', `no real server ${fill.real} in service ${fill.service}`, {
        ...fill,
      });
    }
    const now = process.hrtime.bigint();
    const dport = fill.dport ?? svc.key.port;
    const v6 = svc.key.family === 6;
    const base = parseMapAddress(v6 ? '2001:2::' : '198.18.0.0').bytes;
    function* entries(): Generator<[Flow, ConnEntry]> {
      for (let i = 0; i < count; i++) {
        const src = base.slice();
        new DataView(src.buffer).setUint32(v6 ? 12 : 0, (v6 ? 0 : 0xc6120000) + (i >>> 10), false);
        const flow: Flow = {
          src,
          dst: svc!.key.vip,
          sport: 1024 + (i & 1023),
          dport,
          proto: svc!.key.proto,
          family: svc!.key.family,
        };
        yield [
          flow,
          {
            lastSeenNs: now,
            reportedNs: now,
            realId: ids!.realId,
            realGen: ids!.realGen,
            svcId: ids!.svcId,
            svcGen: ids!.svcGen,
            state: svc!.key.proto === IPPROTO_TCP ? DSR.CONN_TCP_EST : DSR.CONN_UDP,
            syncEpoch: 0,
          },
        ];
      }
    }
    return this.tables.putConns(entries());
  }

  /** Closes fds; with pins, the maps stay for a later instance (restore). */
  close(): void {
    this.runner.close();
    this.loaded.close();
  }

  /** Closes and removes the pins (if any). */
  destroy(): void {
    this.runner.close();
    this.loaded.uninstall();
  }
}

/** Loads and configures an instance (see ForwarderInstance). */
export function createForwarderInstance(opts: InstanceOptions): ForwarderInstance {
  return new ForwarderInstance(opts);
}
