/**
 * In-memory NeighbourTable for unit tests. `resolve` records the request (as the kernel would
 * start a probe); the test then decides the outcome with `learn` (the peer answered) or `fail`.
 */
import { canonicalIp, type IpFamily, parseIp } from '../net/ip.ts';
import { NTF_EXT_MANAGED, NUD_FAILED, NUD_INCOMPLETE, NUD_REACHABLE } from './constants.ts';
import type { NeighbourEntry, NeighbourEvent, NeighbourListener, NeighbourTable } from './neighbour-table.ts';

const key = (ifindex: number, address: string): string => `${ifindex}/${canonicalIp(address)}`;

export class FakeNeighbourTable implements NeighbourTable {
  readonly #entries = new Map<string, NeighbourEntry>();
  readonly #listeners = new Set<NeighbourListener>();
  /** Every resolve/release call, in order, as "resolve 2/198.18.0.100". */
  readonly calls: string[] = [];
  closed = false;

  #emit(event: NeighbourEvent): void {
    for (const l of this.#listeners) l(event);
  }

  #put(entry: NeighbourEntry): void {
    this.#entries.set(key(entry.ifindex, entry.address), entry);
    this.#emit({ kind: 'update', entry: { ...entry } });
  }

  /** The peer answered: the entry becomes REACHABLE with `mac`. */
  learn(ifindex: number, address: string, mac: string): void {
    const old = this.#entries.get(key(ifindex, address));
    this.#put({
      family: parseIp(address).family,
      ifindex,
      address: canonicalIp(address),
      mac,
      state: NUD_REACHABLE,
      flags: 0,
      extFlags: old?.extFlags ?? 0,
      valid: true,
    });
  }

  /** Resolution failed: the entry becomes FAILED and has no usable MAC. */
  fail(ifindex: number, address: string): void {
    const old = this.#entries.get(key(ifindex, address));
    this.#put({
      family: parseIp(address).family,
      ifindex,
      address: canonicalIp(address),
      state: NUD_FAILED,
      flags: 0,
      extFlags: old?.extFlags ?? 0,
      valid: false,
    });
  }

  /** Someone flushed the entry (e.g. `ip neigh flush`). */
  forget(ifindex: number, address: string): void {
    const entry = this.#entries.get(key(ifindex, address));
    if (entry === undefined) return;
    this.#entries.delete(key(ifindex, address));
    this.#emit({ kind: 'delete', entry });
  }

  /** Simulates lost notifications (the kernel's ENOBUFS). */
  overrun(): void {
    this.#emit({ kind: 'resync' });
  }

  /**
   * Sets an entry without telling subscribers: what a lost notification looks like, or an entry
   * that was there before (e.g. an operator's static one, with state NUD_PERMANENT).
   */
  setSilently(ifindex: number, address: string, mac: string, state: number = NUD_REACHABLE): void {
    this.#entries.set(key(ifindex, address), {
      family: parseIp(address).family,
      ifindex,
      address: canonicalIp(address),
      mac,
      state,
      flags: 0,
      extFlags: 0,
      valid: true,
    });
  }

  async list(family?: IpFamily): Promise<NeighbourEntry[]> {
    return [...this.#entries.values()]
      .filter((e) => family === undefined || e.family === family)
      .map((e) => ({ ...e }));
  }

  async lookup(ifindex: number, address: string): Promise<NeighbourEntry | undefined> {
    const e = this.#entries.get(key(ifindex, address));
    return e === undefined ? undefined : { ...e };
  }

  subscribe(listener: NeighbourListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async resolve(ifindex: number, address: string): Promise<void> {
    this.calls.push(`resolve ${key(ifindex, address)}`);
    const old = this.#entries.get(key(ifindex, address));
    if (old?.valid) {
      this.#entries.set(key(ifindex, address), { ...old, extFlags: old.extFlags | NTF_EXT_MANAGED });
      return;
    }
    this.#put({
      family: parseIp(address).family,
      ifindex,
      address: canonicalIp(address),
      state: NUD_INCOMPLETE,
      flags: 0,
      extFlags: NTF_EXT_MANAGED,
      valid: false,
    });
  }

  async release(ifindex: number, address: string): Promise<void> {
    this.calls.push(`release ${key(ifindex, address)}`);
    this.forget(ifindex, address);
  }

  close(): void {
    this.closed = true;
    this.#listeners.clear();
  }
}
