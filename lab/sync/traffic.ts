/** The main thread's side of the sync benchmark's traffic thread (traffic-worker.ts). */
import { Worker } from 'node:worker_threads';
import { DsrError } from '../../core/errors.ts';
import type { TrafficCommand, TrafficData, TrafficReport } from './traffic-worker.ts';

export type TrafficDone = Extract<TrafficReport, { type: 'done' }>;

export class Traffic {
  readonly #worker: Worker;
  #onSamples: (samples: [number, bigint][]) => void = () => {};
  #pending: { resolve: (d: TrafficDone) => void; reject: (e: Error) => void } | undefined;
  /** Why the thread is gone, once it is: a run then fails at once rather than waiting for ever. */
  #gone: Error | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (m: TrafficReport) => {
      if (m.type === 'samples') this.#onSamples(m.samples.map(([i, t]) => [i, BigInt(t)]));
      else if (m.type === 'done') {
        this.#pending?.resolve(m);
        this.#pending = undefined;
      }
    });
    const fail = (e: Error): void => {
      this.#gone ??= e;
      this.#pending?.reject(e);
      this.#pending = undefined;
    };
    worker.on('error', (e) => fail(new DsrError('E_BENCH', `the traffic thread failed: ${e.message}`)));
    worker.on('exit', (code) => fail(new DsrError('E_BENCH', `the traffic thread exited (${code})`)));
  }

  static start(data: TrafficData): Promise<Traffic> {
    const worker = new Worker(new URL('./traffic-worker.ts', import.meta.url), { workerData: data });
    return new Promise((resolve, reject) => {
      worker.once('message', (m: TrafficReport) =>
        m.type === 'ready' ? resolve(new Traffic(worker)) : reject(new DsrError('E_BENCH', 'traffic thread')),
      );
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new DsrError('E_BENCH', `the traffic thread exited (${code})`)));
    });
  }

  /** Runs one command to its end; SYN samples (index, CLOCK_MONOTONIC ns) go to `onSamples` meanwhile. */
  run(
    c: Exclude<TrafficCommand, { op: 'stop' }>,
    onSamples?: (s: [number, bigint][]) => void,
  ): Promise<TrafficDone> {
    this.#onSamples = onSamples ?? (() => {});
    return new Promise((resolve, reject) => {
      if (this.#gone !== undefined) {
        reject(this.#gone);
        return;
      }
      this.#pending = { resolve, reject };
      this.#worker.postMessage(c);
    });
  }

  async stop(): Promise<void> {
    if (this.#gone !== undefined) return;
    this.#worker.postMessage({ op: 'stop' } satisfies TrafficCommand);
    await new Promise<void>((r) => {
      const timer = setTimeout(() => void this.#worker.terminate().then(() => r()), 5000);
      this.#worker.once('exit', () => {
        clearTimeout(timer);
        r();
      });
    });
  }
}
