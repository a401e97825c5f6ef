/**
 * Raft's datagram driver over node:dgram: unicast to each voter, signed and verified with the
 * Raft key (derived from the operator's like the election's and the sync's, core/auth/README.md).
 * A datagram is checked in the order core/auth/README.md gives: its source address against the
 * voters' and the source's budget (before any MAC), the packet and its MAC, then that it is
 * addressed to us by a voter at that voter's address, and the replay guard last. Everything else
 * is dropped and counted by reason (../drop-reasons.ts). It holds no Raft state.
 */
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import type { Keyring } from '../../core/auth/keyring.ts';
import { ReplayGuard, type ReplayGuardOptions, type ReplaySeed } from '../../core/auth/replay-guard.ts';
import type { SenderSession } from '../../core/auth/session.ts';
import { DsrError } from '../../core/errors.ts';
import { countDrop, type DropCounters, type DropReason } from '../drop-reasons.ts';
import type { TransportClock, TransportPeer } from '../transport/election-transport.ts';
import { type BudgetRate, SourceBudget } from '../transport/source-budget.ts';
import type { RaftMessage } from './types.ts';
import { RAFT_STREAM, RaftDecoder } from './wire/decode.ts';
import { encodeRaftPacket } from './wire/encode.ts';

export interface RaftTransportOptions {
  readonly nodeId: number;
  readonly bind: { readonly address: string | null; readonly port: number; readonly family: 'ipv4' | 'ipv6' };
  readonly peers: readonly TransportPeer[];
  /** Derived for Raft (RAFT_KEY_PURPOSE). */
  readonly keyring: Keyring;
  readonly session: SenderSession;
  /**
   * Ours, sent in every packet; a voter's with another is dropped ('timing-mismatch'): the lease
   * rests on every voter promising for as long as the leader counts on (lease.ts).
   */
  readonly electionTimeoutMs: number;
  readonly guard?: ReplayGuardOptions;
  readonly clock: TransportClock;
  readonly replaySeeds?: readonly ReplaySeed[];
  /** What each voter's address may make us verify. */
  readonly budget: BudgetRate;
  readonly onMessage: (message: RaftMessage) => void;
  readonly onDrop?: (reason: DropReason, info: { address: string; port: number; from?: number }) => void;
  readonly onError?: (error: Error) => void;
}

export interface RaftTransportStats {
  readonly sent: number;
  readonly sendErrors: number;
  readonly received: number;
  readonly accepted: number;
  readonly drops: DropCounters;
}

const plainAddress = (address: string) =>
  (address.startsWith('::ffff:') ? address.slice(7) : address).toLowerCase();

export class RaftTransport {
  readonly #options: RaftTransportOptions;
  readonly #decoder: RaftDecoder;
  readonly #peers = new Map<number, TransportPeer>();
  readonly #sources = new Map<string, SourceBudget>();
  readonly #drops: DropCounters = {};
  #socket: Socket | null = null;
  #sent = 0;
  #sendErrors = 0;
  #received = 0;
  #accepted = 0;

  constructor(options: RaftTransportOptions) {
    this.#options = options;
    const guard = new ReplayGuard(options.guard);
    for (const seed of options.replaySeeds ?? []) {
      guard.seed(seed.peer, RAFT_STREAM, seed.session, seed.highestSeq, options.clock.mono());
    }
    this.#decoder = new RaftDecoder(options.keyring, guard);
    for (const peer of options.peers) {
      if (peer.nodeId === options.nodeId) {
        throw new DsrError('E_CONFIG_INVALID', 'the voter list names this director as a peer', {
          peer: peer.name,
        });
      }
      this.#peers.set(peer.nodeId, peer);
      this.#sources.set(plainAddress(peer.address), new SourceBudget(options.budget));
    }
  }

  async start(): Promise<void> {
    if (this.#socket !== null) throw new DsrError('E_PART_START', 'the raft transport is already started');
    const { bind } = this.#options;
    const socket = createSocket(bind.family === 'ipv6' ? 'udp6' : 'udp4');
    socket.on('message', (buf, rinfo) => this.#receive(buf, rinfo));
    socket.on('error', (error) => this.#options.onError?.(error));
    await new Promise<void>((resolve, reject) => {
      const fail = (error: Error) =>
        reject(new DsrError('E_PART_START', 'cannot bind the raft socket', { ...bind }, error));
      socket.once('error', fail);
      socket.bind({ address: bind.address ?? undefined, port: bind.port }, () => {
        socket.off('error', fail);
        resolve();
      });
    });
    this.#socket = socket;
  }

  async close(): Promise<void> {
    const socket = this.#socket;
    this.#socket = null;
    if (socket !== null) await new Promise<void>((resolve) => socket.close(() => resolve()));
  }

  address(): { address: string; port: number } {
    if (this.#socket === null) throw new DsrError('E_PART_START', 'the raft transport is not started');
    return this.#socket.address();
  }

  send(to: number, message: RaftMessage): void {
    const socket = this.#socket;
    const peer = this.#peers.get(to);
    if (socket === null || peer === undefined) return;
    const { keyring, session, electionTimeoutMs, clock } = this.#options;
    const bytes = encodeRaftPacket(message, { to, electionTimeoutMs }, session.next(clock.mono()), keyring);
    this.#sent++;
    socket.send(bytes, peer.port, peer.address, (error) => {
      if (error) {
        this.#sendErrors++;
        this.#options.onError?.(error);
      }
    });
  }

  replayState(): ReplaySeed[] {
    return this.#decoder.guard.seeds(RAFT_STREAM);
  }

  stats(): RaftTransportStats {
    const drops = { ...this.#drops };
    return {
      sent: this.#sent,
      sendErrors: this.#sendErrors,
      received: this.#received,
      accepted: this.#accepted,
      drops,
    };
  }

  #receive(buf: Buffer, rinfo: RemoteInfo): void {
    this.#received++;
    const { clock, nodeId } = this.#options;
    const budget = this.#sources.get(plainAddress(rinfo.address));
    if (budget === undefined || !budget.take(clock.mono())) {
      this.#drop(budget === undefined ? 'unknown-source' : 'over-budget', rinfo);
      return;
    }
    const admit = (message: RaftMessage, to: number, electionTimeoutMs: number): DropReason | null => {
      if (message.from === nodeId) return 'self';
      const peer = this.#peers.get(message.from);
      if (peer === undefined) return 'unknown-peer';
      if (plainAddress(peer.address) !== plainAddress(rinfo.address)) return 'source-mismatch';
      if (to !== nodeId) return 'not-for-us';
      return electionTimeoutMs === this.#options.electionTimeoutMs ? null : 'timing-mismatch';
    };
    const result = this.#decoder.decode(buf, { mono: clock.mono(), wall: clock.wall() }, admit);
    if (!result.ok) {
      this.#drop(result.reason, rinfo, result.from);
      return;
    }
    this.#accepted++;
    this.#options.onMessage(result.message);
  }

  #drop(reason: DropReason, rinfo: RemoteInfo, from?: number): void {
    countDrop(this.#drops, reason);
    this.#options.onDrop?.(reason, {
      address: rinfo.address,
      port: rinfo.port,
      ...(from === undefined ? {} : { from }),
    });
  }
}
