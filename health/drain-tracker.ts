/**
 * Draining real servers, and operator weight overrides: pure state, injected clock and flow counts.
 *
 * `drain(rs)` takes a real server out of rotation for new flows (effective weight 0) while its
 * established flows carry on through the connection table; optionally it also stops new
 * persistence entries for it. `tick()` polls the remaining flow count per drain (the forwarder's
 * connection table provides it) and reports the countdown, then completion when no flow is left
 * or the timeout passes. A finished drain keeps the real server out until `enable(rs)`.
 *
 * A drain without a service covers the real server in every service; with a service, only there.
 * `enable(rs)` without a service ends every drain of that real server; with one, only that one.
 * Weight overrides (`dsrctl weight RS N`) follow the same scoping, the service-specific one first.
 *
 * Times are wall-clock epoch ms because the state is carried to the other directors (sync or
 * takeover): a drain started on one director times out at the same moment on the next one.
 * `snapshot()`/`restore()` give and take that state as plain JSON.
 */
import { z } from 'zod';
import { DsrError } from '../core/errors.ts';

export interface DrainEntry {
  rs: string;
  /** null: every service the real server is in. */
  service: string | null;
  state: 'draining' | 'drained';
  startedAt: number;
  /** 0: no timeout, wait for the last flow. */
  timeoutMs: number;
  /** Refuse new persistence entries for this real server while drained. */
  stopPersistence: boolean;
  /** Open flows left at the last tick (the drain waits for these); null before the first. */
  remaining: number | null;
  /** Closing TCP flows at the last tick: forwarded until they time out, not waited for. */
  closing: number | null;
  finishedAt: number | null;
  outcome: 'no-flows' | 'timeout' | null;
}

/** Flows of a real server: open (SYN, established, UDP) and closing (FIN or RST seen). */
export interface FlowsLeft {
  open: number;
  closing: number;
}

export interface WeightOverride {
  rs: string;
  service: string | null;
  weight: number;
}

export type DrainEvent =
  | { type: 'drain.started'; rs: string; service: string | null; at: number; timeoutMs: number }
  | {
      type: 'drain.progress';
      rs: string;
      service: string | null;
      at: number;
      remaining: number;
      closing: number;
      /** Time left before the timeout; null without one. */
      msLeft: number | null;
    }
  | {
      type: 'drain.complete';
      rs: string;
      service: string | null;
      at: number;
      outcome: 'no-flows' | 'timeout';
      remaining: number;
      closing: number;
      durationMs: number;
    }
  | { type: 'drain.ended'; rs: string; service: string | null; at: number; completed: boolean }
  | { type: 'weight.set'; rs: string; service: string | null; weight: number | null; at: number };

/**
 * Remaining flows to `rs` (in `service`, or in all services when null); undefined when there is
 * no count to trust yet (e.g. none taken since the drain began): no progress, no completion.
 */
export type FlowCounter = (rs: string, service: string | null) => FlowsLeft | undefined;

export interface DrainOptions {
  service?: string | null;
  timeoutMs: number;
  stopPersistence?: boolean;
}

export const MAX_WEIGHT = 65535;

const nameSchema = z.string().min(1).max(256);
const SnapshotSchema = z
  .object({
    version: z.literal(1),
    drains: z
      .array(
        z
          .object({
            rs: nameSchema,
            service: nameSchema.nullable(),
            state: z.enum(['draining', 'drained']),
            startedAt: z.number().int().nonnegative(),
            timeoutMs: z.number().int().nonnegative(),
            stopPersistence: z.boolean(),
            remaining: z.number().int().nonnegative().nullable(),
            finishedAt: z.number().int().nonnegative().nullable(),
            outcome: z.enum(['no-flows', 'timeout']).nullable(),
          })
          .strict(),
      )
      .max(65536),
    weights: z
      .array(
        z
          .object({
            rs: nameSchema,
            service: nameSchema.nullable(),
            weight: z.number().int().min(0).max(MAX_WEIGHT),
          })
          .strict(),
      )
      .max(65536),
  })
  .strict();

export type DrainSnapshot = z.infer<typeof SnapshotSchema>;

const keyOf = (rs: string, service: string | null): string => JSON.stringify([rs, service]);

export class DrainTracker {
  readonly #now: () => number;
  readonly #flows: FlowCounter;
  #drains = new Map<string, DrainEntry>();
  #weights = new Map<string, WeightOverride>();

  constructor(options: { now: () => number; remainingFlows: FlowCounter }) {
    this.#now = options.now;
    this.#flows = options.remainingFlows;
  }

  drain(rs: string, options: DrainOptions): DrainEvent[] {
    const service = options.service ?? null;
    if (!Number.isInteger(options.timeoutMs) || options.timeoutMs < 0) {
      throw new DsrError('E_ADMIN_REQUEST', 'drain timeout must be a whole number of ms >= 0', {
        rs,
        service,
      });
    }
    const key = keyOf(rs, service);
    const existing = this.#drains.get(key);
    const stopPersistence = options.stopPersistence ?? true;
    if (existing && existing.state === 'draining') {
      // Asking again adjusts the running drain; its countdown keeps its start.
      existing.timeoutMs = options.timeoutMs;
      existing.stopPersistence = stopPersistence;
      return [];
    }
    const now = this.#now();
    this.#drains.set(key, {
      rs,
      service,
      state: 'draining',
      startedAt: now,
      timeoutMs: options.timeoutMs,
      stopPersistence,
      remaining: null,
      closing: null,
      finishedAt: null,
      outcome: null,
    });
    return [{ type: 'drain.started', rs, service, at: now, timeoutMs: options.timeoutMs }];
  }

  enable(rs: string, service?: string | null): DrainEvent[] {
    const events: DrainEvent[] = [];
    const now = this.#now();
    for (const [key, d] of this.#drains) {
      if (d.rs !== rs || (service != null && d.service !== service)) continue;
      this.#drains.delete(key);
      events.push({ type: 'drain.ended', rs, service: d.service, at: now, completed: d.state === 'drained' });
    }
    return events;
  }

  /** Sets (or with null clears) the operator's weight for `rs`, overriding the configured one. */
  setWeight(rs: string, weight: number | null, service?: string | null): DrainEvent[] {
    const scope = service ?? null;
    if (weight !== null && (!Number.isInteger(weight) || weight < 0 || weight > MAX_WEIGHT)) {
      throw new DsrError('E_ADMIN_REQUEST', `weight must be a whole number from 0 to ${MAX_WEIGHT}`, {
        rs,
        weight,
      });
    }
    const key = keyOf(rs, scope);
    if (weight === null) {
      if (!this.#weights.delete(key)) return [];
    } else {
      if (this.#weights.get(key)?.weight === weight) return [];
      this.#weights.set(key, { rs, service: scope, weight });
    }
    return [{ type: 'weight.set', rs, service: scope, weight, at: this.#now() }];
  }

  /**
   * Polls flow counts for running drains: countdown events, then completion. A drain is complete
   * when no open flow is left, as operators read ipvsadm's ActiveConn: closing flows still reach
   * the real server (it is up) until they time out, and are reported apart.
   */
  tick(): DrainEvent[] {
    const events: DrainEvent[] = [];
    const now = this.#now();
    for (const d of this.#drains.values()) {
      if (d.state !== 'draining') continue;
      let left: FlowsLeft | undefined;
      try {
        left = this.#flows(d.rs, d.service);
      } catch {
        continue; // no count this time: neither progress nor a completion we did not see
      }
      if (left === undefined || !isCount(left.open) || !isCount(left.closing)) continue;
      const { open: remaining, closing } = left;
      const deadline = d.timeoutMs > 0 ? d.startedAt + d.timeoutMs : null;
      const timedOut = deadline !== null && now >= deadline;
      if (remaining === 0 || timedOut) {
        d.state = 'drained';
        d.remaining = remaining;
        d.closing = closing;
        d.finishedAt = now;
        d.outcome = remaining === 0 ? 'no-flows' : 'timeout';
        events.push({
          type: 'drain.complete',
          rs: d.rs,
          service: d.service,
          at: now,
          outcome: d.outcome,
          remaining,
          closing,
          durationMs: now - d.startedAt,
        });
      } else if (remaining !== d.remaining || closing !== d.closing) {
        d.remaining = remaining;
        d.closing = closing;
        events.push({
          type: 'drain.progress',
          rs: d.rs,
          service: d.service,
          at: now,
          remaining,
          closing,
          msLeft: deadline === null ? null : deadline - now,
        });
      }
    }
    return events;
  }

  /** True while any drain has not finished (the caller keeps ticking). */
  get active(): boolean {
    for (const d of this.#drains.values()) if (d.state === 'draining') return true;
    return false;
  }

  /** The drain that applies to `rs` in `service`: the service's own, else the all-services one. */
  drainOf(rs: string, service: string): DrainEntry | null {
    return this.#drains.get(keyOf(rs, service)) ?? this.#drains.get(keyOf(rs, null)) ?? null;
  }

  isDrained(rs: string, service: string): boolean {
    return this.drainOf(rs, service) !== null;
  }

  allowsNewPersistence(rs: string, service: string): boolean {
    for (const d of [this.#drains.get(keyOf(rs, service)), this.#drains.get(keyOf(rs, null))]) {
      if (d?.stopPersistence) return false;
    }
    return true;
  }

  /** The weight for new flows before health: 0 when drained, else the override, else configured. */
  weightFor(rs: string, service: string, configured: number): number {
    if (this.isDrained(rs, service)) return 0;
    return (
      (this.#weights.get(keyOf(rs, service)) ?? this.#weights.get(keyOf(rs, null)))?.weight ?? configured
    );
  }

  entries(): DrainEntry[] {
    return [...this.#drains.values()].map((d) => ({ ...d }));
  }

  weights(): WeightOverride[] {
    return [...this.#weights.values()].map((w) => ({ ...w }));
  }

  /** The state peers share (closing counts are this director's own, and stay out). */
  snapshot(): DrainSnapshot {
    const drains = this.entries().map(({ closing: _, ...d }) => d);
    return { version: 1, drains, weights: this.weights() };
  }

  /** Replaces the state with a snapshot (from a peer or disk); a bad one changes nothing. */
  restore(input: unknown): void {
    const parsed = SnapshotSchema.safeParse(input);
    if (!parsed.success) {
      throw new DsrError(
        'E_DECODE',
        `drain state is not valid: ${parsed.error.issues[0]?.message ?? 'unknown'}`,
        {
          issues: parsed.error.issues.length,
        },
      );
    }
    const drains = new Map<string, DrainEntry>();
    for (const d of parsed.data.drains) drains.set(keyOf(d.rs, d.service), { ...d, closing: null });
    const weights = new Map<string, WeightOverride>();
    for (const w of parsed.data.weights) weights.set(keyOf(w.rs, w.service), { ...w });
    this.#drains = drains;
    this.#weights = weights;
  }
}

function isCount(n: number): boolean {
  return Number.isFinite(n) && n >= 0;
}
