/**
 * Runs each target's check every interval, with a timeout, never two at once for one target, and
 * at most `concurrency` at once overall.
 *
 * - Jittered start: a job's first run is at a random point of its first interval (randomness is
 *   injected), so a director starting with hundreds of targets does not fire them all together,
 *   and two directors checking the same real servers drift apart.
 * - Cadence: the next run is due one interval after the previous run *started*; a run that took
 *   longer than the interval is followed by the next one as soon as it ends, never overlapped.
 * - Concurrency: a run that is due while all slots are busy waits in a FIFO queue.
 * - Timeout: the scheduler aborts a run at its timeout (each checker also enforces its own). A
 *   run that still has not settled `settleGraceMs` later is reported as failed and keeps its
 *   slot until it settles; while it is stuck each due run is reported failed instead of started.
 *   So a wedged check (say a command stuck in the kernel) turns its target down, not silent.
 */
import type { CheckResult } from './checker.ts';
import type { Timers } from './timers.ts';

export interface ScheduledJob {
  key: string;
  intervalMs: number;
  timeoutMs: number;
  run(signal: AbortSignal): Promise<CheckResult>;
}

export interface SchedulerOptions {
  timers: Timers;
  /** Uniform in [0, 1). */
  random: () => number;
  concurrency: number;
  /** Fraction of the first interval over which first runs are spread (0..1). Default 1. */
  startSpread?: number;
  settleGraceMs?: number;
  onResult(key: string, result: CheckResult, at: number): void;
}

interface Slot {
  job: ScheduledJob;
  timer: unknown;
  phase: 'idle' | 'queued' | 'running';
  controller: AbortController | null;
  startedAt: number;
  /** A result has already been reported for the current run (it timed out and got stuck). */
  reported: boolean;
  runs: number;
}

export interface SchedulerStats {
  jobs: number;
  running: number;
  queued: number;
  stuck: number;
}

export class CheckScheduler {
  readonly #o: SchedulerOptions;
  readonly #slots = new Map<string, Slot>();
  readonly #queue: string[] = [];
  readonly #settling = new Set<Promise<void>>();
  #running = 0;
  #started = false;

  constructor(options: SchedulerOptions) {
    if (!(options.concurrency >= 1)) throw new RangeError('scheduler concurrency must be >= 1');
    this.#o = options;
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    for (const [key, slot] of this.#slots) this.#armFirst(key, slot);
  }

  /** Stops scheduling, aborts every run and resolves when they have all settled. */
  async stop(): Promise<void> {
    this.#started = false;
    this.#queue.length = 0;
    for (const slot of this.#slots.values()) {
      this.#o.timers.clearTimeout(slot.timer);
      slot.timer = undefined;
      if (slot.phase === 'queued') slot.phase = 'idle';
      slot.controller?.abort(new Error('health checks stopping'));
    }
    await Promise.allSettled([...this.#settling]);
  }

  has(key: string): boolean {
    return this.#slots.has(key);
  }

  keys(): string[] {
    return [...this.#slots.keys()];
  }

  add(job: ScheduledJob): void {
    if (this.#slots.has(job.key)) throw new Error(`check job ${job.key} already scheduled`);
    if (!(job.intervalMs > 0) || !(job.timeoutMs > 0))
      throw new RangeError('interval and timeout must be > 0 ms');
    const slot: Slot = {
      job,
      timer: undefined,
      phase: 'idle',
      controller: null,
      startedAt: 0,
      reported: false,
      runs: 0,
    };
    this.#slots.set(job.key, slot);
    if (this.#started) this.#armFirst(job.key, slot);
  }

  /** Swaps the job definition; the new one applies from the next run, the cadence carries on. */
  update(job: ScheduledJob): void {
    const slot = this.#slots.get(job.key);
    if (!slot) throw new Error(`check job ${job.key} is not scheduled`);
    slot.job = job;
  }

  /** Forgets a job; a run in progress is aborted and its result dropped. */
  remove(key: string): void {
    const slot = this.#slots.get(key);
    if (!slot) return;
    this.#slots.delete(key);
    this.#o.timers.clearTimeout(slot.timer);
    const q = this.#queue.indexOf(key);
    if (q >= 0) this.#queue.splice(q, 1);
    slot.controller?.abort(new Error('health check removed'));
  }

  stats(): SchedulerStats {
    let stuck = 0;
    for (const s of this.#slots.values()) if (s.phase === 'running' && s.reported) stuck++;
    return { jobs: this.#slots.size, running: this.#running, queued: this.#queue.length, stuck };
  }

  #armFirst(key: string, slot: Slot): void {
    const spread = Math.min(1, Math.max(0, this.#o.startSpread ?? 1));
    const delay = Math.floor(this.#o.random() * slot.job.intervalMs * spread);
    this.#arm(key, slot, delay);
  }

  #arm(key: string, slot: Slot, delayMs: number): void {
    this.#o.timers.clearTimeout(slot.timer);
    slot.timer = this.#o.timers.setTimeout(() => this.#due(key), Math.max(0, delayMs));
  }

  #due(key: string): void {
    const slot = this.#slots.get(key);
    if (!slot || !this.#started) return;
    slot.timer = undefined;
    if (slot.phase === 'running') {
      // Only a stuck run can still be running when the next one is due (see the header).
      this.#o.onResult(key, stuckResult(slot, this.#o.timers.now()), this.#o.timers.now());
      this.#arm(key, slot, slot.job.intervalMs);
      return;
    }
    if (slot.phase === 'queued') return;
    slot.phase = 'queued';
    this.#queue.push(key);
    this.#pump();
  }

  #pump(): void {
    while (this.#running < this.#o.concurrency && this.#queue.length > 0) {
      const key = this.#queue.shift()!;
      const slot = this.#slots.get(key);
      if (slot && slot.phase === 'queued') this.#run(key, slot);
    }
  }

  #run(key: string, slot: Slot): void {
    const { timers } = this.#o;
    const job = slot.job;
    const controller = new AbortController();
    slot.phase = 'running';
    slot.controller = controller;
    slot.startedAt = timers.now();
    slot.reported = false;
    slot.runs++;
    this.#running++;
    const abortTimer = timers.setTimeout(
      () => controller.abort(new Error(`timeout after ${job.timeoutMs} ms`)),
      job.timeoutMs,
    );
    const stuckTimer = timers.setTimeout(
      () => {
        if (slot.phase !== 'running' || slot.controller !== controller) return;
        slot.reported = true;
        if (this.#slots.get(key) === slot) {
          this.#o.onResult(key, stuckResult(slot, timers.now()), timers.now());
          this.#arm(key, slot, slot.startedAt + job.intervalMs - timers.now());
        }
      },
      job.timeoutMs + (this.#o.settleGraceMs ?? 1000),
    );

    const settled = safeRun(job, controller.signal, timers).then((result) => {
      timers.clearTimeout(abortTimer);
      timers.clearTimeout(stuckTimer);
      this.#running--;
      slot.controller = null;
      slot.phase = 'idle';
      const current = this.#slots.get(key) === slot;
      // After stop() or remove() the result is dropped: it would describe an aborted run.
      if (current && this.#started && !slot.reported) {
        this.#o.onResult(key, result, timers.now());
        this.#arm(key, slot, slot.startedAt + job.intervalMs - timers.now());
      }
      this.#pump();
    });
    const tracked = settled.finally(() => this.#settling.delete(tracked));
    this.#settling.add(tracked);
  }
}

function stuckResult(slot: Slot, now: number): CheckResult {
  return {
    ok: false,
    latencyMs: now - slot.startedAt,
    detail: `check has not finished ${Math.round(now - slot.startedAt)} ms after it started (timeout ${slot.job.timeoutMs} ms)`,
    timedOut: true,
  };
}

/** A job that throws (it should not) counts as a failed check, not as a crashed scheduler. */
async function safeRun(job: ScheduledJob, signal: AbortSignal, timers: Timers): Promise<CheckResult> {
  const started = timers.now();
  try {
    return await job.run(signal);
  } catch (err) {
    return { ok: false, latencyMs: timers.now() - started, detail: `check error: ${String(err)}` };
  }
}
