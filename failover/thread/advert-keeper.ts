/**
 * The advert keeper: a second thread, on another CPU than the election thread, that sends a
 * master's adverts when the election thread is not scheduled.
 *
 * Why: a host can take one vCPU away from a VM for several master-down intervals while the other
 * runs on (docs/failover.md, "The advert keeper", has the soaks that showed it). The director
 * whose election thread sat on it went silent, so the backup rightly took over from a master that
 * was alive: its forwarder (in the kernel) and its VIPs never stopped. No advert interval fixes
 * that without giving up the outage target. A thread on another CPU keeps the master's adverts
 * going through such a pause; when the whole process stops (SIGSTOP, kill -9) it stops too, and a
 * real failure is taken over as before.
 *
 * This is the election thread's handle on it. What the keeper is told and when it speaks:
 * ./advert-cover.ts.
 */
import { Worker } from 'node:worker_threads';
import type { KeyMaterial } from '../../core/auth/key-material.ts';
import type { Outgoing } from '../election/messages.ts';
import { CoverTemplates } from './advert-cover.ts';
import { CoverBoard, type CoverCounter } from './cover-board.ts';
import type { FromKeeper, KeeperData, KeeperStatus, ToKeeper } from './protocol.ts';

const START_TIMEOUT_MS = 5000;
const STOP_TIMEOUT_MS = 1000;

export class AdvertKeeper {
  readonly board: CoverBoard;
  readonly #worker: Worker;
  readonly #templates: CoverTemplates;
  readonly #cpus: { election: number | null; keeper: number | null };
  readonly #setup: { scheduling: string; problems: readonly string[] };
  /** Why the keeper thread ended while the election ran (it then covers nothing), or null. */
  #ended: string | null = null;
  readonly #exited: Promise<void>;

  private constructor(
    worker: Worker,
    board: CoverBoard,
    templates: CoverTemplates,
    cpus: { election: number | null; keeper: number | null },
    setup: { scheduling: string; problems: readonly string[] },
  ) {
    this.#worker = worker;
    this.board = board;
    this.#templates = templates;
    this.#cpus = cpus;
    this.#setup = setup;
    worker.on('error', (err) => {
      this.#ended = `the keeper thread failed: ${err.message}`;
    });
    this.#exited = new Promise((resolve) =>
      worker.once('exit', () => {
        this.#ended ??= 'the keeper thread exited';
        resolve();
      }),
    );
  }

  /**
   * Starts the keeper thread. `board` is made by the caller first: its sequence cell must back the
   * election thread's own session. Rejects with the keeper's start error.
   */
  static start(
    board: CoverBoard,
    groups: readonly { readonly groupId: number; readonly spacingMs: number }[],
    data: Omit<KeeperData, 'board' | 'slots'>,
    electionCpu: number | null,
  ): Promise<AdvertKeeper> {
    const templates = new CoverTemplates(board, groups);
    const worker = new Worker(new URL('./advert-keeper-worker.ts', import.meta.url), {
      workerData: { ...data, board: board.buffer, slots: board.slots } satisfies KeeperData,
    });
    return new Promise((resolve, reject) => {
      const timeout = setTimeout(() => {
        void worker.terminate();
        reject(new Error(`the advert keeper did not start within ${START_TIMEOUT_MS} ms`));
      }, START_TIMEOUT_MS);
      worker.once('message', (m: FromKeeper) => {
        clearTimeout(timeout);
        if (m.type === 'start-failed') {
          reject(new Error(m.message));
          return;
        }
        const cpus = { election: electionCpu, keeper: data.cpu };
        resolve(new AdvertKeeper(worker, board, templates, cpus, m));
      });
      worker.once('error', (err) => {
        clearTimeout(timeout);
        reject(err);
      });
    });
  }

  /** Every datagram the election sends, before it is sent. */
  observe(outgoing: readonly Outgoing[], now: number): void {
    const changed = this.#templates.observe(outgoing, now);
    if (changed !== null) this.#worker.postMessage({ type: 'templates', ...changed } satisfies ToKeeper);
  }

  /** New operator keys (the election thread's copy: the keeper derives its own and zeroes these). */
  setKeys(keys: KeyMaterial): void {
    this.#worker.postMessage({ type: 'keys', keys } satisfies ToKeeper);
  }

  coveredUntil(groupId: number): number | null {
    return this.#templates.coveredUntil(groupId);
  }

  status(): KeeperStatus {
    return {
      running: this.#ended === null,
      electionCpu: this.#cpus.election,
      keeperCpu: this.#cpus.keeper,
      scheduling: this.#setup.scheduling,
      problems: this.#ended === null ? this.#setup.problems : [...this.#setup.problems, this.#ended],
      ...figures(this.board.counters()),
    };
  }

  /** Stops the keeper first: a master's last words (priority 0) are the election thread's. */
  async stop(): Promise<void> {
    this.board.bumpEpoch();
    this.#worker.postMessage({ type: 'stop' } satisfies ToKeeper);
    const timer = setTimeout(() => void this.#worker.terminate(), STOP_TIMEOUT_MS);
    await this.#exited;
    clearTimeout(timer);
  }
}

/** The board's counters as status shows them. */
function figures(c: Record<CoverCounter, number>) {
  const { longestSilenceUs, ...counts } = c;
  return { ...counts, longestSilenceMs: Math.round(longestSilenceUs / 100) / 10 };
}

/** A keeper that does not run, with why, for status. */
export function keeperOff(reason: string, electionCpu: number | null = null): KeeperStatus {
  return {
    running: false,
    electionCpu,
    keeperCpu: null,
    scheduling: null,
    problems: [reason],
    ...figures(new CoverBoard(0).counters()),
  };
}
