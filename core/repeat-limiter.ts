/**
 * Keeps a repeating error from flooding the log: the first occurrence of a key is logged, repeats
 * within `everyMs` are only counted, and the next one after that is logged with the count held
 * back. Example: every election advert fails with ENETUNREACH while the interface is down, ten
 * times a second per group; the operator needs the first line and a reminder, not 36,000 lines an
 * hour. Pure: the caller passes a monotonic `now`.
 */

export interface Admission {
  /** Log this occurrence. */
  log: boolean;
  /** Occurrences of this key not logged since the last one that was. */
  suppressed: number;
}

interface Entry {
  loggedAt: number;
  suppressed: number;
}

export class RepeatLimiter {
  readonly everyMs: number;
  readonly #maxKeys: number;
  readonly #entries = new Map<string, Entry>();

  constructor(everyMs: number, maxKeys = 64) {
    if (!(everyMs > 0)) throw new RangeError('everyMs must be > 0');
    this.everyMs = everyMs;
    this.#maxKeys = maxKeys;
  }

  admit(key: string, now: number): Admission {
    const e = this.#entries.get(key);
    if (e !== undefined && now - e.loggedAt < this.everyMs) {
      e.suppressed++;
      return { log: false, suppressed: e.suppressed };
    }
    const suppressed = e?.suppressed ?? 0;
    // Bounded memory whatever the keys: the oldest entry goes first (Map keeps insertion order).
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxKeys) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(key, { loggedAt: now, suppressed: 0 });
    return { log: true, suppressed };
  }
}
