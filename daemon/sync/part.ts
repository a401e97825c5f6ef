/**
 * The sync part: runs the sync on its own thread (sync/thread/) over the forwarder's pinned tables,
 * and joins it to the rest of the daemon through narrow views:
 * - the forwarder: its maps (by fd), and the ids in force after every reconcile;
 * - the election: which VIP groups we master (peers' entries for them are not written here, and
 *   our refresh covers only them), and each group we stop mastering (then we pull the peers'
 *   tables again: while we mastered it, we ignored their entries for it);
 * - the election again, the other way: whether we are in sync, which gates preemption and planned
 *   handovers (takeover gating). An unplanned takeover proceeds regardless and the election
 *   reports how far behind we were.
 */
import { randomInt } from 'node:crypto';
import type { Logger } from 'pino';
import type { TableTally } from '../../admin/catalogue/drill.ts';
import type { Config } from '../../config/index.ts';
import { keyMaterialFromConfig } from '../../core/auth/key-material.ts';
import { nextSessionId } from '../../core/auth/session-store.ts';
import { DsrError } from '../../core/errors.ts';
import { parseIp } from '../../core/net/ip.ts';
import { nodeIdFromName } from '../../failover/index.ts';
import type { Forwarder } from '../../forwarder/forwarder.ts';
import type { NotInSync, ReceiverState } from '../../sync/receiver.ts';
import type { PeerSyncState, SyncPeer } from '../../sync/service.ts';
import { copyMarginMs } from '../../sync/table.ts';
import type { SyncSnapshot } from '../../sync/thread/protocol.ts';
import { SyncThread } from '../../sync/thread/sync-thread.ts';
import { type ConfigChange, touches } from '../change.ts';
import type { SyncLag } from '../election/failover.ts';
import type { DsrMetrics } from '../metrics/index.ts';
import type { DaemonPart, PartContext } from '../part.ts';
import { loadReplaySeeds, ReplayRecorder } from '../replay-record.ts';
import { DrainShare, type SyncDrainView } from './drains.ts';

/** What the sync needs of the forwarder part. */
export interface SyncForwarderView {
  engine(): Forwarder | undefined;
  /** Called after each reconcile that wrote to the tables (the ids in force may have changed). */
  onReconciled(listener: () => void): () => void;
}

/** What the sync needs of the election part. */
export interface SyncElectionView {
  /** Names of the VIP groups this director masters now. */
  masterGroups(): string[];
  /** Called whenever the groups we master change. */
  onMastership(listener: () => void): () => void;
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
  /** The health part's drains, shared with the peers so they survive a failover (drains.ts). */
  drains?: SyncDrainView;
}

type ReadyListener = (ready: boolean) => void;

/** What the sync knows of one peer, both ways (for the drill's preflight). */
export interface SyncPeerState {
  peer: string;
  /** Receiving the peer's tables: waiting, resyncing, in-sync or lost. */
  state: ReceiverState;
  inSync: boolean;
  /** Why not in sync: no bulk yet, bulk asked or under way, a gap open, the peer silent. */
  notInSync: NotInSync;
  lastHeardMs: number | null;
  /** Sending ours: the oldest entry the peer has not acknowledged, ms (0 when none), and the queue. */
  unackedMs: number;
  queued: number;
}

/** How often the sync's thread reports its status. */
const STATUS_MS = 200;

export class SyncPart implements DaemonPart {
  readonly name = 'sync';
  readonly #o: SyncPartOptions;
  readonly #readyListeners = new Set<ReadyListener>();
  readonly #cleanup: (() => void)[] = [];
  #thread: SyncThread | undefined;
  #config: Config | undefined;
  #names = new Map<number, string>();
  #peerStates = new Map<number, PeerSyncState>();
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
    await this.#startWith(ctx.config, ctx.fatal);
  }

  async #startWith(c: Config, fatal?: (err: Error) => void): Promise<void> {
    this.#config = c;
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
    this.#peerStates.clear();
    this.#outOfSyncSince.clear();
    for (const p of peers) this.#outOfSyncSince.set(p.id, performance.now());
    this.#lagAlertMs = c.sync.lagAlertMs;
    if (this.#o.drains !== undefined && this.#drainShare === undefined) {
      // Kept across sync reloads: the version of the drain state held here must not go back to 0.
      this.#drainShare = new DrainShare({
        view: this.#o.drains,
        selfNodeId: nodeIdFromName(c.node.id),
        log: this.#log,
      });
    }
    const maps = fwd.loaded.maps;
    const thread = await SyncThread.start(
      {
        nodeId: nodeIdFromName(c.node.id),
        bindAddress: c.node.address ?? (peers.some((p) => p.address.includes(':')) ? '::' : '0.0.0.0'),
        port: c.sync.port,
        peers,
        keys: keyMaterialFromConfig(ring),
        fds: {
          conns4: maps.conns4.fd,
          conns6: maps.conns6.fd,
          persist: maps.persist.fd,
          events: maps.events.fd,
        },
        directory: fwd.reconciler.directory(),
        ours: this.#ourVips(),
        refreshMs: c.sync.refreshS * 1000,
        options: { maxDatagram: c.sync.maxDatagramBytes, keepaliveMs: c.sync.keepaliveMs },
        sessionId: nextSessionId(c.node.stateDir, 'sync', Date.now(), randomInt(0x10000)),
        replaySeeds: loadReplaySeeds(c.node.stateDir, 'replay-sync.json', this.#log),
        statusMs: STATUS_MS,
      },
      {
        onPeerState: (peer, state) => this.#onPeerState(peer, state),
        onSharedState: (peer, st) => this.#drainShare?.onShared(this.#names.get(peer) ?? String(peer), st),
        onError: (message) => this.#log?.error({ err: message }, 'sync error'),
        onFailure: (err) => {
          this.#log?.error({ err: err.message }, 'the sync thread failed');
          fatal?.(err);
        },
      },
    );
    this.#thread = thread;
    // What the replay guard accepted, for the next run (daemon/replay-record.ts).
    const recorder = new ReplayRecorder(
      c.node.stateDir,
      'replay-sync.json',
      () => thread.snapshot()?.service.replay ?? [],
      this.#log,
    );
    recorder.start();
    this.#cleanup.push(() => recorder.stop());
    this.#drainShare?.attach(thread);
    this.#cleanup.push(() => this.#drainShare?.detach());
    this.#cleanup.push(this.#o.forwarder.onReconciled(() => thread.setDirectory(fwd.reconciler.directory())));
    const election = this.#o.election;
    if (election !== undefined) {
      this.#cleanup.push(
        // No resync when a group is lost: the peer's live updates for it were written all along
        // (sync/README.md, "Per group").
        election.onMastership(() => thread.setOurs(this.#ourVips())),
      );
    }
    // Lag grows while nothing new is published too (a peer stopped acknowledging): check on a clock.
    if (this.#lagAlertMs > 0) {
      const every = Math.min(1000, Math.max(50, this.#lagAlertMs / 4));
      this.#lagTimer = setInterval(() => this.#checkLag(), every);
    }
    this.#o.metrics?.setProvider('sync', () => this.#metrics());
    this.#cleanup.push(() => this.#o.metrics?.setProvider('sync', undefined));
    this.#log?.info({ peers: peers.map((p) => this.#names.get(p.id)), port: c.sync.port }, 'sync started');
  }

  /** The VIPs of the groups we master, as bytes (4 or 16). */
  #ourVips(): Uint8Array[] {
    const c = this.#config;
    const masters = new Set(this.#o.election?.masterGroups() ?? []);
    if (c === undefined) return [];
    return c.vipGroups.filter((g) => masters.has(g.name)).flatMap((g) => g.vips.map((v) => parseIp(v).bytes));
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

  #onPeerState(peer: number, s: PeerSyncState): void {
    const before = this.#peerStates.get(peer);
    this.#peerStates.set(peer, s);
    // A gap opening and closing under loss is no news for the log; a change of state is.
    if (before?.state !== s.state) {
      this.#log?.info(
        { peer: this.#names.get(peer), state: s.state },
        `sync from ${this.#names.get(peer)}: ${s.state}`,
      );
    }
    // 'lost' (the peer fell silent) keeps the clock where it was: in sync up to its last word, or not.
    if (s.inSync) this.#outOfSyncSince.delete(peer);
    else if (s.state !== 'lost' && !this.#outOfSyncSince.has(peer)) {
      this.#outOfSyncSince.set(peer, performance.now());
    }
    this.#setReady(this.#computeReady());
  }

  /** In sync with every peer: their whole tables arrived, nothing is missing since, none is silent. */
  #computeReady(): boolean {
    if (!this.#enabled) return true;
    return [...this.#names.keys()].every((id) => this.#peerStates.get(id)?.inSync === true);
  }

  #setReady(ready: boolean): void {
    if (ready === this.#ready) return;
    this.#ready = ready;
    for (const l of this.#readyListeners) l(ready);
  }

  #snapshot(): SyncSnapshot | undefined {
    return this.#thread?.snapshot();
  }

  #checkLag(): void {
    const s = this.#snapshot();
    if (!s || !this.#o.alerts || this.#lagAlertMs <= 0) return;
    for (const p of s.service.peers) {
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
    const p = this.#snapshot()?.service.peers.find((x) => this.#names.get(x.id) === peer);
    if (p === undefined) return undefined;
    const since = this.#outOfSyncSince.get(p.id);
    return {
      inSync: since === undefined,
      behindMessages: p.receiving.behindMessages,
      lagSeconds: (since === undefined ? p.receiving.gapAgeMs : performance.now() - since) / 1000,
    };
  }

  /** Whether this director may preempt or accept a planned handover. */
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
    const s = this.#snapshot();
    return (s?.service.peers ?? []).map((p) => {
      const st = this.#peerStates.get(p.id);
      return {
        peer: this.#names.get(p.id) ?? String(p.id),
        state: st?.state ?? p.receiving.state,
        inSync: st?.inSync ?? false,
        notInSync: st?.notInSync ?? p.receiving.notInSync,
        lastHeardMs: p.receiving.lastHeardMs,
        unackedMs: p.sending.oldestUnackedMs,
        queued: p.sending.queued,
      };
    });
  }

  /** How much longer than on the peer a copied entry lives here (and there: the same config). */
  get copyMarginMs(): number {
    return copyMarginMs((this.#config?.sync.refreshS ?? 0) * 1000);
  }

  /** Pulls `peer`'s whole tables and counts them (conns, those with more than `longLivedMs` left, persistence). */
  countPeerTables(peer: string, longLivedMs: number, limitMs: number): Promise<TableTally> {
    const id = [...this.#names].find(([, n]) => n === peer)?.[0];
    if (this.#thread === undefined || id === undefined) {
      return Promise.reject(
        new DsrError('E_ADMIN_REQUEST', `the sync does not run with a peer ${peer}`, { peer }),
      );
    }
    return this.#thread.tallyPeer(id, longLivedMs, limitMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#lagTimer);
    this.#lagTimer = undefined;
    for (const f of this.#cleanup.splice(0).reverse()) f();
    const t = this.#thread;
    this.#thread = undefined;
    await t?.stop();
  }

  affectedBy(change: ConfigChange): boolean {
    return touches(change, 'sync', 'peers', 'keys', 'node');
  }

  /**
   * Keys alone changed (a rotation step): the thread signs with the new ones in the same session,
   * so the peers keep our stream and nobody pulls a bulk. Sync settings, peers or the node changed:
   * a new session with the new settings, then a resync.
   */
  async reload(change: ConfigChange): Promise<void> {
    const d = change.diff;
    const ring = change.next.keys.sync ?? change.next.keys.election;
    const keysOnly = !touches(change, 'sync', 'peers', 'node');
    if (keysOnly && this.#thread !== undefined && ring !== null) {
      if (d.keys.sync !== null || (change.next.keys.sync === null && d.keys.election !== null))
        this.#thread.setKeys(keyMaterialFromConfig(ring));
      this.#config = change.next;
      return;
    }
    await this.stop();
    await this.#startWith(change.next);
  }

  status(): unknown {
    const s = this.#snapshot();
    if (!s) return { enabled: this.#enabled, ready: this.#ready };
    const states = this.peerStates();
    return {
      enabled: true,
      ready: this.#ready,
      drains: this.#drainShare?.status(),
      // The peers table of `dsrctl status` (its Sync column), matched to the config's peers by id.
      peers: states.map((p) => ({ id: p.peer, sync: p.inSync ? 'in sync' : (p.notInSync ?? p.state) })),
      // Each peer's stream both ways, in full.
      streams: states.map((p, i) => {
        const raw = s.service.peers[i];
        return {
          peer: p.peer,
          address: raw.address,
          state: p.state,
          inSync: p.inSync,
          notInSync: p.notInSync,
          behindMessages: raw.receiving.behindMessages,
          lastHeardMs: raw.receiving.lastHeardMs,
          applied: raw.receiving.applied,
          bulksCompleted: raw.receiving.bulksCompleted,
          bulkEntries: raw.receiving.bulkEntries,
          sendQueue: raw.sending.queued,
          sendingBulk: raw.sending.bulk,
          unackedMs: Math.round(raw.sending.oldestUnackedMs),
          retransmits: raw.sending.retransmits,
          rttMs: raw.sending.srttMs === null ? null : Number(raw.sending.srttMs.toFixed(2)),
        };
      }),
      drops: s.service.drops,
      published: s.service.published,
      refresh: s.service.refresh,
      tables: s.tables,
      sweeping: s.sweeping,
    };
  }

  #metrics() {
    const s = this.#snapshot();
    return {
      peers: (s?.service.peers ?? []).map((p) => ({
        peer: this.#names.get(p.id) ?? String(p.id),
        lagSeconds: p.sending.oldestUnackedMs / 1000,
        pendingEntries: p.sending.queued,
        retransmits: p.sending.retransmits,
        inSync: this.#peerStates.get(p.id)?.inSync ?? false,
      })),
      drops: s?.service.drops ?? {},
    };
  }
}
