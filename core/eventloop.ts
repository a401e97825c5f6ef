/**
 * Event-loop health: how late our timers run, and whether the process was not scheduled at all.
 *
 * Two signals, for two uses:
 * - a delay histogram (perf_hooks.monitorEventLoopDelay) for status and metrics;
 * - a stall detector: a timer that should fire every `tickMs`; a gap between two firings far above
 *   that means the process did not run (CPU starvation, a blocking call, SIGSTOP, a VM pause).
 *   Reported in status and metrics. The election does not use these for self-fencing: it runs on
 *   its own thread and measures its own stalls (failover/election, failover/thread).
 */
import { type ELDHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

export interface Stall {
  /** Monotonic time (ms) at which the stall was noticed, i.e. when the process ran again. */
  at: number;
  /** Time between the two timer firings around the stall (ms). */
  gapMs: number;
}

/** The pure part of the stall detector: fed the monotonic time of each tick, says if it was a stall. */
export class StallDetector {
  readonly thresholdMs: number;
  #last: number | undefined;
  #maxGapMs = 0;
  #stalls = 0;
  #lastStall: Stall | undefined;

  constructor(thresholdMs: number) {
    if (!(thresholdMs > 0)) throw new RangeError('stall threshold must be > 0 ms');
    this.thresholdMs = thresholdMs;
  }

  /** Records a tick; returns the stall if the gap since the previous tick exceeds the threshold. */
  tick(now: number): Stall | undefined {
    const last = this.#last;
    this.#last = now;
    if (last === undefined) return undefined;
    const gapMs = now - last;
    if (gapMs > this.#maxGapMs) this.#maxGapMs = gapMs;
    if (gapMs <= this.thresholdMs) return undefined;
    this.#stalls++;
    this.#lastStall = { at: now, gapMs };
    return this.#lastStall;
  }

  /** Forgets the last tick, so time spent stopped on purpose does not count as a stall. */
  reset(): void {
    this.#last = undefined;
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
  lastStall: { agoMs: number; gapMs: number } | null;
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
  }

  get running(): boolean {
    return this.#tickTimer !== undefined;
  }

  start(): void {
    if (this.running) return;
    this.#histogram = monitorEventLoopDelay({ resolution: 10 });
    this.#histogram.enable();
    this.#detector.reset();
    this.#detector.tick(this.#now());
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
          : { agoMs: Math.round(this.#now() - last.at), gapMs: Math.round(last.gapMs) },
    };
  }

  #onTick(): void {
    const stall = this.#detector.tick(this.#now());
    if (stall === undefined) return;
    for (const listener of this.#listeners) listener(stall);
  }

  #rollWindow(): void {
    if (this.#histogram === undefined) return;
    this.#lastWindow = summarise(this.#histogram);
    this.#histogram.reset();
  }
}
