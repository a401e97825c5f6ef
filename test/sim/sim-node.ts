/**
 * One simulated director: an ElectionGroup behind the real wire codec (keyring, sessions, replay
 * guard), with a process life cycle (running, paused as by SIGSTOP, crashed as by kill -9) and its
 * own clocks: the monotonic clock the election sees, and a wall clock that can be stepped.
 */
import type { Keyring } from '../../core/auth/keyring.ts';
import { ReplayGuard, type ReplayGuardOptions } from '../../core/auth/replay-guard.ts';
import { newSessionId, SenderSession } from '../../core/auth/session.ts';
import type { DropReason } from '../../failover/drop-reasons.ts';
import { ElectionGroup } from '../../failover/election/group.ts';
import type { ElectionInput } from '../../failover/election/input.ts';
import type { ElectionMessage } from '../../failover/election/messages.ts';
import type { TrackedConditionSpec } from '../../failover/election/tracked-conditions.ts';
import type { ElectionEffect, ElectionOutput, Transition } from '../../failover/election/types.ts';
import { ElectionDecoder } from '../../failover/wire/decode.ts';
import { ElectionEncoder } from '../../failover/wire/encode.ts';
import type { Packet } from './sim-network.ts';

export const WALL_EPOCH = 1_800_000_000_000;

export interface NodeSpec {
  readonly name: string;
  readonly nodeId: number;
  readonly priority: number;
  readonly intervalMs: number;
  readonly preempt?: boolean;
  readonly preemptDelayMs?: number;
  readonly tracked?: readonly TrackedConditionSpec[];
  readonly syncReady?: boolean;
  readonly fingerprint?: Uint8Array;
  /** This node's wall clock minus the simulation's (clocks are not synchronised). */
  readonly wallOffsetMs?: number;
}

export type NodeEvent =
  | { readonly type: 'transition'; readonly transition: Transition }
  | { readonly type: 'effect'; readonly effect: ElectionEffect }
  | { readonly type: 'send'; readonly to: number | 'all'; readonly message: ElectionMessage }
  | { readonly type: 'drop'; readonly reason: DropReason; readonly from: string };

export interface NodeEnv {
  readonly keyring: Keyring;
  readonly guard: ReplayGuardOptions;
  readonly random: () => number;
  readonly peersOf: (spec: NodeSpec) => number[];
  /** Sends bytes to one node, by node id. */
  readonly transmit: (from: SimNode, toNodeId: number, bytes: Buffer) => void;
  readonly allPeerIds: (self: SimNode) => number[];
  readonly onEvent: (node: SimNode, event: NodeEvent) => void;
}

export type Life = 'down' | 'running' | 'paused';

export class SimNode {
  readonly spec: NodeSpec;
  readonly #env: NodeEnv;
  life: Life = 'down';
  group!: ElectionGroup;
  encoder!: ElectionEncoder;
  decoder!: ElectionDecoder;
  wallOffsetMs: number;
  /** Added to the simulation time to get what this node's monotonic clock reads. */
  monoOffsetMs = 0;
  readonly #inbox: Packet[] = [];
  #lastSession: bigint | undefined;

  constructor(spec: NodeSpec, env: NodeEnv) {
    this.spec = spec;
    this.#env = env;
    this.wallOffsetMs = spec.wallOffsetMs ?? 0;
  }

  get name(): string {
    return this.spec.name;
  }

  mono(now: number): number {
    return now + this.monoOffsetMs;
  }

  wall(now: number): number {
    return Math.round(WALL_EPOCH + now + this.wallOffsetMs);
  }

  /**
   * A fresh process: new state machine, new sender session, empty replay state. With `persisted`,
   * the previous session id survives in the state directory (see core/auth/README.md).
   */
  boot(now: number, persisted = true): void {
    const wall = this.wall(now);
    const previous = persisted ? this.#lastSession : undefined;
    const session = newSessionId(wall, Math.floor(this.#env.random() * 0x10000), previous);
    this.#lastSession = session;
    this.encoder = new ElectionEncoder(this.#env.keyring, new SenderSession(session, wall, this.mono(now)));
    this.decoder = new ElectionDecoder(this.#env.keyring, new ReplayGuard(this.#env.guard));
    this.group = new ElectionGroup({
      groupId: 1,
      nodeId: this.spec.nodeId,
      priority: this.spec.priority,
      advertIntervalMs: this.spec.intervalMs,
      fingerprint: this.spec.fingerprint ?? new Uint8Array(16).fill(7),
      preempt: this.spec.preempt,
      preemptDelayMs: this.spec.preemptDelayMs,
      peers: this.#env.peersOf(this.spec),
      tracked: this.spec.tracked,
      syncReady: this.spec.syncReady,
      random: this.#env.random,
    });
    this.#inbox.length = 0;
    this.life = 'running';
    this.apply(now, this.group.step(this.mono(now), { kind: 'start' }));
  }

  crash(): void {
    this.life = 'down';
    this.#inbox.length = 0;
  }

  pause(): void {
    if (this.life === 'running') this.life = 'paused';
  }

  /** SIGCONT: as in Node's event loop, timers run before the I/O that queued up meanwhile. */
  resume(now: number): void {
    if (this.life !== 'paused') return;
    this.life = 'running';
    this.tick(now);
    const queued = this.#inbox.splice(0);
    for (const packet of queued) this.receive(now, packet);
  }

  deadline(): number | null {
    if (this.life !== 'running') return null;
    const d = this.group.nextDeadline();
    return d === null ? null : d - this.monoOffsetMs;
  }

  tick(now: number): void {
    if (this.life === 'running') this.apply(now, this.group.step(this.mono(now), { kind: 'tick' }));
  }

  receive(now: number, packet: Packet): void {
    if (this.life === 'down') return;
    if (this.life === 'paused') {
      this.#inbox.push(packet);
      return;
    }
    const result = this.decoder.decode(packet.bytes, { mono: this.mono(now), wall: this.wall(now) });
    if (!result.ok) {
      this.group.step(this.mono(now), { kind: 'dropped', reason: result.reason });
      this.#env.onEvent(this, { type: 'drop', reason: result.reason, from: packet.from });
      return;
    }
    const before = { ...this.group.status(this.mono(now)).drops };
    this.apply(now, this.group.step(this.mono(now), { kind: 'message', message: result.message }));
    const after = this.group.status(this.mono(now)).drops;
    for (const [reason, count] of Object.entries(after)) {
      if (count !== before[reason as DropReason]) {
        this.#env.onEvent(this, { type: 'drop', reason: reason as DropReason, from: packet.from });
      }
    }
  }

  /** Steps the group with an input now; its errors propagate to the caller. */
  input(now: number, input: ElectionInput): void {
    this.apply(now, this.group.step(this.mono(now), input));
  }

  apply(now: number, output: ElectionOutput): void {
    for (const transition of output.transitions) this.#env.onEvent(this, { type: 'transition', transition });
    for (const effect of output.effects) this.#env.onEvent(this, { type: 'effect', effect });
    for (const { to, message } of output.messages) {
      this.#env.onEvent(this, { type: 'send', to, message });
      const bytes = this.encoder.encode(message, this.mono(now));
      const targets = to === 'all' ? this.#env.allPeerIds(this) : [to];
      for (const id of targets) this.#env.transmit(this, id, bytes);
    }
  }
}
