/**
 * The real-time driver of one Raft voter: steps the core (./node.ts) at its deadlines and with what
 * the transport delivers, and carries out each output in the order types.ts gives — the lease
 * effect first (one given up is gone before anything is sent), then the state made durable
 * (./storage.ts), then the messages, then the state machine. The only clock reads and timers of
 * Raft.
 */
import type { RaftNode } from './node.ts';
import type { RaftStorage } from './storage.ts';
import type { Entry, RaftEffect, RaftInput, RaftMessage, RaftOutput, Snapshot } from './types.ts';

export interface RaftRunnerHooks {
  /** Monotonic ms. */
  readonly now: () => number;
  readonly send: (to: number, message: RaftMessage) => void;
  readonly onEffects: (effects: readonly RaftEffect[]) => void;
  /** A leader's snapshot replaces the state machine. */
  readonly onRestore: (snapshot: Snapshot) => void;
  readonly onCommitted: (entries: readonly Entry[]) => void;
  /** The core or the storage failed: the voter cannot go on safely. */
  readonly onFailure: (error: unknown) => void;
}

export class RaftRunner {
  readonly #node: RaftNode;
  readonly #storage: RaftStorage;
  readonly #hooks: RaftRunnerHooks;
  #timer: NodeJS.Timeout | null = null;
  #stopped = false;

  constructor(node: RaftNode, storage: RaftStorage, hooks: RaftRunnerHooks) {
    this.#node = node;
    this.#storage = storage;
    this.#hooks = hooks;
  }

  get node(): RaftNode {
    return this.#node;
  }

  start(): void {
    this.#step({ kind: 'start' });
  }

  deliver(message: RaftMessage): void {
    if (!this.#stopped) this.#step({ kind: 'message', message });
  }

  /** An operator input (propose, transfer, compact): throws its DsrError when it cannot apply. */
  input(input: Extract<RaftInput, { kind: 'propose' | 'transfer' | 'compact' }>): void {
    const out = this.#node.step(this.#hooks.now(), input);
    this.#safely(() => this.#carryOut(out));
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }

  #step(input: RaftInput): void {
    this.#safely(() => this.#carryOut(this.#node.step(this.#hooks.now(), input)));
  }

  #safely(run: () => void): void {
    try {
      run();
    } catch (error) {
      this.stop();
      this.#hooks.onFailure(error);
    }
  }

  #carryOut(out: RaftOutput): void {
    if (out.effects.length > 0) this.#hooks.onEffects(out.effects);
    this.#storage.save(out);
    for (const { to, message } of out.messages) this.#hooks.send(to, message);
    if (out.restore !== null) this.#hooks.onRestore(out.restore);
    if (out.committed.length > 0) this.#hooks.onCommitted(out.committed);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#stopped) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    const deadline = this.#node.nextDeadline();
    this.#timer = Number.isFinite(deadline)
      ? setTimeout(() => this.#step({ kind: 'tick' }), Math.max(0, Math.ceil(deadline - this.#hooks.now())))
      : null;
  }
}
