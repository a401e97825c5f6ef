/**
 * The election's datagram driver over node:dgram (non-blocking by construction). Outgoing
 * messages are encoded and signed through failover/wire; incoming datagrams are decoded,
 * authenticated, checked against the replay guard and the peer list, and delivered; everything
 * else is dropped and counted by reason (failover/drop-reasons.ts). It holds no election state.
 *
 * Unicast (default): a message for 'all' goes to every configured peer. Multicast (optional):
 * it goes once to the group address; the socket joins the group on the configured interface.
 * Targeted messages (handover) always go unicast to their peer.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import { networkInterfaces } from 'node:os';
import type { Keyring } from '../../core/auth/keyring.ts';
import { ReplayGuard, type ReplayGuardOptions, type ReplaySeed } from '../../core/auth/replay-guard.ts';
import type { SenderSession } from '../../core/auth/session.ts';
import { DsrError } from '../../core/errors.ts';
import { countDrop, type DropCounters, type DropReason } from '../drop-reasons.ts';
import type { ElectionMessage, Outgoing } from '../election/messages.ts';
import { ELECTION_STREAM, ElectionDecoder } from '../wire/decode.ts';
import { ElectionEncoder } from '../wire/encode.ts';
import { type BudgetRate, budgetFor, SourceBudget } from './source-budget.ts';

export interface TransportPeer {
  readonly nodeId: number;
  /** Config name, for logs and status. */
  readonly name: string;
  readonly address: string;
  readonly port: number;
}

export interface MulticastOptions {
  readonly group: string;
  readonly ttl: number;
  /** Interface name; for IPv4 the bind address (if set) or the interface's first IPv4 address is used. */
  readonly interface: string;
  /** The group's port, when this socket is bound to another (a send-only sender); default the bind port. */
  readonly port?: number;
}

export interface TransportClock {
  /** Monotonic ms (performance.now()): never steps. */
  mono(): number;
  /** Wall-clock ms (Date.now()): only for the replay guard's first-contact check. */
  wall(): number;
}

export interface DropInfo {
  readonly address: string;
  readonly port: number;
  /** Only for authenticated packets. */
  readonly from?: number;
  readonly groupId?: number;
}

export interface ElectionTransportOptions {
  readonly nodeId: number;
  /** Local address to bind (null: any address of `family`) and port. */
  readonly bind: { readonly address: string | null; readonly port: number; readonly family: 'ipv4' | 'ipv6' };
  readonly peers: readonly TransportPeer[];
  readonly multicast?: MulticastOptions | null;
  readonly keyring: Keyring;
  readonly session: SenderSession;
  readonly guard?: ReplayGuardOptions;
  readonly clock: TransportClock;
  /** What an earlier run accepted from each peer (the replay guard's state, persisted by dsrd). */
  readonly replaySeeds?: readonly ReplaySeed[];
  /** What each peer address may make us verify (source-budget.ts); default one 10 ms group's worth. */
  readonly budget?: BudgetRate;
  readonly onMessage: (message: ElectionMessage, peer: TransportPeer) => void;
  readonly onDrop?: (reason: DropReason, info: DropInfo) => void;
  /** Socket errors (send failures are counted, not thrown). */
  readonly onError?: (error: Error) => void;
}

export interface TransportStats {
  readonly sent: number;
  readonly sendErrors: number;
  readonly received: number;
  readonly accepted: number;
  readonly drops: DropCounters;
  /** The keys we sign with and accept, by id (never the secrets). */
  readonly keys: { readonly sendsWith: number; readonly accepts: readonly number[] };
  /** Per peer id, the keys of its last advert: the one it signed with, and all it accepts. */
  readonly peerKeys: Readonly<Record<number, PeerKeys>>;
}

export interface PeerKeys {
  readonly sendsWith: number;
  readonly accepts: readonly number[];
}

/** `::ffff:198.18.0.1` (IPv4 on a dual-stack socket) and `198.18.0.1` are the same peer. */
const plainAddress = (address: string) =>
  (address.startsWith('::ffff:') ? address.slice(7) : address).toLowerCase();

export class ElectionTransport {
  readonly #options: ElectionTransportOptions;
  readonly #encoder: ElectionEncoder;
  readonly #decoder: ElectionDecoder;
  #peers = new Map<number, TransportPeer>();
  /** Peer addresses (plain), each with its budget: the only sources whose datagrams are verified. */
  #sources = new Map<string, SourceBudget>();
  #socket: Socket | null = null;
  #multicastTarget: { address: string; port: number } | null = null;
  readonly #drops: DropCounters = {};
  #sent = 0;
  #pendingSends = 0;
  #sendErrors = 0;
  #received = 0;
  #accepted = 0;
  #keyring: Keyring;
  /** Per peer id, the key ids of its last advert (wire/decode.ts PacketAuth): no allocation per advert. */
  readonly #peerKeyIds = new Map<number, { keyId: number; alsoAccepts: number }>();

  constructor(options: ElectionTransportOptions) {
    this.#options = options;
    this.#keyring = options.keyring;
    this.#encoder = new ElectionEncoder(options.keyring, options.session);
    const guard = new ReplayGuard(options.guard);
    for (const s of options.replaySeeds ?? []) {
      guard.seed(s.peer, ELECTION_STREAM, s.session, s.highestSeq, options.clock.mono());
    }
    this.#decoder = new ElectionDecoder(options.keyring, guard);
    this.setPeers(options.peers);
  }

  /** Binds the socket (and joins the multicast group). Resolves once packets can flow. */
  async start(): Promise<void> {
    if (this.#socket !== null)
      throw new DsrError('E_PART_START', 'the election transport is already started');
    const { bind, multicast } = this.#options;
    const socket = createSocket({
      type: bind.family === 'ipv6' ? 'udp6' : 'udp4',
      reuseAddr: Boolean(multicast),
    });
    socket.on('message', (buf, rinfo) => this.#receive(buf, rinfo));
    socket.on('error', (error) => this.#options.onError?.(error));
    // Multicast is only delivered to sockets bound to the wildcard address.
    const address = multicast ? undefined : (bind.address ?? undefined);
    await new Promise<void>((resolve, reject) => {
      const fail = (error: Error) =>
        reject(new DsrError('E_PART_START', 'cannot bind the election socket', { ...bind }, error));
      socket.once('error', fail);
      socket.bind({ address, port: bind.port }, () => {
        socket.off('error', fail);
        resolve();
      });
    });
    if (multicast) {
      // Our own bind address names the interface best; otherwise look the interface's address up
      // (libuv lists only interfaces that are up and running).
      const local =
        bind.family === 'ipv4' && bind.address
          ? bind.address
          : interfaceAddress(multicast.interface, bind.family);
      socket.setMulticastInterface(bind.family === 'ipv6' ? `::%${multicast.interface}` : local);
      socket.addMembership(multicast.group, bind.family === 'ipv6' ? `::%${multicast.interface}` : local);
      socket.setMulticastTTL(multicast.ttl);
      socket.setMulticastLoopback(false);
      this.#multicastTarget = { address: multicast.group, port: multicast.port ?? bind.port };
    }
    this.#socket = socket;
  }

  /** Closes after the datagrams already handed to the kernel path are out (a resign must leave). */
  async close(flushTimeoutMs = 1000): Promise<void> {
    const socket = this.#socket;
    this.#socket = null;
    if (socket === null) return;
    const deadline = Date.now() + flushTimeoutMs;
    while (this.#pendingSends > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
    await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  address(): { address: string; port: number } {
    if (this.#socket === null) throw new DsrError('E_PART_START', 'the election transport is not started');
    const { address, port } = this.#socket.address();
    return { address, port };
  }

  /** Config reload: new peer list (addresses, ports). Replay state is kept. */
  setPeers(peers: readonly TransportPeer[]): void {
    const map = new Map<number, TransportPeer>();
    for (const peer of peers) {
      if (peer.nodeId === this.#options.nodeId) {
        throw new DsrError('E_CONFIG_INVALID', 'the peer list contains this director', { peer: peer.name });
      }
      map.set(peer.nodeId, peer);
    }
    this.#peers = map;
    const sources = new Map<string, SourceBudget>();
    const rate = this.#options.budget ?? budgetFor([10]);
    for (const peer of peers) {
      const address = plainAddress(peer.address);
      sources.set(address, this.#sources.get(address) ?? new SourceBudget(rate));
    }
    this.#sources = sources;
  }

  send(outgoing: readonly Outgoing[]): void {
    const socket = this.#socket;
    if (socket === null) return;
    for (const { to, message } of outgoing) {
      const bytes = this.#encoder.encode(message, this.#options.clock.mono());
      if (to === 'all' && this.#multicastTarget !== null) {
        this.#transmit(socket, bytes, this.#multicastTarget.address, this.#multicastTarget.port);
      } else if (to === 'all') {
        for (const peer of this.#peers.values()) this.#transmit(socket, bytes, peer.address, peer.port);
      } else {
        const peer = this.#peers.get(to);
        if (peer !== undefined) this.#transmit(socket, bytes, peer.address, peer.port);
      }
    }
  }

  /** What the replay guard holds per peer: what the next run seeds from. */
  replayState(): ReplaySeed[] {
    return this.#decoder.guard.seeds(ELECTION_STREAM);
  }

  stats(): TransportStats {
    return {
      sent: this.#sent,
      sendErrors: this.#sendErrors,
      received: this.#received,
      accepted: this.#accepted,
      drops: { ...this.#drops },
      keys: { sendsWith: this.#keyring.sendKeyId, accepts: this.#keyring.keyIds },
      peerKeys: Object.fromEntries(
        [...this.#peerKeyIds].map(([peer, k]) => [
          peer,
          {
            sendsWith: k.keyId,
            accepts: k.alsoAccepts === 0 ? [k.keyId] : [k.keyId, k.alsoAccepts].sort((x, y) => x - y),
          },
        ]),
      ),
    };
  }

  /**
   * Signs and verifies with these keys from the next packet on: a key rotation's reload, with no
   * new session (the replay state and the peers' view of us carry on).
   */
  setKeyring(keyring: Keyring): void {
    this.#keyring = keyring;
    this.#encoder.setKeyring(keyring);
    this.#decoder.setKeyring(keyring);
  }

  #transmit(socket: Socket, bytes: Buffer, address: string, port: number): void {
    this.#sent++;
    this.#pendingSends++;
    socket.send(bytes, port, address, (error) => {
      this.#pendingSends--;
      if (error) {
        this.#sendErrors++;
        this.#options.onError?.(error);
      }
    });
  }

  #receive(buf: Buffer, rinfo: RemoteInfo): void {
    this.#received++;
    const clock = this.#options.clock;
    // The source first, then its budget, and only then the MAC: a flood costs a map lookup each.
    const budget = this.#sources.get(plainAddress(rinfo.address));
    if (budget === undefined || !budget.take(clock.mono())) {
      this.#drop(budget === undefined ? 'unknown-source' : 'over-budget', {
        address: rinfo.address,
        port: rinfo.port,
      });
      return;
    }
    let peer: TransportPeer | undefined;
    const admit = (message: ElectionMessage): DropReason | null => {
      if (message.from === this.#options.nodeId) return 'self';
      peer = this.#peers.get(message.from);
      if (peer === undefined) return 'unknown-peer';
      return plainAddress(peer.address) === plainAddress(rinfo.address) ? null : 'source-mismatch';
    };
    const result = this.#decoder.decode(buf, { mono: clock.mono(), wall: clock.wall() }, admit);
    if (!result.ok) {
      this.#drop(result.reason, {
        address: rinfo.address,
        port: rinfo.port,
        from: result.from,
        groupId: result.groupId,
      });
      return;
    }
    this.#accepted++;
    if (result.message.kind === 'advert') {
      const { keyId, alsoAccepts } = result.auth;
      const last = this.#peerKeyIds.get(result.message.from);
      if (last?.keyId !== keyId || last.alsoAccepts !== alsoAccepts) {
        this.#peerKeyIds.set(result.message.from, { keyId, alsoAccepts });
      }
    }
    this.#options.onMessage(result.message, peer!);
  }

  #drop(reason: DropReason, info: DropInfo): void {
    countDrop(this.#drops, reason);
    this.#options.onDrop?.(reason, info);
  }
}

function interfaceAddress(name: string, family: 'ipv4' | 'ipv6'): string {
  const wanted = family === 'ipv6' ? 'IPv6' : 'IPv4';
  const entry = networkInterfaces()[name]?.find((a) => a.family === wanted);
  if (entry === undefined) {
    throw new DsrError('E_NO_INTERFACE', `interface ${name} has no ${wanted} address for multicast`, {
      interface: name,
    });
  }
  return isIPv6(entry.address) ? `${entry.address}%${name}` : entry.address;
}
