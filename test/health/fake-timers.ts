/**
 * A fake clock for the health unit tests: timers fire only when the test advances time, in due
 * order, with pending promise callbacks run between firings so async work scheduled by one timer
 * completes before the next fires.
 */
import type { Timers } from '../../health/timers.ts';

interface Pending {
  id: number;
  due: number;
  fn: () => void;
}

export class FakeTimers implements Timers {
  #now = 0;
  #seq = 0;
  #pending: Pending[] = [];
  readonly wallBase: number;

  constructor(wallBase = 1_700_000_000_000) {
    this.wallBase = wallBase;
  }

  now(): number {
    return this.#now;
  }

  wallNow(): number {
    return this.wallBase + this.#now;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const p = { id: ++this.#seq, due: this.#now + Math.max(0, ms), fn };
    this.#pending.push(p);
    return p.id;
  }

  clearTimeout(handle: unknown): void {
    this.#pending = this.#pending.filter((p) => p.id !== handle);
  }

  get pendingCount(): number {
    return this.#pending.length;
  }

  /** Advances time by `ms`, firing every timer that falls due on the way. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await flush();
    for (;;) {
      this.#pending.sort((a, b) => a.due - b.due || a.id - b.id);
      const next = this.#pending[0];
      if (!next || next.due > target) break;
      this.#pending.shift();
      this.#now = next.due;
      next.fn();
      await flush();
    }
    this.#now = target;
  }
}

/** Lets every queued promise callback run (a macrotask turn drains the microtask queue). */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A deterministic random source (mulberry32) for jitter. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
