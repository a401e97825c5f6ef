/** The parent side of forwarder-table-worker.ts: requests by id, one worker per running forwarder. */
import { Worker } from 'node:worker_threads';
import type { ParsedArgsOf } from '../../admin/catalogue/commands.ts';
import type { FlowCensus } from '../../admin/catalogue/drill.ts';
import type { ConnsResult } from '../../admin/catalogue/flows.ts';
import { DsrError } from '../../core/errors.ts';
import type { Forwarder } from '../forwarder.ts';
import type { RealNames, TableCounts } from './flows.ts';
import type { TableReply, TableRequest, TableWorkerData } from './worker.ts';

type Request = TableRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export interface TickResult {
  swept: { conns: number; persist: number };
  counts: TableCounts;
  /** How long the walks took in the worker (not counting the wait for it). */
  walkMs: number;
}

export class TableThread {
  readonly #fwd: Forwarder;
  readonly #worker: Worker;
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #dead: Error | undefined;

  constructor(fwd: Forwarder) {
    this.#fwd = fwd;
    const m = fwd.loaded.maps;
    const data: TableWorkerData = { conns4: m.conns4.fd, conns6: m.conns6.fd, persist: m.persist.fd };
    this.#worker = new Worker(new URL('./worker.ts', import.meta.url), { workerData: data });
    this.#worker.unref();
    this.#worker.on('message', (r: TableReply) => {
      const p = this.#pending.get(r.id);
      if (p === undefined) return;
      this.#pending.delete(r.id);
      if (r.ok) p.resolve(r.result);
      else p.reject(new DsrError('E_BPF_MAP', r.error));
    });
    this.#worker.on('error', (err) => this.#fail(err));
    this.#worker.on('exit', (code) => this.#fail(new Error(`the table worker exited (${code})`)));
  }

  #fail(err: Error): void {
    this.#dead ??= err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }

  #request(req: Request): Promise<unknown> {
    if (this.#dead !== undefined) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...req, id });
    });
  }

  /** Sweeps expired entries and counts the live ones. */
  tick(): Promise<TickResult> {
    const persistTimeouts = new Map<number, bigint>();
    for (const s of this.#fwd.reconciler.status()) {
      const svc = this.#fwd.store.getService(s.id);
      if (svc !== null) persistTimeouts.set(s.id, svc.persistTimeoutNs);
    }
    return this.#request({
      op: 'tick',
      cfg: this.#fwd.store.getConfig(),
      persistTimeouts,
    }) as Promise<TickResult>;
  }

  conns(names: RealNames, args: ParsedArgsOf<'conns'>): Promise<ConnsResult> {
    return this.#request({
      op: 'conns',
      cfg: this.#fwd.store.getConfig(),
      names,
      args,
    }) as Promise<ConnsResult>;
  }

  /** Live flows, and those with more than `minRemainingMs` to live (the drill's census). */
  census(minRemainingMs: number): Promise<FlowCensus> {
    return this.#request({
      op: 'census',
      cfg: this.#fwd.store.getConfig(),
      minRemainingNs: BigInt(Math.round(minRemainingMs)) * 1_000_000n,
    }) as Promise<FlowCensus>;
  }

  get failed(): boolean {
    return this.#dead !== undefined;
  }

  async close(): Promise<void> {
    this.#dead ??= new Error('the table worker is closed');
    await this.#worker.terminate();
  }
}
