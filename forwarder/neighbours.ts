/**
 * Real-server MACs for the forwarder's reconciler, kept fresh from the kernel neighbour table.
 *
 * For each real server it is given, this asks the kernel to resolve the address and keep it
 * resolved (a kernel-managed neighbour entry: see core/netlink/neighbour-table.ts for why), follows
 * neighbour notifications, and answers `macOf(address)` synchronously from what it learnt. A real
 * server without a usable MAC is reported by `unresolved()` and in `status()`: the reconciler gives
 * it no new flows until it resolves.
 *
 * - An operator's static entry (PERMANENT or NOARP) is used as it is, never replaced nor deleted.
 * - Entries this created are deleted when the real server leaves the set (`release`).
 * - Unresolved servers are asked for again every `retryMs` (the entry may have been flushed).
 * - Lost notifications (kernel ENOBUFS) trigger a full re-read; a re-read never overwrites an
 *   address with data older than a notification that arrived while it ran.
 */
import { canonicalIp } from '../core/net/ip.ts';
import { NUD_NOARP, NUD_PERMANENT, nudStateName } from '../core/netlink/constants.ts';
import type { NeighbourEntry, NeighbourEvent, NeighbourTable } from '../core/netlink/neighbour-table.ts';

export interface RealServerAddress {
  ifindex: number;
  address: string;
}

export interface NeighbourStatus {
  address: string;
  ifindex: number;
  /** The MAC the forwarder may use, when resolved. */
  mac?: string;
  /** Kernel NUD state ("reachable", "stale", "incomplete", "failed", "none"), or "absent" (no entry). */
  state: string;
  resolved: boolean;
  /** The entry is an operator's static one: used, never touched. */
  static: boolean;
}

export interface NeighbourTimers {
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

const realTimers: NeighbourTimers = {
  setInterval: (fn, ms) => {
    const h = setInterval(fn, ms);
    h.unref();
    return h;
  },
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

export interface RealServerNeighboursOptions {
  table: NeighbourTable;
  /** Called when a real server's usable MAC changes (undefined = no longer usable). */
  onChange?: (address: string, mac: string | undefined) => void;
  /** Period for re-asking unresolved addresses. Default 5000 ms. */
  retryMs?: number;
  timers?: NeighbourTimers;
  log?: { warn(obj: object, msg: string): void };
}

interface Tracked {
  ifindex: number;
  entry: NeighbourEntry | undefined;
  /** Event counter value when this address last changed by a notification. */
  lastEventSeq: number;
  isStatic: boolean;
  managedByUs: boolean;
}

const isStaticState = (state: number): boolean => (state & (NUD_PERMANENT | NUD_NOARP)) !== 0;

export class RealServerNeighbours {
  readonly #table: NeighbourTable;
  readonly #onChange: RealServerNeighboursOptions['onChange'];
  readonly #retryMs: number;
  readonly #timers: NeighbourTimers;
  readonly #log: RealServerNeighboursOptions['log'];
  readonly #tracked = new Map<string, Tracked>();
  #eventSeq = 0;
  #unsubscribe: (() => void) | undefined;
  #retryTimer: unknown;
  #closed = false;

  constructor(options: RealServerNeighboursOptions) {
    this.#table = options.table;
    this.#onChange = options.onChange;
    this.#retryMs = options.retryMs ?? 5000;
    this.#timers = options.timers ?? realTimers;
    this.#log = options.log;
  }

  /** Subscribes to neighbour changes and starts the retry timer. */
  start(): void {
    if (this.#unsubscribe !== undefined || this.#closed) return;
    this.#unsubscribe = this.#table.subscribe((e) => this.#onEvent(e));
    this.#retryTimer = this.#timers.setInterval(() => void this.#retry(), this.#retryMs);
  }

  /** Sets the real servers to track: resolves new ones, releases the ones that left. */
  async setRealServers(servers: readonly RealServerAddress[]): Promise<void> {
    const wanted = new Map<string, number>();
    for (const s of servers) wanted.set(canonicalIp(s.address), s.ifindex);
    for (const [address, t] of [...this.#tracked]) {
      if (wanted.get(address) === t.ifindex) continue;
      this.#tracked.delete(address);
      if (t.entry?.valid) this.#onChange?.(address, undefined);
      if (t.managedByUs)
        await this.#quietly('release', () => this.#table.release(t.ifindex, address), address);
    }
    for (const [address, ifindex] of wanted) {
      if (this.#tracked.has(address)) continue;
      const t: Tracked = { ifindex, entry: undefined, lastEventSeq: 0, isStatic: false, managedByUs: false };
      this.#tracked.set(address, t);
      const seq = this.#eventSeq;
      const existing = await this.#quietly('lookup', () => this.#table.lookup(ifindex, address), address);
      if (this.#tracked.get(address) !== t) continue; // removed meanwhile
      if (existing !== undefined && t.lastEventSeq <= seq) this.#apply(address, t, existing);
      if (existing !== undefined && isStaticState(existing.state)) {
        t.isStatic = true;
        continue;
      }
      t.managedByUs = true;
      await this.#quietly('resolve', () => this.#table.resolve(ifindex, address), address);
      // The kernel does not notify the probing state (INCOMPLETE): read it, for status.
      const seqAfter = this.#eventSeq;
      const probing = await this.#quietly('lookup', () => this.#table.lookup(ifindex, address), address);
      if (this.#tracked.get(address) === t && t.lastEventSeq <= seqAfter) this.#apply(address, t, probing);
    }
  }

  macOf(address: string): string | undefined {
    const t = this.#tracked.get(address) ?? this.#tracked.get(canonicalIp(address));
    return t?.entry?.valid ? t.entry.mac : undefined;
  }

  unresolved(): string[] {
    return [...this.#tracked].filter(([, t]) => !t.entry?.valid).map(([a]) => a);
  }

  status(): NeighbourStatus[] {
    return [...this.#tracked].map(([address, t]) => {
      const s: NeighbourStatus = {
        address,
        ifindex: t.ifindex,
        state: t.entry === undefined ? 'absent' : nudStateName(t.entry.state),
        resolved: t.entry?.valid === true,
        static: t.isStatic,
      };
      if (t.entry?.valid && t.entry.mac !== undefined) s.mac = t.entry.mac;
      return s;
    });
  }

  #onEvent(e: NeighbourEvent): void {
    if (e.kind === 'resync') {
      void this.#reread();
      return;
    }
    const t = this.#tracked.get(e.entry.address);
    if (t === undefined || t.ifindex !== e.entry.ifindex) return;
    t.lastEventSeq = ++this.#eventSeq;
    this.#apply(e.entry.address, t, e.kind === 'update' ? e.entry : undefined);
    // Someone deleted (flushed) the entry we rely on: ask for it again now, not at the next retry.
    if (e.kind === 'delete' && t.managedByUs && !this.#closed) {
      void this.#quietly('resolve', () => this.#table.resolve(t.ifindex, e.entry.address), e.entry.address);
    }
  }

  #apply(address: string, t: Tracked, entry: NeighbourEntry | undefined): void {
    const before = t.entry?.valid ? t.entry.mac : undefined;
    t.entry = entry;
    if (entry !== undefined && isStaticState(entry.state)) t.isStatic = true;
    const after = entry?.valid ? entry.mac : undefined;
    if (before !== after) this.#onChange?.(address, after);
  }

  async #reread(): Promise<void> {
    const seq = this.#eventSeq;
    const entries = await this.#quietly('list', () => this.#table.list(), 'all');
    if (entries === undefined) return;
    const seen = new Set<string>();
    for (const e of entries) {
      const t = this.#tracked.get(e.address);
      if (t === undefined || t.ifindex !== e.ifindex) continue;
      seen.add(e.address);
      if (t.lastEventSeq <= seq) this.#apply(e.address, t, e);
    }
    for (const [address, t] of this.#tracked) {
      if (!seen.has(address) && t.lastEventSeq <= seq) this.#apply(address, t, undefined);
    }
  }

  async #retry(): Promise<void> {
    const unresolved = [...this.#tracked].filter(([, t]) => !t.entry?.valid && !t.isStatic);
    for (const [address, t] of unresolved) {
      t.managedByUs = true;
      await this.#quietly('resolve', () => this.#table.resolve(t.ifindex, address), address);
    }
    if (unresolved.length > 0) await this.#reread();
  }

  async #quietly<T>(op: string, f: () => Promise<T>, address: string): Promise<T | undefined> {
    try {
      return await f();
    } catch (err) {
      this.#log?.warn(
        { op, address, err: err instanceof Error ? err.message : String(err) },
        'neighbour operation failed',
      );
      return undefined;
    }
  }

  /** Stops following the table. Managed entries stay: a restarted daemon finds them resolved. */
  close(): void {
    this.#closed = true;
    this.#unsubscribe?.();
    if (this.#retryTimer !== undefined) this.#timers.clearInterval(this.#retryTimer);
  }
}
