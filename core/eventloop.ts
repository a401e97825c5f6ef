/**
 * Event-loop health: how late our timers run, and why they ran late: the thread was busy (a long
 * task on the event loop) or it was not scheduled at all.
 *
 * Two signals, for two uses:
 * - a delay histogram (perf_hooks.monitorEventLoopDelay) for status and metrics;
 * - a stall detector: a timer that should fire every `tickMs`; a gap between two firings far above
 *   that means the loop did not turn. The thread's own CPU time over the gap tells the two causes
 *   apart: most of the gap on CPU is a busy loop (a long synchronous task: ours to fix); little is
 *   a thread that was not scheduled (CPU starvation, SIGSTOP, a VM pause). Reported in status,
 *   logs and metrics. The election does not use these for self-fencing: it runs on
 *   its own thread and measures its own stalls (failover/election, failover/thread).
 */
import { type ELDHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

export interface Stall {
  /** Monotonic time (ms) at which the stall was noticed, i.e. when the process ran again. */
  at: number;
  /** Time between the two timer firings around the stall (ms). */
  gapMs: number;
  /** CPU time this thread used over the gap (ms); null without a CPU clock. */
  cpuMs: number | null;
  /** busy: the thread ran for at least half the gap; not-scheduled: it did not; null: unknown. */
  cause: 'busy' | 'not-scheduled' | null;
}

/** The pure part of the stall detector: fed the monotonic time of each tick, says if it was a stall. */
export class StallDetector {
  readonly thresholdMs: number;
  #last: number | undefined;
  #lastCpu: number | undefined;
  #maxGapMs = 0;
  #stalls = 0;
  #lastStall: Stall | undefined;

  constructor(thresholdMs: number) {
    if (!(thresholdMs > 0)) throw new RangeError('stall threshold must be > 0 ms');
    this.thresholdMs = thresholdMs;
  }

  /**
   * Records a tick at `now`, with the thread's CPU time so far (`cpuMs`, when known); returns the
   * stall if the gap since the previous tick exceeds the threshold.
   */
  tick(now: number, cpuMs?: number): Stall | undefined {
    const last = this.#last;
    const lastCpu = this.#lastCpu;
    this.#last = now;
    this.#lastCpu = cpuMs;
    if (last === undefined) return undefined;
    const gapMs = now - last;
    if (gapMs > this.#maxGapMs) this.#maxGapMs = gapMs;
    if (gapMs <= this.thresholdMs) return undefined;
    this.#stalls++;
    const used = cpuMs === undefined || lastCpu === undefined ? null : cpuMs - lastCpu;
    const cause = used === null ? null : used >= gapMs / 2 ? 'busy' : 'not-scheduled';
    this.#lastStall = { at: now, gapMs, cpuMs: used, cause };
    return this.#lastStall;
  }

  /** Forgets the last tick, so time spent stopped on purpose does not count as a stall. */
  reset(): void {
    this.#last = undefined;
    this.#lastCpu = undefined;
  }

  get stalls(): number {
    return this.#stalls;
  }

  get maxGapMs(): number {
    return this.#maxGapMs;
  }

  get lastStall(): Stall | undefined {
    return this.#lastStall;
  }
}

export interface DelaySummary {
  minMs: number;
  meanMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

export interface EventLoopStatus {
  /** Delay over the last completed window (or the current one before the first window ends). */
  delay: DelaySummary;
  windowMs: number;
  tickMs: number;
  stallThresholdMs: number;
  stalls: number;
  maxGapMs: number;
  lastStall: { agoMs: number; gapMs: number; cause: Stall['cause'] } | null;
}

export interface EventLoopMonitorOptions {
  /** Period of the stall timer. */
  tickMs?: number;
  /** A gap above this between two stall-timer firings is a stall. */
  stallThresholdMs?: number;
  /** Histogram window: the histogram is summarised and reset this often. */
  windowMs?: number;
  /** Monotonic clock in ms. */
  now?: () => number;
  /** CPU time of this thread in ms (user + system); null: no cause is told. */
  cpuNow?: (() => number) | null;
}

/** This thread's CPU time in ms. */
function threadCpuMs(): number {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
}

export type StallListener = (stall: Stall) => void;

const NS_PER_MS = 1e6;

function summarise(h: ELDHistogram): DelaySummary {
  if (h.count === 0) return { minMs: 0, meanMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 };
  const ms = (ns: number): number => Math.round((ns / NS_PER_MS) * 1000) / 1000;
  return {
    minMs: ms(h.min),
    meanMs: ms(h.mean),
    p50Ms: ms(h.percentile(50)),
    p99Ms: ms(h.percentile(99)),
    maxMs: ms(h.max),
  };
}

export class EventLoopMonitor {
  readonly tickMs: number;
  readonly windowMs: number;
  readonly #detector: StallDetector;
  readonly #now: () => number;
  readonly #cpuNow: (() => number) | null;
  readonly #listeners = new Set<StallListener>();
  #histogram: ELDHistogram | undefined;
  #lastWindow: DelaySummary | undefined;
  #tickTimer: NodeJS.Timeout | undefined;
  #windowTimer: NodeJS.Timeout | undefined;

  constructor(options: EventLoopMonitorOptions = {}) {
    this.tickMs = options.tickMs ?? 20;
    this.windowMs = options.windowMs ?? 10_000;
    this.#detector = new StallDetector(options.stallThresholdMs ?? 250);
    this.#now = options.now ?? (() => performance.now());
    this.#cpuNow = options.cpuNow === undefined ? threadCpuMs : options.cpuNow;
  }

  get running(): boolean {
    return this.#tickTimer !== undefined;
  }

  start(): void {
    if (this.running) return;
    this.#histogram = monitorEventLoopDelay({ resolution: 10 });
    this.#histogram.enable();
    this.#detector.reset();
    this.#detector.tick(this.#now(), this.#cpuNow?.());
    this.#tickTimer = setInterval(() => this.#onTick(), this.tickMs);
    this.#windowTimer = setInterval(() => this.#rollWindow(), this.windowMs);
    // The monitor alone must not keep a process alive.
    this.#tickTimer.unref();
    this.#windowTimer.unref();
  }

  stop(): void {
    clearInterval(this.#tickTimer);
    clearInterval(this.#windowTimer);
    this.#tickTimer = undefined;
    this.#windowTimer = undefined;
    this.#histogram?.disable();
  }

  /** Subscribes to stalls; returns the unsubscribe function. */
  onStall(listener: StallListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  status(): EventLoopStatus {
    const current = this.#histogram === undefined ? undefined : summarise(this.#histogram);
    const last = this.#detector.lastStall;
    return {
      delay: this.#lastWindow ?? current ?? { minMs: 0, meanMs: 0, p50Ms: 0, p99Ms: 0, maxMs: 0 },
      windowMs: this.windowMs,
      tickMs: this.tickMs,
      stallThresholdMs: this.#detector.thresholdMs,
      stalls: this.#detector.stalls,
      maxGapMs: Math.round(this.#detector.maxGapMs),
      lastStall:
        last === undefined
          ? null
          : { agoMs: Math.round(this.#now() - last.at), gapMs: Math.round(last.gapMs), cause: last.cause },
    };
  }

  #onTick(): void {
    const stall = this.#detector.tick(this.#now(), this.#cpuNow?.());
    if (stall === undefined) return;
    for (const listener of this.#listeners) listener(stall);
  }

  #rollWindow(): void {
    if (this.#histogram === undefined) return;
    this.#lastWindow = summarise(this.#histogram);
    this.#histogram.reset();
  }
}
