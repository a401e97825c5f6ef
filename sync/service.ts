/**
 * The sync's thin I/O driver: one UDP socket (node:dgram, non-blocking), one
 * SyncSender and SyncReceiver per peer, a timer, and the local table. All
 * protocol decisions live in the pure cores; this file only moves bytes,
 * keeps time, and counts what it dropped.
 *
 * Every director streams its own new flows to every peer and answers every
 * bulk request; only the director forwarding traffic has new flows to
 * report, so in a pair the data flows active → standby. Received entries are
 * written to the local table only while `acceptEntries()` says so (not while
 * we are the active: our own table is then the authority).
 */
import { randomInt } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { Keyring } from '../core/auth/keyring.ts';
import { ReplayGuard } from '../core/auth/replay-guard.ts';
import { newSessionId, SenderSession } from '../core/auth/session.ts';
import { DsrError } from '../core/errors.ts';
import type { SyncEntry } from './entries.ts';
import { MAX_STATE_PAYLOAD, type SyncMessage } from './messages.ts';
import { type SyncOptions, syncOptions } from './options.ts';
import { type ApplyOp, type ReceiverState, type ReceiverStatus, SyncReceiver } from './receiver.ts';
import { type SenderStatus, SyncSender } from './sender.ts';
import { SyncApplier, type SyncTable } from './table.ts';
import { SYNC_DROP_REASONS, SyncCodec, type SyncDropReason } from './wire.ts';

export interface SyncPeer {
  id: number;
  address: string;
  port: number;
}

export interface SyncServiceOptions {
  nodeId: number;
  bindAddress: string;
  port: number;
  peers: SyncPeer[];
  /** The operator's keyring; the sync derives its own keys from it. */
  keyring: Keyring;
  table: SyncTable;
  /** False while this director forwards (is the active): it keeps its own table then. */
  acceptEntries: () => boolean;
  options?: Partial<SyncOptions>;
  /** Timer period for the protocol cores, ms (default 2). */
  tickMs?: number;
  /** Monotonic and wall clocks, injectable for tests. */
  monoNow?: () => number;
  wallNow?: () => number;
  onStateChange?: (peer: number, state: ReceiverState) => void;
  /**
   * Every op a peer's stream produced, in order, whether or not it was applied (see
   * acceptEntries): lets an observer count what a bulk carried (the drill's flow census).
   */
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

export interface SyncServiceStatus {
  nodeId: number;
  peers: SyncPeerStatus[];
  drops: Record<SyncDropReason | 'unknown-peer' | 'send-error', number>;
  datagramsIn: number;
  datagramsOut: number;
  bytesOut: number;
  swept: number;
}

interface PeerState {
  peer: SyncPeer;
  sender: SyncSender;
  receiver: SyncReceiver;
}

export class SyncService {
  readonly #o: SyncServiceOptions;
  readonly #opts: SyncOptions;
  readonly #mono: () => number;
  readonly #wall: () => number;
  readonly #codec: SyncCodec;
  readonly #peers = new Map<number, PeerState>();
  readonly #applier: SyncApplier;
  readonly #drops: SyncServiceStatus['drops'];
  #socket: Socket | undefined;
  #timer: NodeJS.Timeout | undefined;
  #in = 0;
  #out = 0;
  #bytesOut = 0;
  #shared: SharedState | undefined;
  #sharedSentAt = Number.NEGATIVE_INFINITY;

  constructor(o: SyncServiceOptions) {
    this.#o = o;
    this.#opts = syncOptions(o.options);
    this.#mono = o.monoNow ?? (() => performance.now());
    this.#wall = o.wallNow ?? (() => Date.now());
    const now = this.#mono();
    const session = new SenderSession(
      newSessionId(Math.floor(this.#wall()), randomInt(0x10000)),
      this.#wall(),
      now,
    );
    this.#codec = new SyncCodec({
      nodeId: o.nodeId,
      keyring: o.keyring.derive('dsr-sync-v1'),
      session,
      guard: new ReplayGuard(),
    });
    for (const peer of o.peers) {
      if (peer.id === o.nodeId)
        throw new DsrError('E_CONFIG_INVALID', 'a sync peer has our own node id', { peer: peer.id });
      this.#peers.set(peer.id, {
        peer,
        sender: new SyncSender(this.#opts, session.id, now),
        receiver: new SyncReceiver(this.#opts, now, randomInt(1, 0x7fffffff)),
      });
    }
    this.#applier = new SyncApplier(o.table);
    this.#drops = Object.fromEntries(
      [...SYNC_DROP_REASONS, 'unknown-peer', 'send-error'].map((r) => [r, 0]),
    ) as SyncServiceStatus['drops'];
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
    this.#timer = setInterval(() => this.#tick(), this.#o.tickMs ?? 2);
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    const s = this.#socket;
    this.#socket = undefined;
    if (s) await new Promise<void>((resolve) => s.close(() => resolve()));
  }

  /** New flows, persistence entries and closes seen by our forwarder: streamed to every peer. */
  publish(entries: readonly SyncEntry[]): void {
    if (entries.length === 0) return;
    const now = this.#mono();
    for (const p of this.#peers.values()) p.sender.enqueue(entries, now);
    this.#flush();
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
        {
          bytes: state.payload.length,
        },
      );
    }
    this.#shared = { ...state };
    this.#sendShared(this.#mono());
  }

  #sendShared(now: number): void {
    const st = this.#shared;
    if (!st) return;
    this.#sharedSentAt = now;
    for (const p of this.#peers.values()) this.#send(p, [{ type: 'state', ...st }]);
  }

  /**
   * Pulls every peer's tables again. Call it when this director stops being the active: while it
   * was, it ignored what peers sent, so its table may miss what they learnt since.
   */
  resync(): void {
    const now = this.#mono();
    for (const p of this.#peers.values()) this.#send(p, p.receiver.resync(now).send);
  }

  /** In sync with this peer: its whole tables arrived and nothing was lost since (issue 6 gating). */
  inSyncWith(peerId: number): boolean {
    return this.#peers.get(peerId)?.receiver.inSync ?? false;
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
      swept: this.#applier.swept,
    };
  }

  #receive(buf: Buffer, from: string): void {
    this.#in++;
    const d = this.#codec.decode(buf, { mono: this.#mono(), wall: this.#wall() });
    if (!d.ok) {
      this.#drops[d.reason]++;
      return;
    }
    const p = this.#peers.get(d.from);
    // An authenticated message from an id we do not know, or from an address that is not that
    // peer's: a misconfiguration on the other side. Dropped and counted, never answered.
    if (!p || p.peer.address !== from.replace(/^::ffff:/, '')) {
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
      if (r.bulkRequested !== undefined) p.sender.bulk(r.bulkRequested, this.#o.table.entries());
      this.#send(p, r.send);
      if (r.bulkRequested !== undefined) this.#send(p, p.sender.tick(now));
    } else {
      const before = p.receiver.status(now).state;
      const r = p.receiver.step(now, d.session, m);
      if (this.#o.acceptEntries()) this.#applier.apply(r.apply);
      if (r.apply.length > 0) this.#o.onOps?.(p.peer.id, r.apply);
      this.#send(p, r.send);
      if (r.state && r.state !== before) this.#o.onStateChange?.(p.peer.id, r.state);
    }
  }

  #tick(): void {
    try {
      const now = this.#mono();
      for (const p of this.#peers.values()) {
        this.#send(p, p.sender.tick(now));
        const r = p.receiver.tick(now);
        if (this.#o.acceptEntries()) this.#applier.apply(r.apply);
        if (r.apply.length > 0) this.#o.onOps?.(p.peer.id, r.apply);
        this.#send(p, r.send);
        if (r.state) this.#o.onStateChange?.(p.peer.id, r.state);
      }
      if (now - this.#sharedSentAt >= this.#opts.stateResendMs) this.#sendShared(now);
    } catch (e) {
      this.#o.onError?.(e as Error);
    }
  }

  /** Sends what the window allows now instead of waiting for the next tick (lower lag). */
  #flush(): void {
    const now = this.#mono();
    for (const p of this.#peers.values()) this.#send(p, p.sender.tick(now));
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
