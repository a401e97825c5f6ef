/** In-memory LinkMonitor for unit tests: `set` changes a link and notifies subscribers. */
import type { LinkListener, LinkMonitor, LinkState } from './link-monitor.ts';

export class FakeLinkMonitor implements LinkMonitor {
  readonly #links = new Map<number, LinkState>();
  readonly #listeners = new Set<LinkListener>();
  closed = false;

  constructor(links: LinkState[] = []) {
    for (const l of links) this.#links.set(l.ifindex, { ...l });
  }

  /** Replaces (or adds) a link's state and tells subscribers, as a kernel notification would. */
  set(state: LinkState): void {
    if (state.present) this.#links.set(state.ifindex, { ...state });
    else this.#links.delete(state.ifindex);
    for (const l of this.#listeners) l({ ...state });
  }

  /** Shorthand for carrier loss / return on an existing link. */
  setCarrier(ifindex: number, up: boolean): void {
    const s = this.#links.get(ifindex);
    if (s === undefined) throw new Error(`fake link ${ifindex} does not exist`);
    this.set({ ...s, lowerUp: up, operState: up ? 'up' : 'lowerlayerdown' });
  }

  async get(ifindex: number): Promise<LinkState | undefined> {
    const s = this.#links.get(ifindex);
    return s === undefined ? undefined : { ...s };
  }

  subscribe(listener: LinkListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    this.#listeners.clear();
  }
}

/** A present, up Ethernet link for tests. */
export function fakeLink(ifindex: number, name: string, mac: string): LinkState {
  return { ifindex, name, mac, mtu: 1500, adminUp: true, lowerUp: true, operState: 'up', present: true };
}
