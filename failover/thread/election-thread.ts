/**
 * The main thread's side of the election thread (./election-worker.ts): starts it, sends it
 * inputs, keeps the latest status snapshot it sent, and hands its outputs to the daemon.
 *
 *   const thread = await ElectionThread.start(data, { onOutput, onSocketError, onFailure });
 *   await thread.input(groupId, { kind: 'set-condition', name: 'link:eth0', failing: false });
 *   thread.startGroups();   // once the tracked conditions are known: the groups' startup
 *   await thread.input(groupId, { kind: 'set-priority', priority: 120 });
 *   thread.snapshot();      // as of the last output, input or periodic snapshot
 *   await thread.stop();    // masters resign; every output is delivered before this resolves
 */

import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { KeyMaterial } from '../../core/auth/key-material.ts';
import { DsrError } from '../../core/errors.ts';
import type { ControlInput } from '../election/input.ts';
import type { HungMainReleased } from './hung-main-release.ts';
import type {
  ElectionSnapshot,
  ElectionThreadData,
  FromThread,
  ReportedOutput,
  SerializedError,
  ToThread,
} from './protocol.ts';

export interface ElectionThreadHandlers {
  /** Every output with effects or transitions, in order; the snapshot is already updated. */
  readonly onOutput: (groupId: number, output: ReportedOutput) => void;
  readonly onSocketError: (message: string) => void;
  /** The main thread's heartbeat went stale (every group made Fault) or came back. */
  readonly onMainThread?: (stale: boolean) => void;
  /** The thread removed a group's VIPs while the main thread was stale (hung-main-release.ts). */
  readonly onReleased?: (r: HungMainReleased) => void;
  /** The thread died (an exception, or it exited): the election no longer runs. */
  readonly onFailure: (error: Error) => void;
}

const STOP_TIMEOUT_MS = 5000;

/** process.hrtime.bigint() at this thread's performance.now() zero. */
export function mainClockOriginNs(): bigint {
  return process.hrtime.bigint() - BigInt(Math.round(performance.now() * 1e6));
}

function deserialize(e: SerializedError): Error {
  return e.code === null ? new Error(e.message) : new DsrError(e.code, e.message, e.context);
}

export class ElectionThread {
  readonly #worker: Worker;
  readonly #handlers: ElectionThreadHandlers;
  readonly #pending = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  #snapshot: ElectionSnapshot = { at: 0, groups: [], drops: {}, transport: null, replay: [], keeper: null };
  #nextId = 1;
  #scheduling = 'unknown';
  #schedulingError: string | null = null;
  #announceError: string | null = null;
  #stopping: Promise<void> | undefined;
  #onStopped: (() => void) | undefined;
  #dead: Error | undefined;

  private constructor(worker: Worker, handlers: ElectionThreadHandlers) {
    this.#worker = worker;
    this.#handlers = handlers;
  }

  /** Resolves once the socket is bound and the groups run; rejects with the thread's error. */
  static start(data: ElectionThreadData, handlers: ElectionThreadHandlers): Promise<ElectionThread> {
    const worker = new Worker(new URL('./election-worker.ts', import.meta.url), { workerData: data });
    const thread = new ElectionThread(worker, handlers);
    return new Promise((resolve, reject) => {
      let started = false;
      worker.on('message', (m: FromThread) => {
        if (m.type === 'ready') {
          started = true;
          thread.#scheduling = m.scheduling;
          thread.#schedulingError = m.schedulingError;
          thread.#announceError = m.announceError;
          resolve(thread);
        } else if (m.type === 'start-failed') {
          reject(deserialize(m.error));
        } else {
          thread.#receive(m);
        }
      });
      worker.on('error', (err) => (started ? thread.#fail(err) : reject(err)));
      worker.on('exit', (code) => {
        const err = new DsrError('E_INTERNAL', `the election thread exited (code ${code})`, { code });
        if (!started) reject(err);
        else if (thread.#onStopped !== undefined) thread.#onStopped();
        else thread.#fail(err);
      });
    });
  }

  /** The thread's CPU scheduling as it runs, e.g. "fifo 11, reset on fork". */
  get scheduling(): string {
    return this.#scheduling;
  }

  /** Why the thread cannot send a takeover's first announcement (the main thread still does), or null. */
  get announceError(): string | null {
    return this.#announceError;
  }

  /** Why the requested scheduling was refused (then it runs at the default policy), or null. */
  get schedulingError(): string | null {
    return this.#schedulingError;
  }

  snapshot(): ElectionSnapshot {
    return this.#snapshot;
  }

  /** Steps a group with an input; rejects with the group's DsrError (illegal transition, bad input). */
  input(groupId: number, input: ControlInput): Promise<void> {
    if (this.#dead !== undefined) return Promise.reject(this.#dead);
    if (this.#stopping !== undefined) {
      return Promise.reject(new DsrError('E_ELECTION_INPUT', 'the election is stopping', { groupId }));
    }
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#post({ type: 'input', id, groupId, input });
    });
  }

  /**
   * Starts every group (RFC 5798 §6.4.1), after the inputs sent before it: the caller feeds the
   * tracked conditions first, so a group whose link is down starts in Fault and never arms a
   * takeover timer on a state it does not know yet.
   */
  startGroups(): void {
    if (this.#dead === undefined && this.#stopping === undefined) this.#post({ type: 'start-groups' });
  }

  /**
   * New operator keys (a rotation step): the thread and its keeper sign and verify with them from
   * their next packet on, in the same session. The keys are checked by the config already.
   */
  setKeys(keys: KeyMaterial): void {
    if (this.#dead === undefined && this.#stopping === undefined) this.#post({ type: 'keys', keys });
  }

  /** Graceful stop: masters resign, their adverts are flushed, and every output is delivered. */
  stop(): Promise<void> {
    this.#stopping ??= new Promise<void>((resolve) => {
      if (this.#dead !== undefined) return resolve();
      const timer = setTimeout(() => void this.#worker.terminate().then(() => resolve()), STOP_TIMEOUT_MS);
      this.#onStopped = () => {
        clearTimeout(timer);
        resolve();
      };
      this.#post({ type: 'stop' });
    });
    return this.#stopping;
  }

  #post(m: ToThread): void {
    this.#worker.postMessage(m);
  }

  #receive(m: FromThread): void {
    switch (m.type) {
      case 'output':
        this.#snapshot = m.snapshot;
        this.#handlers.onOutput(m.groupId, m.output);
        break;
      case 'input-done': {
        this.#snapshot = m.snapshot;
        const p = this.#pending.get(m.id);
        this.#pending.delete(m.id);
        if (m.error === null) p?.resolve();
        else p?.reject(deserialize(m.error));
        break;
      }
      case 'snapshot':
        this.#snapshot = m.snapshot;
        break;
      case 'socket-error':
        this.#handlers.onSocketError(m.message);
        break;
      case 'main-thread':
        this.#handlers.onMainThread?.(m.stale);
        break;
      case 'released': {
        const { type, ...released } = m;
        this.#handlers.onReleased?.(released);
        break;
      }
    }
  }

  #fail(err: Error): void {
    if (this.#dead !== undefined) return;
    this.#dead = err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
    this.#handlers.onFailure(err);
  }
}
