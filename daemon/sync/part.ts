/**
 * The sync part: streams this director's new flows and persistence entries to
 * its peers and writes theirs into its own pinned tables (sync/).
 *
 * It joins three other parts, each through a narrow view:
 * - the forwarder: its tables (the SyncTable) and its ring-buffer events (what to publish);
 * - the election: whether we are master of any group (then our own table is the authority and
 *   peers' entries are not written), and our demotions (then we pull the tables again);
 * - the election again, the other way: whether we are in sync, which gates preemption and planned
 *   handovers (issue 6, takeover gating). An unplanned takeover proceeds regardless and the
 *   election reports how far behind we were.
 */
import type { Logger } from 'pino';
import type { Config } from '../../config/index.ts';
import { keyringFromConfig } from '../../core/auth/key-material.ts';
import { SYNC_KEY_PURPOSE } from '../../core/auth/keyring.ts';
import { DsrError } from '../../core/errors.ts';
import { nodeIdFromName } from '../../failover/index.ts';
import type { Forwarder } from '../../forwarder/forwarder.ts';
import { BpfSyncTable, eventToSyncEntry } from '../../sync/bpf-table.ts';
import type { SyncEntry } from '../../sync/entries.ts';
import type { ApplyOp, ReceiverState } from '../../sync/receiver.ts';
import { type SyncPeer, SyncService } from '../../sync/service.ts';
import { type ConfigChange, touches } from '../change.ts';
import type { SyncLag } from '../election/failover.ts';
import type { DsrMetrics } from '../metrics/index.ts';
import type { DaemonPart, PartContext } from '../part.ts';
import { DrainShare, type SyncDrainView } from './drains.ts';

/** What the sync needs of the forwarder part. */
export interface SyncForwarderView {
  engine(): Forwarder | undefined;
}

/** What the sync needs of the election part. */
export interface SyncElectionView {
  /** True while this director is master of at least one VIP group. */
  isMasterOfAny(): boolean;
  /** Called with true when this director stopped being master of every group. */
  onDemoted(listener: () => void): () => void;
}

export interface SyncAlerts {
  emit(
    type: 'sync_lag_high' | 'sync_lag_normal',
    fields: { peer?: string; lagSeconds: number; thresholdSeconds: number },
  ): void;
}

export interface SyncPartOptions {
  forwarder: SyncForwarderView;
  election?: SyncElectionView;
  metrics?: DsrMetrics;
  alerts?: SyncAlerts;
  /** How often the ring buffer's events are batched into the sync, ms (default: sync.flush_interval_ms). */
  publishMs?: number;
  /** The health part's drains, shared with the peers so they survive a failover (sync-drains.ts). */
  drains?: SyncDrainView;
}

type ReadyListener = (ready: boolean) => void;
/** Ops from a peer's stream, by peer name (see SyncServiceOptions.onOps). */
type OpsListener = (peer: string, ops: readonly ApplyOp[]) => void;

/** What the sync knows of one peer, both ways (for the drill's preflight). */
export interface SyncPeerState {
  peer: string;
  /** Receiving the peer's tables: waiting, resyncing, in-sync or lost. */
  state: ReceiverState;
  inSync: boolean;
  lastHeardMs: number | null;
  /** Sending ours: the oldest entry the peer has not acknowledged, ms (0 when none), and the queue. */
  unackedMs: number;
  queued: number;
}

export class SyncPart implements DaemonPart {
  readonly name = 'sync';
  readonly #o: SyncPartOptions;
  readonly #readyListeners = new Set<ReadyListener>();
  readonly #opsListeners = new Set<OpsListener>();
  readonly #cleanup: (() => void)[] = [];
  #service: SyncService | undefined;
  #names = new Map<number, string>();
  #pending: SyncEntry[] = [];
  #timer: NodeJS.Timeout | undefined;
  #ready = false;
  #lagging = new Set<number>();
  /** Peer id → since when (performance.now) we have not been in sync with it; absent while in sync. */
  readonly #outOfSyncSince = new Map<number, number>();
  #lagTimer: NodeJS.Timeout | undefined;
  #lagAlertMs = 0;
  #log: Logger | undefined;
  #enabled = false;
  #drainShare: DrainShare | undefined;

  constructor(options: SyncPartOptions) {
    this.#o = options;
  }

  async start(ctx: PartContext): Promise<void> {
    this.#log = ctx.log;
    await this.#startWith(ctx.config);
  }

  async #startWith(c: Config): Promise<void> {
    this.#enabled = c.sync.enabled && c.peers.length > 0;
    if (!this.#enabled) {
      this.#setReady(true); // nobody to be in sync with
      this.#log?.info('sync disabled (no peers, or sync.enabled is false)');
      return;
    }
    const fwd = this.#o.forwarder.engine();
    if (!fwd) throw new DsrError('E_PART_START', 'the sync needs the forwarder, which is not running');
    const ring = c.keys.sync ?? c.keys.election;
    if (!ring) throw new DsrError('E_PART_START', 'the sync needs a key ring (keys.sync or keys.election)');
    const named = this.#peers(c);
    const peers = named.map((p) => p.peer);
    this.#names = new Map(named.map((p) => [p.peer.id, p.name]));
    this.#outOfSyncSince.clear();
    for (const p of peers) this.#outOfSyncSince.set(p.id, performance.now());
    this.#lagAlertMs = c.sync.lagAlertMs;
    const table = new BpfSyncTable({ tables: fwd.tables, reconciler: fwd.reconciler, view: fwd.store });
    const election = this.#o.election;
    if (this.#o.drains !== undefined && this.#drainShare === undefined) {
      // Kept across sync reloads: the version of the drain state held here must not go back to 0.
      this.#drainShare = new DrainShare({
        view: this.#o.drains,
        selfNodeId: nodeIdFromName(c.node.id),
        log: this.#log,
      });
    }
    const service = new SyncService({
      nodeId: nodeIdFromName(c.node.id),
      bindAddress: c.node.address ?? (peers.some((p) => p.address.includes(':')) ? '::' : '0.0.0.0'),
      port: c.sync.port,
      peers,
      keyring: keyringFromConfig(ring, SYNC_KEY_PURPOSE),
      table,
      acceptEntries: () => !(election?.isMasterOfAny() ?? false),
      options: { maxDatagram: c.sync.maxDatagramBytes, keepaliveMs: c.sync.keepaliveMs },
      onStateChange: (peer, state) => this.#onPeerState(peer, state),
      onOps: (peer, ops) => {
        const name = this.#names.get(peer) ?? String(peer);
        for (const l of this.#opsListeners) l(name, ops);
      },
      onSharedState: (peer, st) => this.#drainShare?.onShared(this.#names.get(peer) ?? String(peer), st),
      onError: (err) => this.#log?.error({ err: err.message }, 'sync socket error'),
    });
    await service.start();
    this.#service = service;
    this.#drainShare?.attach(service);
    this.#cleanup.push(() => this.#drainShare?.detach());
    // New flows reach userspace through the forwarder's ring buffer; they are batched here for
    // flushIntervalMs so a burst of SYNs becomes full datagrams, not one datagram per flow.
    const reader = fwd.onEvents((ev) => {
      const entry = eventToSyncEntry(ev, { reconciler: fwd.reconciler, view: fwd.store });
      if (entry) this.#pending.push(entry);
    });
    this.#cleanup.push(() => reader.close());
    this.#timer = setInterval(() => this.#flush(), this.#o.publishMs ?? Math.max(1, c.sync.flushIntervalMs));
    // Lag grows while nothing new is published too (a peer stopped acknowledging): check on a clock.
    if (this.#lagAlertMs > 0) {
      const every = Math.min(1000, Math.max(50, this.#lagAlertMs / 4));
      this.#lagTimer = setInterval(() => this.#checkLag(), every);
    }
    if (election) this.#cleanup.push(election.onDemoted(() => this.#service?.resync()));
    this.#o.metrics?.setProvider('sync', () => this.#snapshot());
    this.#cleanup.push(() => this.#o.metrics?.setProvider('sync', undefined));
    this.#log?.info({ peers: peers.map((p) => this.#names.get(p.id)), port: c.sync.port }, 'sync started');
  }

  /** sync.peers when given, else every election peer at its address and sync.port. */
  #peers(c: Config): { name: string; peer: SyncPeer }[] {
    const list = c.sync.peers.length
      ? c.sync.peers.map((p) => ({ id: p.id, address: p.address, port: p.port }))
      : c.peers.map((p) => ({ id: p.id, address: p.address, port: c.sync.port }));
    return list.map((p) => ({
      name: p.id,
      peer: { id: nodeIdFromName(p.id), address: p.address, port: p.port },
    }));
  }

  #flush(): void {
    if (this.#pending.length === 0) return;
    const batch = this.#pending;
    this.#pending = [];
    this.#service?.publish(batch);
    this.#checkLag();
  }

  #onPeerState(peer: number, state: ReceiverState): void {
    this.#log?.info({ peer: this.#names.get(peer), state }, `sync from ${this.#names.get(peer)}: ${state}`);
    // 'lost' (the peer fell silent) keeps what we had: in sync up to its last word, or not.
    if (state === 'in-sync') this.#outOfSyncSince.delete(peer);
    else if (state !== 'lost' && !this.#outOfSyncSince.has(peer)) {
      this.#outOfSyncSince.set(peer, performance.now());
    }
    this.#setReady(this.#computeReady());
  }

  /** In sync with every peer: their whole tables arrived and nothing was lost since. */
  #computeReady(): boolean {
    const s = this.#service?.status();
    return s ? s.peers.every((p) => p.receiving.inSync) : !this.#enabled;
  }

  #setReady(ready: boolean): void {
    if (ready === this.#ready) return;
    this.#ready = ready;
    for (const l of this.#readyListeners) l(ready);
  }

  #checkLag(): void {
    const s = this.#service?.status();
    if (!s || !this.#o.alerts || this.#lagAlertMs <= 0) return;
    for (const p of s.peers) {
      const lagMs = p.sending.oldestUnackedMs;
      const name = this.#names.get(p.id);
      const fields = { peer: name, lagSeconds: lagMs / 1000, thresholdSeconds: this.#lagAlertMs / 1000 };
      if (lagMs > this.#lagAlertMs && !this.#lagging.has(p.id)) {
        this.#lagging.add(p.id);
        this.#o.alerts.emit('sync_lag_high', fields);
      } else if (lagMs <= this.#lagAlertMs / 2 && this.#lagging.has(p.id)) {
        this.#lagging.delete(p.id);
        this.#o.alerts.emit('sync_lag_normal', fields);
      }
    }
  }

  /**
   * How far our copy of `peer`'s tables lagged, for failover_completed when we take over from it:
   * in sync up to its last word or not, messages it announced that never reached us, and for how
   * long updates have been missing (the oldest open gap while in sync, else the time since we were
   * last in sync). undefined while the sync is off or for a peer it does not know.
   */
  takeoverLag(peer: string): SyncLag | undefined {
    const s = this.#service?.status();
    const p = s?.peers.find((x) => this.#names.get(x.id) === peer);
    if (p === undefined) return undefined;
    const since = this.#outOfSyncSince.get(p.id);
    return {
      inSync: since === undefined,
      behindMessages: p.receiving.behindMessages,
      lagSeconds: (since === undefined ? p.receiving.gapAgeMs : performance.now() - since) / 1000,
    };
  }

  /** Whether this director may preempt or accept a planned handover (issue 6). */
  ready(): boolean {
    return this.#ready;
  }

  onReadyChange(listener: ReadyListener): () => void {
    this.#readyListeners.add(listener);
    return () => this.#readyListeners.delete(listener);
  }

  // ---- for the drill ----

  /** Whether the sync runs (enabled, with peers). */
  get enabled(): boolean {
    return this.#enabled;
  }

  /** Every peer's sync state, both ways. */
  peerStates(): SyncPeerState[] {
    const s = this.#service?.status();
    return (s?.peers ?? []).map((p) => ({
      peer: this.#names.get(p.id) ?? String(p.id),
      state: p.receiving.state,
      inSync: p.receiving.inSync,
      lastHeardMs: p.receiving.lastHeardMs,
      unackedMs: p.sending.oldestUnackedMs,
      queued: p.sending.queued,
    }));
  }

  /** Pulls every peer's whole tables again (a bulk resync). */
  resync(): void {
    this.#service?.resync();
  }

  /** Observes what peers' streams carry (bulk markers and entries), applied or not. */
  onPeerOps(listener: OpsListener): () => void {
    this.#opsListeners.add(listener);
    return () => this.#opsListeners.delete(listener);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    clearInterval(this.#lagTimer);
    this.#lagTimer = undefined;
    this.#flush();
    for (const f of this.#cleanup.splice(0).reverse()) f();
    const s = this.#service;
    this.#service = undefined;
    await s?.stop();
  }

  affectedBy(change: ConfigChange): boolean {
    return touches(change, 'sync', 'peers', 'keys', 'node');
  }

  /** Sync settings, peers or keys changed: a new session with the new settings, then a resync. */
  async reload(change: ConfigChange): Promise<void> {
    await this.stop();
    await this.#startWith(change.next);
  }

  status(): unknown {
    const s = this.#service?.status();
    if (!s) return { enabled: this.#enabled, ready: this.#ready };
    return {
      enabled: true,
      ready: this.#ready,
      drains: this.#drainShare?.status(),
      peers: s.peers.map((p) => ({
        peer: this.#names.get(p.id) ?? String(p.id),
        address: p.address,
        state: p.receiving.state,
        inSync: p.receiving.inSync,
        behindMessages: p.receiving.behindMessages,
        lastHeardMs: p.receiving.lastHeardMs,
        applied: p.receiving.applied,
        bulksCompleted: p.receiving.bulksCompleted,
        sendQueue: p.sending.queued,
        unackedMs: Math.round(p.sending.oldestUnackedMs),
        retransmits: p.sending.retransmits,
        rttMs: p.sending.srttMs === null ? null : Number(p.sending.srttMs.toFixed(2)),
      })),
      drops: s.drops,
      swept: s.swept,
    };
  }

  #snapshot() {
    const s = this.#service?.status();
    return {
      peers: (s?.peers ?? []).map((p) => ({
        peer: this.#names.get(p.id) ?? String(p.id),
        lagSeconds: p.sending.oldestUnackedMs / 1000,
        pendingEntries: p.sending.queued,
        retransmits: p.sending.retransmits,
        inSync: p.receiving.inSync,
      })),
    };
  }
}
