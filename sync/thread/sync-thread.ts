/**
 * The main thread's side of the sync's thread (./sync-worker.ts): starts it, hands it the ids in
 * force and which VIPs are ours, relays operator state both ways, and keeps the latest status
 * snapshot it sent.
 *
 *   const sync = await SyncThread.start(data, { onPeerState, onSharedState, onError, onFailure });
 *   sync.setDirectory(forwarder.reconciler.directory());   // after every reconcile
 *   sync.setOurs(vips);                                     // when mastership changes
 *   sync.snapshot();                                        // as of the thread's last report
 *   await sync.stop();
 */
import { Worker } from 'node:worker_threads';
import type { TableTally } from '../../admin/catalogue/drill.ts';
import type { KeyMaterial } from '../../core/auth/key-material.ts';
import { DsrError } from '../../core/errors.ts';
import type { DirectoryData } from '../../forwarder/directory.ts';
import type { PeerSyncState, SharedState } from '../service.ts';
import {
  type FromSyncThread,
  receivedState,
  type SyncSnapshot,
  type SyncThreadData,
  type ToSyncThread,
} from './protocol.ts';

export interface SyncThreadHandlers {
  readonly onPeerState: (peer: number, state: PeerSyncState) => void;
  readonly onSharedState: (peer: number, state: SharedState) => void;
  readonly onError: (message: string) => void;
  /** The thread died: the sync no longer runs. */
  readonly onFailure: (error: Error) => void;
}

const STOP_TIMEOUT_MS = 5000;

export class SyncThread {
  readonly #worker: Worker;
  readonly #handlers: SyncThreadHandlers;
  readonly #tallies = new Map<number, { resolve: (t: TableTally) => void; reject: (e: Error) => void }>();
  #snapshot: SyncSnapshot;
  #nextId = 1;
  #stopping: Promise<void> | undefined;
  #dead: Error | undefined;

  private constructor(worker: Worker, handlers: SyncThreadHandlers, first: SyncSnapshot) {
    this.#worker = worker;
    this.#handlers = handlers;
    this.#snapshot = first;
  }

  /** Resolves once the socket is bound and the thread runs; rejects with its start error. */
  static start(data: SyncThreadData, handlers: SyncThreadHandlers): Promise<SyncThread> {
    const worker = new Worker(new URL('./sync-worker.ts', import.meta.url), { workerData: data });
    return new Promise((resolve, reject) => {
      let thread: SyncThread | undefined;
      worker.on('message', (m: FromSyncThread) => {
        if (m.type === 'ready') {
          thread = new SyncThread(worker, handlers, m.snapshot);
          resolve(thread);
        } else if (m.type === 'start-failed') {
          reject(
            m.code === null
              ? new Error(m.message)
              : new DsrError('E_PART_START', m.message, { code: m.code }),
          );
        } else {
          if (thread !== undefined) thread.#receive(m);
        }
      });
      worker.on('error', (err) => (thread ? thread.#fail(err) : reject(err)));
      worker.on('exit', (code) => {
        const err = new DsrError('E_INTERNAL', `the sync thread exited (code ${code})`, { code });
        if (thread === undefined) reject(err);
        else if (thread.#stopping === undefined) thread.#fail(err);
      });
    });
  }

  snapshot(): SyncSnapshot {
    return this.#snapshot;
  }

  setDirectory(directory: DirectoryData): void {
    this.#post({ type: 'directory', directory });
  }

  setOurs(vips: Uint8Array[]): void {
    this.#post({ type: 'ours', vips });
  }

  shareState(state: SharedState): void {
    this.#post({ type: 'share-state', state });
  }

  resync(): void {
    this.#post({ type: 'resync' });
  }

  /** New operator keys (a rotation step), used from the next datagram on, in the same session. */
  setKeys(keys: KeyMaterial): void {
    this.#post({ type: 'keys', keys });
  }

  /**
   * Counts the next whole bulk `peer` sends (a resync asks for one): conns, those with more than
   * `longLivedMs` left, persistence entries. Rejects after `limitMs`.
   */
  tallyPeer(peer: number, longLivedMs: number, limitMs: number): Promise<TableTally> {
    if (this.#dead !== undefined) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#tallies.delete(id);
        reject(new DsrError('E_TIMEOUT', `no whole bulk from the peer within ${limitMs} ms`, { peer }));
      }, limitMs);
      this.#tallies.set(id, {
        resolve: (t) => {
          clearTimeout(timer);
          resolve(t);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.#post({ type: 'tally', id, peer, longLivedMs });
      this.#post({ type: 'resync' });
    });
  }

  stop(): Promise<void> {
    this.#stopping ??= new Promise<void>((resolve) => {
      if (this.#dead !== undefined) return resolve();
      const timer = setTimeout(() => void this.#worker.terminate().then(() => resolve()), STOP_TIMEOUT_MS);
      this.#worker.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      this.#post({ type: 'stop' });
    });
    return this.#stopping;
  }

  #post(m: ToSyncThread): void {
    if (this.#dead === undefined) this.#worker.postMessage(m);
  }

  #receive(m: FromSyncThread): void {
    switch (m.type) {
      case 'snapshot':
        this.#snapshot = m.snapshot;
        break;
      case 'peer-state':
        this.#snapshot = m.snapshot;
        this.#handlers.onPeerState(m.peer, m.state);
        break;
      case 'shared-state':
        this.#handlers.onSharedState(m.peer, receivedState(m.state));
        break;
      case 'tally-done':
        this.#tallies.get(m.id)?.resolve(m.tally);
        this.#tallies.delete(m.id);
        break;
      case 'error':
        this.#handlers.onError(m.message);
        break;
    }
  }

  #fail(err: Error): void {
    if (this.#dead !== undefined) return;
    this.#dead = err;
    for (const t of this.#tallies.values()) t.reject(err);
    this.#tallies.clear();
    this.#handlers.onFailure(err);
  }
}
