/**
 * An in-memory datagram network between named nodes: per-packet delay (random within a range,
 * which also reorders), loss, duplication, and blocked directed links (partitions, one-way cuts).
 * Blocking applies when a packet is sent; packets already in flight still arrive.
 */
import type { Rng } from '../../lab/rng.ts';

export interface LinkPolicy {
  readonly delayMs: readonly [number, number];
  readonly loss: number;
  readonly duplicate: number;
}

export interface Packet {
  readonly from: string;
  readonly to: string;
  readonly bytes: Buffer;
  readonly deliverAt: number;
  readonly order: number;
}

export class SimNetwork {
  policy: LinkPolicy;
  readonly #rng: Rng;
  readonly #blocked = new Set<string>();
  readonly #inFlight: Packet[] = [];
  /** Packets of a directed link held back by `hold`, delivered by `releaseHeld`. */
  readonly #holding = new Map<string, Buffer[]>();
  /** Last packet sent on each directed link, for replay tests. */
  readonly lastSent = new Map<string, Buffer>();
  #order = 0;
  sent = 0;
  lost = 0;

  constructor(rng: Rng, policy: LinkPolicy) {
    this.#rng = rng;
    this.policy = policy;
  }

  send(now: number, from: string, to: string, bytes: Buffer): void {
    const link = `${from}>${to}`;
    this.sent++;
    this.lastSent.set(link, bytes);
    const held = this.#holding.get(link);
    if (held !== undefined && held.length === 0) {
      held.push(bytes);
      return;
    }
    if (this.#blocked.has(link) || this.#rng.chance(this.policy.loss)) {
      this.lost++;
      return;
    }
    const copies = this.#rng.chance(this.policy.duplicate) ? 2 : 1;
    for (let i = 0; i < copies; i++) this.inject(now, from, to, bytes);
  }

  /** Puts bytes on the wire from→to regardless of policy (forged, replayed, crafted packets). */
  inject(now: number, from: string, to: string, bytes: Buffer, delayMs?: number): void {
    const [min, max] = this.policy.delayMs;
    const delay = delayMs ?? min + this.#rng.next() * (max - min);
    this.#inFlight.push({ from, to, bytes, deliverAt: now + delay, order: this.#order++ });
  }

  nextTime(): number | null {
    let next: number | null = null;
    for (const p of this.#inFlight) if (next === null || p.deliverAt < next) next = p.deliverAt;
    return next;
  }

  /** Removes and returns the packets due at `now`, in delivery order. */
  takeDue(now: number): Packet[] {
    const due = this.#inFlight.filter((p) => p.deliverAt <= now);
    if (due.length === 0) return due;
    const keep = this.#inFlight.filter((p) => p.deliverAt > now);
    this.#inFlight.length = 0;
    this.#inFlight.push(...keep);
    return due.sort((a, b) => a.deliverAt - b.deliverAt || a.order - b.order);
  }

  /** Blocks every link between different sides. */
  partition(sides: readonly (readonly string[])[]): void {
    for (const a of sides) {
      for (const b of sides) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.#blocked.add(`${x}>${y}`);
      }
    }
  }

  cut(from: string, to: string): void {
    this.#blocked.add(`${from}>${to}`);
  }

  heal(): void {
    this.#blocked.clear();
  }

  isBlocked(from: string, to: string): boolean {
    return this.#blocked.has(`${from}>${to}`);
  }

  /** The next packet on from→to is kept aside instead of delivered. */
  hold(from: string, to: string): void {
    this.#holding.set(`${from}>${to}`, []);
  }

  releaseHeld(now: number, from: string, to: string): number {
    const link = `${from}>${to}`;
    const held = this.#holding.get(link) ?? [];
    this.#holding.delete(link);
    for (const bytes of held) this.inject(now, from, to, bytes);
    return held.length;
  }
}
