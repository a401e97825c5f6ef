/**
 * The sync's thin I/O driver: one UDP socket (node:dgram, non-blocking), one
 * SyncSender and SyncReceiver per peer, a timer, and the local tables. All
 * protocol decisions live in the pure cores; this file only moves bytes,
 * keeps time, paces the refresh walk and counts what it dropped. dsrd runs it
 * on a thread of its own (thread/), so neither a bulk nor a flood of updates
 * ever holds up the daemon's main thread.
 *
 * Every director streams what its forwarder reports (new flows, state
 * changes) and a refresh of its own live entries to every peer, and answers
 * every bulk request. Received entries are written to the local tables only
 * for VIPs this director does not master (the tables know which): for its
 * own, its table is the authority.
 */
import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Keyring } from '../core/auth/keyring.ts';
import { ReplayGuard, type ReplaySeed } from '../core/auth/replay-guard.ts';
import { newSessionId, SenderSession } from '../core/auth/session.ts';
import { DsrError } from '../core/errors.ts';
import { MAX_STATE_PAYLOAD, type SyncMessage } from './messages.ts';
import { type SyncOptions, syncOptions } from './options.ts';
import {
  type ApplyOp,
  type NotInSync,
  type ReceiverState,
  type ReceiverStatus,
  SyncReceiver,
} from './receiver.ts';
import { type SenderStatus, SyncSender } from './sender.ts';
import { type LocalTables, SyncApplier } from './table.ts';
import { SYNC_DROP_REASONS, SYNC_STREAM, SyncCodec, type SyncDropReason } from './wire.ts';

export interface SyncPeer {
  id: number;
  address: string;
  port: number;
}

/** What changed about a peer's stream towards us. */
export interface PeerSyncState {
  state: ReceiverState;
  inSync: boolean;
  notInSync: NotInSync;
}

export interface SyncServiceOptions {
  nodeId: number;
  bindAddress: string;
  port: number;
  peers: SyncPeer[];
  /** The operator's keyring; the sync derives its own keys from it. */
  keyring: Keyring;
  /** The local tables; they skip peers' entries of the VIPs whose group we master. */
  tables: LocalTables;
  /** How often every live entry of ours is sent again (sync/README.md, "Refresh"); 0: never. */
  refreshMs: number;
  options?: Partial<SyncOptions>;
  /** Timer period for the protocol cores, ms (default 2). */
  tickMs?: number;
  /**
   * The session id to send under: in dsrd greater than any this director used before (recorded on
   * disk first, core/auth/session-store.ts); default from the wall clock alone.
   */
  sessionId?: bigint;
  /** What an earlier run's replay guard accepted from each peer (recorded by dsrd): seeds ours. */
  replaySeeds?: readonly ReplaySeed[];
  /** Monotonic and wall clocks, injectable for tests. */
  monoNow?: () => number;
  wallNow?: () => number;
  /** A peer's stream started or stopped being in sync, or its state changed. */
  onPeerState?: (peer: number, state: PeerSyncState) => void;
  /** Every op a peer's stream produced, in order, applied or not (the drill counts a bulk with it). */
  onOps?: (peer: number, ops: readonly ApplyOp[]) => void;
  /** A peer's shared operator state (see shareState); every resend arrives, old versions too. */
  onSharedState?: (peer: number, state: SharedState) => void;
  onError?: (err: Error) => void;
}

/** Operator state shared whole between directors, versioned by (stamp, origin). */
export interface SharedState {
  stamp: number;
  origin: number;
  payload: Buffer;
}

export interface SyncPeerStatus {
  id: number;
  address: string;
  receiving: ReceiverStatus;
  sending: SenderStatus;
}

export interface RefreshStatus {
  /** Entries the last complete pass sent, and how long it took (ms); null before the first. */
  lastPassEntries: number | null;
  lastPassMs: number | null;
  passes: number;
}

export interface SyncServiceStatus {
  nodeId: number;
  peers: SyncPeerStatus[];
  drops: Record<SyncDropReason | 'unknown-source' | 'unknown-peer' | 'send-error', number>;
  datagramsIn: number;
  datagramsOut: number;
  bytesOut: number;
  /** Changes the forwarder reported and we streamed. */
  published: number;
  refresh: RefreshStatus;
  /** What the replay guard holds per peer: what the next run seeds from. */
  replay: ReplaySeed[];
}

interface PeerState {
  peer: SyncPeer;
  sender: SyncSender;
  receiver: SyncReceiver;
  reported: PeerSyncState;
}

/** A refresh pass aims to finish within this share of the refresh period. */
const REFRESH_PACE = 0.8;
/** No refresh entries are added while a peer has this many bytes of updates waiting already. */
const REFRESH_BACKLOG_BYTES = 256 * 1024;
/** Entries read at a time by a paced pass (fewer are not worth a walk step), and by a fast one. */
const REFRESH_MIN_CHUNK = 64;
const REFRESH_FAST_CHUNK = 4096;

export class SyncService {
  readonly #o: SyncServiceOptions;
  readonly #opts: SyncOptions;
  readonly #mono: () => number;
  readonly #wall: () => number;
  readonly #tickMs: number;
  readonly #codec: SyncCodec;
  readonly #peers = new Map<number, PeerState>();
  readonly #addresses: Set<string>;
  readonly #applier: SyncApplier;
  readonly #drops: SyncServiceStatus['drops'];
  #socket: Socket | undefined;
  #timer: NodeJS.Timeout | undefined;
  #in = 0;
  #out = 0;
  #bytesOut = 0;
  #published = 0;
  #shared: SharedState | undefined;
  #sharedSentAt = Number.NEGATIVE_INFINITY;
  readonly #refresh = {
    passStartedAt: 0,
    passEntries: 0,
    passRead: 0,
    /** Entries the last complete pass read: the table's size, which paces the next pass. */
    lastPassRead: 0,
    /** Entries the pace allows to read now, and when it was last topped up. */
    credit: 0,
    creditAt: 0,
  };
  readonly #refreshStatus: RefreshStatus = { lastPassEntries: null, lastPassMs: null, passes: 0 };

  readonly #guard = new ReplayGuard();

  constructor(o: SyncServiceOptions) {
    this.#o = o;
    this.#opts = syncOptions(o.options);
    this.#mono = o.monoNow ?? (() => performance.now());
    this.#wall = o.wallNow ?? (() => Date.now());
    this.#tickMs = o.tickMs ?? 2;
    const now = this.#mono();
    for (const seed of o.replaySeeds ?? []) {
      this.#guard.seed(seed.peer, SYNC_STREAM, seed.session, seed.highestSeq, now);
    }
    const session = new SenderSession(
      o.sessionId ?? newSessionId(Math.floor(this.#wall()), randomInt(0x10000)),
      this.#wall(),
      now,
    );
    this.#codec = new SyncCodec({
      nodeId: o.nodeId,
      keyring: o.keyring.derive('dsr-sync-v1'),
      session,
      guard: this.#guard,
    });
    for (const peer of o.peers) {
      if (peer.id === o.nodeId)
        throw new DsrError('E_CONFIG_INVALID', 'a sync peer has our own node id', { peer: peer.id });
      const receiver = new SyncReceiver(this.#opts, now, randomInt(1, 0x7fffffff));
      this.#peers.set(peer.id, {
        peer,
        sender: new SyncSender(this.#opts, session.id, now),
        receiver,
        reported: stateOf(receiver),
      });
    }
    this.#addresses = new Set(o.peers.map((p) => p.address));
    this.#applier = new SyncApplier(o.tables, randomInt(0x10000));
    this.#drops = Object.fromEntries(
      [...SYNC_DROP_REASONS, 'unknown-source', 'unknown-peer', 'send-error'].map((r) => [r, 0]),
    ) as SyncServiceStatus['drops'];
    this.#refresh.passStartedAt = now;
  }

  async start(): Promise<void> {
    const socket = createSocket({ type: isIPv6(this.#o.bindAddress) ? 'udp6' : 'udp4', reuseAddr: false });
    socket.on('message', (buf, rinfo) => this.#receive(buf, rinfo.address));
    socket.on('error', (e) => this.#o.onError?.(e));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(this.#o.port, this.#o.bindAddress, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    // Room for a burst of a window's worth of full datagrams per peer.
    const want = Math.max(1 << 20, this.#opts.window * this.#opts.maxDatagram * 2);
    socket.setRecvBufferSize(want);
    socket.setSendBufferSize(want);
    this.#socket = socket;
    this.#timer = setInterval(() => this.#tick(), this.#tickMs);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const p of this.#peers.values()) p.sender.dropBulk();
    const s = this.#socket;
    this.#socket = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /**
   * Shares operator state with every peer: sent now, then every stateResendMs (a lost datagram or a
   * restarted peer catches up at the next resend). The latest call replaces the state.
   */
  shareState(state: SharedState): void {
    if (state.payload.length > MAX_STATE_PAYLOAD) {
      throw new DsrError(
        'E_DECODE',
        `shared state of ${state.payload.length} bytes exceeds ${MAX_STATE_PAYLOAD}`,
        { bytes: state.payload.length },
      );
    }
    this.#shared = { ...state };
    this.#sendShared(this.#mono());
  }

  /**
   * Signs and verifies with keys derived from this keyring from the next datagram on: a key
   * rotation's reload keeps the session, the streams and the peers' copies of our tables.
   */
  setKeys(keyring: Keyring): void {
    this.#codec.setKeyring(keyring.derive('dsr-sync-v1'));
  }

  /** Pulls every peer's whole tables again (we stopped mastering a group: our copy of it went stale). */
  resync(): void {
    const now = this.#mono();
    for (const p of this.#peers.values()) this.#afterReceive(p, p.receiver.resync(now));
  }

  status(): SyncServiceStatus {
    const now = this.#mono();
    return {
      nodeId: this.#o.nodeId,
      peers: [...this.#peers.values()].map((p) => ({
        id: p.peer.id,
        address: p.peer.address,
        receiving: p.receiver.status(now),
        sending: p.sender.status(now),
      })),
      drops: { ...this.#drops },
      datagramsIn: this.#in,
      datagramsOut: this.#out,
      bytesOut: this.#bytesOut,
      published: this.#published,
      refresh: { ...this.#refreshStatus },
      replay: this.#guard.seeds(SYNC_STREAM),
    };
  }

  #sendShared(now: number): void {
    const st = this.#shared;
    if (!st) return;
    this.#sharedSentAt = now;
    for (const p of this.#peers.values()) this.#send(p, [{ type: 'state', ...st }]);
  }

  #receive(buf: Buffer, from: string): void {
    this.#in++;
    // The source first: a datagram from no peer's address costs no MAC.
    const source = from.replace(/^::ffff:/, '');
    if (!this.#addresses.has(source)) {
      this.#drops['unknown-source']++;
      return;
    }
    const d = this.#codec.decode(buf, { mono: this.#mono(), wall: this.#wall() });
    if (!d.ok) {
      this.#drops[d.reason]++;
      return;
    }
    const p = this.#peers.get(d.from);
    // Authenticated, but from an id we do not know or from another peer's address: a
    // misconfiguration on the other side. Dropped and counted, never answered.
    if (!p || p.peer.address !== source) {
      this.#drops['unknown-peer']++;
      return;
    }
    const now = this.#mono();
    const m = d.message;
    if (m.type === 'state') {
      this.#o.onSharedState?.(p.peer.id, { stamp: m.stamp, origin: m.origin, payload: m.payload });
      return;
    }
    if (m.type === 'ack' || m.type === 'nack' || m.type === 'bulk-request') {
      const r = p.sender.step(now, m);
      this.#send(p, r.send);
      if (r.bulkRequested !== undefined && p.sender.bulk(r.bulkRequested, () => this.#o.tables.openBulk())) {
        this.#send(p, p.sender.tick(now));
      }
    } else {
      this.#afterReceive(p, p.receiver.step(now, d.session, m));
    }
  }

  #afterReceive(p: PeerState, r: { send: SyncMessage[]; apply: ApplyOp[] }): void {
    this.#applier.apply(r.apply);
    if (r.apply.length > 0) this.#o.onOps?.(p.peer.id, r.apply);
    this.#send(p, r.send);
    this.#report(p);
  }

  /** Tells the owner when a peer's state or in-sync changed (a gap opening ends in-sync, too). */
  #report(p: PeerState): void {
    const now = stateOf(p.receiver);
    const was = p.reported;
    if (now.state === was.state && now.notInSync === was.notInSync) return;
    p.reported = now;
    this.#o.onPeerState?.(p.peer.id, now);
  }

  #tick(): void {
    try {
      const now = this.#mono();
      this.#publish(now);
      this.#refreshStep(now);
      for (const p of this.#peers.values()) {
        this.#send(p, p.sender.tick(now));
        this.#afterReceive(p, p.receiver.tick(now));
      }
      this.#o.tables.work();
      if (now - this.#sharedSentAt >= this.#opts.stateResendMs) this.#sendShared(now);
    } catch (e) {
      this.#o.onError?.(e as Error);
    }
  }

  /** What the forwarder reported since the last tick, to every peer. */
  #publish(now: number): void {
    const c = this.#o.tables.changes();
    if (c.count === 0) return;
    this.#published += c.count;
    for (const p of this.#peers.values()) p.sender.enqueue(c.entries, c.count, now);
  }

  /**
   * The refresh walk: every live entry of ours is sent again once per refresh period, paced over
   * the period by the size of the last pass, and only while the peers keep up (a backlog means the
   * link is busy; refreshes wait rather than push updates out of the queue).
   */
  #refreshStep(now: number): void {
    if (this.#o.refreshMs <= 0) return;
    // Refreshed: the peers we hear from. One not heard yet or gone silent asks for a bulk when it
    // is back, and one being sent a bulk gets every entry by it: refreshing them would only send the
    // table twice.
    const live = [...this.#peers.values()].filter(
      (p) => p.receiver.state !== 'waiting' && p.receiver.state !== 'lost' && !p.sender.sendingBulk,
    );
    const f = this.#refresh;
    if (live.length === 0) {
      // Nobody to refresh: the period starts again when somebody is (a bulk refreshed them all).
      f.passStartedAt = now;
      f.creditAt = now;
      return;
    }
    if (live.some((p) => p.sender.queuedBytes > REFRESH_BACKLOG_BYTES)) return;
    // The pace is time-based, not per tick: late timers neither slow a pass down nor bunch it up.
    // It follows the larger of the last pass and this one so far (the table may have grown since),
    // and a pass that is still not done when its share of the period is up reads as fast as the
    // peers take it: an entry is never left unsent for more than a period and a bit.
    const known = Math.max(f.lastPassRead, f.passRead, REFRESH_MIN_CHUNK);
    if (now - f.passStartedAt >= REFRESH_PACE * this.#o.refreshMs) {
      f.credit = Math.max(f.credit, REFRESH_FAST_CHUNK);
    } else {
      f.credit += (known * (now - f.creditAt)) / (REFRESH_PACE * this.#o.refreshMs);
      f.credit = Math.min(f.credit, Math.max(REFRESH_MIN_CHUNK, known / 4));
    }
    f.creditAt = now;
    if (f.credit < REFRESH_MIN_CHUNK) return;
    const r = this.#o.tables.refresh(Math.floor(f.credit));
    f.credit -= r.read;
    f.passEntries += r.count;
    f.passRead += r.read;
    if (r.count > 0) for (const p of live) p.sender.enqueue(r.entries, r.count, now);
    if (!r.passDone) return;
    if (f.passRead > 0 || f.passEntries > 0) {
      this.#refreshStatus.lastPassEntries = f.passEntries;
      this.#refreshStatus.lastPassMs = Math.round(now - f.passStartedAt);
      this.#refreshStatus.passes++;
    }
    f.lastPassRead = f.passRead;
    f.passEntries = 0;
    f.passRead = 0;
    f.passStartedAt = now;
  }

  #send(p: PeerState, messages: readonly SyncMessage[]): void {
    const s = this.#socket;
    if (!s) return;
    const now = this.#mono();
    for (const m of messages) {
      const bytes = this.#codec.encode(m, p.peer.id, now);
      this.#out++;
      this.#bytesOut += bytes.length;
      s.send(bytes, p.peer.port, p.peer.address, (err) => {
        if (err) this.#drops['send-error']++;
      });
    }
  }
}

function stateOf(r: SyncReceiver): PeerSyncState {
  const notInSync = r.notInSync;
  return { state: r.state, inSync: notInSync === null, notInSync };
}
