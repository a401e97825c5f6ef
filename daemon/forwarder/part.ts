/**
 * The XDP forwarder as a daemon part (forwarder/forwarder.ts): load the program, restoring the
 * pinned tables of an earlier run; apply the services with the health part's weights and the real
 * servers' MACs (kernel neighbour entries); attach to the interface. Then keep the tables in step
 * with config reloads, health changes and MAC changes, sweep expired entries, count flows for
 * status, drains and metrics, and answer `dsrctl conns`.
 *
 * stop() leaves the program attached and the maps pinned: a restarted daemon carries on with the
 * same flows (restore, never flush). The election, stopped before us, has already resigned.
 */

import { CATALOGUE } from '../../admin/catalogue/commands.ts';
import type { FlowCensus } from '../../admin/catalogue/drill.ts';
import type { Config } from '../../config/index.ts';
import { DsrError } from '../../core/errors.ts';
import { interfaceIndex } from '../../core/kernel/libc.ts';
import { errorFields, type Logger } from '../../core/log.ts';
import { RtnlLinkMonitor } from '../../core/netlink/link-monitor.ts';
import { RtnlNeighbourTable } from '../../core/netlink/neighbour-table.ts';
import { explainFlow } from '../../forwarder/explain.ts';
import { Forwarder } from '../../forwarder/forwarder.ts';
import { RealServerNeighbours } from '../../forwarder/neighbours.ts';
import type { ReconcileReport } from '../../forwarder/reconciler.ts';
import { flowsByName, type RealNames } from '../../forwarder/walks/flows.ts';
import { TableThread } from '../../forwarder/walks/thread.ts';
import type { FlowsLeft } from '../../health/drain-tracker.ts';
import { type ConfigChange, touches } from '../change.ts';
import type { ForwarderAttachment } from '../election/conditions.ts';
import type { HealthPart } from '../health/part.ts';
import type { DsrMetrics } from '../metrics/index.ts';
import type { DaemonPart, PartContext } from '../part.ts';
import { backendAddresses, desiredState, forwarderServiceName, healthBackends } from './desired.ts';
import { FlowCountFreshness } from './flow-count-freshness.ts';

/** By config service name and real server address. */
type ByReal = Map<string, Map<string, number>>;

interface FlowCounts {
  /** Live flows: open (SYN, established, UDP) and closing TCP apart. */
  open: ByReal;
  closing: ByReal;
  /** Persistence entries (clients held). */
  persistent: ByReal;
  total: number;
  persistentTotal: number;
}

/** The sweep and count repeat at least this often, and at most this often... */
const SWEEP_MIN_MS = 1000;
const SWEEP_MAX_MS = 10_000;
/** ...spending at most 1/SWEEP_DUTY of a core on it (a million entries take about half a second). */
const SWEEP_DUTY = 20;

export interface ForwarderPartOptions {
  /** Source of effective weights (health checks, drains, sorry server); config weights without it. */
  health?: HealthPart;
  metrics?: DsrMetrics;
  /** Fixed period of the expired-entry sweep and flow count; default: paced by the walk's cost. */
  sweepMs?: number;
}

export class ForwarderPart implements DaemonPart, ForwarderAttachment {
  readonly name = 'forwarder';
  readonly #o: ForwarderPartOptions;
  readonly #listeners = new Set<(attached: boolean) => void>();
  readonly #cleanup: (() => void)[] = [];
  #fwd: Forwarder | undefined;
  #neighbours: RealServerNeighbours | undefined;
  #table: RtnlNeighbourTable | undefined;
  #config: Config | undefined;
  /** Forwarder service name ("tcp/198.18.0.200:80") → config name. */
  #serviceNames = new Map<string, string>();
  #tables: TableThread | undefined;
  #ticking = false;
  #directorMac = '';
  #ifindex = 0;
  #log: Logger | undefined;
  #flows: FlowCounts = {
    open: new Map(),
    closing: new Map(),
    persistent: new Map(),
    total: 0,
    persistentTotal: 0,
  };
  #lastWalkMs = 0;
  readonly #freshness = new FlowCountFreshness();
  #attached = false;
  #reconcileQueued = false;
  readonly #reconciledListeners = new Set<() => void>();
  #timer: NodeJS.Timeout | undefined;

  constructor(options: ForwarderPartOptions = {}) {
    this.#o = options;
  }

  async start(ctx: PartContext): Promise<void> {
    const c = ctx.config;
    this.#log = ctx.log;
    if (c.interfaces.length !== 1) {
      throw new DsrError(
        'E_PART_START',
        `the forwarder runs on one interface; the config names ${c.interfaces.length}`,
      );
    }
    const iface = c.interfaces[0];
    this.#ifindex = interfaceIndex(iface.name);
    this.#directorMac = await this.#macOf(this.#ifindex, iface.name);
    this.#setConfig(c);
    const table = new RtnlNeighbourTable();
    this.#table = table;
    const neighbours = new RealServerNeighbours({
      table,
      onChange: () => this.#reconcileSoon(),
      log: ctx.log,
    });
    this.#neighbours = neighbours;
    neighbours.start();
    await neighbours.setRealServers(
      backendAddresses(c).map((address) => ({ ifindex: this.#ifindex, address })),
    );
    const fwd = Forwarder.start({
      ifname: iface.name,
      mode: iface.xdpMode,
      pinDir: c.forwarder.pinDir,
      connEntries: c.tables.connTableSize,
      persistEntries: c.tables.persistenceTableSize,
      desired: this.#desired(),
    });
    this.#fwd = fwd;
    this.#tables = new TableThread(fwd);
    this.#setAttached(true);
    ctx.log.info(
      {
        ifname: iface.name,
        mode: fwd.mode,
        restoredMaps: fwd.loaded.restored.length,
        replacedMaps: fwd.loaded.replaced,
      },
      fwd.loaded.restored.length > 0
        ? 'forwarder attached; flows restored from pinned maps'
        : 'forwarder attached',
    );
    const health = this.#o.health;
    if (health !== undefined) {
      const onEvent = (e: { type: string }): void => {
        if (e.type === 'backends') this.#reconcileSoon();
        // A drain must not be answered by a count taken before it began (or was taken over from
        // a peer): count again now.
        if (e.type === 'drain.started' || e.type === 'drains.restored') {
          this.#freshness.want(performance.now());
          this.#tick();
        }
      };
      health.on('event', onEvent);
      this.#cleanup.push(() => health.off('event', onEvent));
    }
    this.#cleanup.push(
      ctx.admin.handle(CATALOGUE.conns, (args) => this.#tablesOrFail().conns(this.#realNames(), args)),
      ctx.admin.handle(CATALOGUE.explain, (args) =>
        explainFlow(
          this.#running(),
          this.#config?.services ?? [],
          (n) => this.#serviceNames.get(n),
          args,
          process.hrtime.bigint(),
        ),
      ),
    );
    this.#o.metrics?.setProvider('forwarder', () => this.#snapshot());
    this.#cleanup.push(() => this.#o.metrics?.setProvider('forwarder', undefined));
    this.#tick();
    this.#scheduleTick();
  }

  /**
   * Flow counts (status, drains, metrics) are at most a second old on tables that walk fast; a
   * big table is walked less often, so the walks never take more than 1/SWEEP_DUTY of a core.
   */
  #scheduleTick(): void {
    const every =
      this.#o.sweepMs ?? Math.min(SWEEP_MAX_MS, Math.max(SWEEP_MIN_MS, SWEEP_DUTY * this.#lastWalkMs));
    this.#timer = setTimeout(() => {
      this.#tick();
      this.#scheduleTick();
    }, every);
  }

  async #macOf(ifindex: number, name: string): Promise<string> {
    const links = new RtnlLinkMonitor();
    try {
      const link = await links.get(ifindex);
      if (link?.mac === undefined) throw new DsrError('E_PART_START', `interface ${name} has no MAC address`);
      return link.mac;
    } finally {
      links.close();
    }
  }

  #setConfig(c: Config): void {
    this.#config = c;
    this.#serviceNames = new Map(c.services.map((s) => [forwarderServiceName(s), s.name]));
  }

  #running(): Forwarder {
    if (this.#fwd === undefined) throw new DsrError('E_ADMIN_REQUEST', 'the forwarder is not running');
    return this.#fwd;
  }

  #desired() {
    const health = this.#o.health;
    return desiredState(this.#config!, {
      directorMac: this.#directorMac,
      backends: (service) => {
        if (health === undefined || health.engine === null) return undefined;
        try {
          return healthBackends(health.backends(service), (rs) => health.allowsNewPersistence(rs, service));
        } catch {
          return undefined;
        }
      },
      macOf: (address) => this.#neighbours?.macOf(address),
    });
  }

  /** Coalesces bursts (many MACs resolving at once, health flaps) into one reconcile. */
  #reconcileSoon(): void {
    if (this.#reconcileQueued) return;
    this.#reconcileQueued = true;
    setImmediate(() => {
      this.#reconcileQueued = false;
      if (this.#fwd === undefined) return;
      try {
        const r = this.#reconcile(this.#fwd);
        if (r.writes > 0)
          this.#log?.debug({ writes: r.writes, unresolved: r.unresolved }, 'forwarder tables updated');
      } catch (err) {
        this.#log?.error(errorFields(err), 'forwarder tables could not be updated');
      }
    });
  }

  #tablesOrFail(): TableThread {
    this.#running();
    if (this.#tables === undefined || this.#tables.failed) {
      throw new DsrError('E_ADMIN_REQUEST', 'the forwarder table worker is not running; see the daemon log');
    }
    return this.#tables;
  }

  /** Real id → config service name and address, for what the table worker reports. */
  #realNames(): RealNames {
    const out = new Map<number, { service: string; address: string }>();
    for (const s of this.#running().reconciler.status()) {
      const service = this.#serviceNames.get(s.service) ?? s.service;
      for (const r of s.reals) out.set(r.id, { service, address: r.address });
    }
    return out;
  }

  /**
   * Sweeps expired entries and recounts flows in the table worker, and checks the program is
   * still attached. One tick at a time; a worker that died is started again on the next one.
   */
  #tick(): void {
    const fwd = this.#fwd;
    if (fwd === undefined || this.#ticking) return;
    try {
      this.#setAttached(fwd.loaded.attachedId(fwd.ifindex, fwd.mode) !== 0);
    } catch (err) {
      this.#log?.error(errorFields(err), 'cannot query the XDP attachment');
    }
    if (this.#tables === undefined || this.#tables.failed) {
      void this.#tables?.close();
      this.#tables = new TableThread(fwd);
    }
    this.#ticking = true;
    const names = this.#realNames();
    const walkStartedAt = performance.now();
    this.#tables
      .tick()
      .then((r) => {
        this.#freshness.counted(walkStartedAt);
        this.#lastWalkMs = r.walkMs;
        this.#flows = {
          open: flowsByName(r.counts.open, names),
          closing: flowsByName(r.counts.closing, names),
          persistent: flowsByName(r.counts.persistent, names),
          total: r.counts.total,
          persistentTotal: r.counts.persistentTotal,
        };
        if (r.swept.conns + r.swept.persist > 0) this.#log?.debug(r.swept, 'expired entries swept');
      })
      .catch((err) => this.#log?.error(errorFields(err), 'forwarder sweep failed'))
      .finally(() => {
        this.#ticking = false;
      });
  }

  #setAttached(attached: boolean): void {
    if (attached === this.#attached) return;
    this.#attached = attached;
    if (!attached) this.#log?.error('the XDP program is no longer attached');
    for (const l of this.#listeners) l(attached);
  }

  // ---- for the election (track.forwarder), the health part (drains) and the sync ----

  /** The running forwarder (tables, ring-buffer events), or undefined while stopped. */
  engine(): Forwarder | undefined {
    return this.#fwd;
  }

  attached(): boolean {
    return this.#attached;
  }

  subscribe(listener: (attached: boolean) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /**
   * Live flows of a real server (in one service, or all), as of the last count; undefined while
   * that count began before the latest drain did (a new count is then under way).
   */
  remainingFlows(rs: string, service: string | null): FlowsLeft | undefined {
    if (!this.#freshness.fresh) {
      this.#tick(); // no-op while a walk is running
      return undefined;
    }
    return {
      open: countOf(this.#flows.open, rs, service),
      closing: countOf(this.#flows.closing, rs, service),
    };
  }

  /**
   * Quorum mode's lease on `vips` in the kernel (forwarder/vip-leases.ts): ARP and neighbour
   * solicitations for them are answered until `untilNs` (CLOCK_MONOTONIC), dropped after.
   * Throws E_ADMIN_REQUEST while the forwarder is not running.
   */
  setVipLeases(vips: readonly string[], untilNs: bigint): void {
    this.#running().leases.set(vips, untilNs);
  }

  /** Walks the connection table (in the worker): live flows, and those with more than `minRemainingMs` left. */
  census(minRemainingMs: number): Promise<FlowCensus> {
    return this.#tablesOrFail().census(minRemainingMs);
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#tables?.close();
    this.#tables = undefined;
    for (const f of this.#cleanup.splice(0).reverse()) f();
    // Restart semantics: stay attached, keep the pins (the next start restores the flows).
    this.#fwd?.stop({ restart: true });
    this.#fwd = undefined;
    this.#neighbours?.close();
    this.#neighbours = undefined;
    this.#table?.close();
    this.#table = undefined;
    this.#attached = false;
  }

  affectedBy(change: ConfigChange): boolean {
    return touches(change, 'services', 'timers', 'interfaces', 'forwarder');
  }

  cannotReload(change: ConfigChange): string | undefined {
    const i = change.diff.interfaces;
    return i.added.length + i.removed.length + i.changed.length > 0 ? 'interfaces changed' : undefined;
  }

  /** New services and real servers: resolve the new MACs, then one reconcile (flows already open stay). */
  async reload(change: ConfigChange): Promise<void> {
    const fwd = this.#running();
    this.#setConfig(change.next);
    await this.#neighbours?.setRealServers(
      backendAddresses(change.next).map((address) => ({ ifindex: this.#ifindex, address })),
    );
    this.#reconcile(fwd);
  }

  /** Writes the desired state; tells the listeners when the tables changed (the sync's ids). */
  #reconcile(fwd: Forwarder): ReconcileReport {
    const r = fwd.reconcile(this.#desired());
    if (r.writes > 0) for (const l of this.#reconciledListeners) l();
    return r;
  }

  /** Called after each reconcile that wrote to the tables. */
  onReconciled(listener: () => void): () => void {
    this.#reconciledListeners.add(listener);
    return () => this.#reconciledListeners.delete(listener);
  }

  status(): unknown {
    const fwd = this.#fwd;
    const c = this.#config;
    if (fwd === undefined || c === undefined) return {};
    const byName = new Map(fwd.reconciler.status().map((s) => [s.service, s]));
    return {
      services: c.services.map((s) => {
        const f = byName.get(forwarderServiceName(s));
        return {
          name: s.name,
          realServers: (f?.reals ?? []).map((r) => ({
            address: r.address,
            forwarding: r.state,
            activeFlows: countOf(this.#flows.open, r.address, s.name),
            closingFlows: countOf(this.#flows.closing, r.address, s.name),
            persistentClients: countOf(this.#flows.persistent, r.address, s.name),
          })),
        };
      }),
      forwarder: {
        ifname: fwd.ifname,
        mode: fwd.mode,
        attached: this.#attached,
        restoredMaps: fwd.loaded.restored.length,
        flows: this.#flows.total,
        neighbours: this.#neighbours?.status() ?? [],
      },
    };
  }

  #snapshot() {
    const fwd = this.#running();
    const st = fwd.status();
    const drops: Record<string, number> = {};
    const passes: Record<string, number> = {};
    for (const [reason, t] of Object.entries(st.reasons)) {
      if (reason.startsWith('drop')) drops[reason] = Number(t.packets);
      else if (reason.startsWith('pass')) passes[reason] = Number(t.packets);
    }
    return {
      realServers: st.services.flatMap((s) =>
        s.reals.map((r) => ({
          service: this.#serviceNames.get(s.service) ?? s.service,
          realServer: r.address,
          packets: Number(r.traffic.packets),
          bytes: Number(r.traffic.bytes),
          flows: Number(r.traffic.flows),
          weight: r.weight,
        })),
      ),
      drops,
      passes,
      eventsLost: Number(st.reasons.event_lost.packets),
      stateless: Number(st.reasons.tx_stateless.packets),
      connTable: { entries: this.#flows.total, capacity: this.#config?.tables.connTableSize },
      persistenceTable: {
        entries: this.#flows.persistentTotal,
        capacity: this.#config?.tables.persistenceTableSize,
      },
    };
  }
}

/** Entries of `rs` in `service`, or in every service when null. */
function countOf(counts: ByReal, rs: string, service: string | null): number {
  if (service !== null) return counts.get(service)?.get(rs) ?? 0;
  let n = 0;
  for (const m of counts.values()) n += m.get(rs) ?? 0;
  return n;
}
