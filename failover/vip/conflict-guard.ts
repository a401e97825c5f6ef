/**
 * Resolving a second owner of a VIP seen on the wire (issue 21): while a group is ours, another MAC
 * that claims one of its VIPs (conflict-watch.ts: by ARP for IPv4, by Neighbor Advertisement for
 * IPv6) is counted, and, if we still own the group
 * CONFLICT_GRACE_MS later, answered by announcing the VIPs again (at most once per
 * REANNOUNCE_EVERY_MS) and reported. The election decided we own the group, so caches come back to
 * us; the other side is a zombie (dsrd --cleanup takes it away), a peer about to step down, or a
 * real server answering ARP or ND for the VIP (its setup is wrong: the report names its MAC). The
 * announcement repeats gratuitous ARPs and unsolicited NAs alike (announcer.ts), so IPv4 and IPv6
 * caches both come back.
 *
 * The grace is for a planned move: a peer that takes over announces just as we step down, and
 * its first gratuitous ARP or NA must not make us pull the caches back.
 */
import type { AnnounceTarget } from './announcer.ts';
import type { ConflictWatch, VipConflict } from './conflict-watch.ts';
import { realTimers, type VipTimers } from './vip-owner.ts';

export const CONFLICT_GRACE_MS = 200;
export const REANNOUNCE_EVERY_MS = 1000;

export interface ConflictReport extends VipConflict {
  readonly group: string;
  /** Our MAC on that interface: the owner the other MAC competes with. */
  readonly ownMac: string;
}

export interface ConflictStatus {
  conflicts: number;
  last: { vip: string; mac: string; agoMs: number } | null;
}

/** What the guard needs of a group's owner. */
export interface GuardedOwner {
  owns(): boolean;
  reannounce(): void;
}

interface Guarded {
  watches: ConflictWatch[];
  conflicts: number;
  last: { vip: string; mac: string; at: number } | null;
  check: unknown;
  reannouncedAt: number;
}

export class ConflictGuard {
  readonly #open: () => ConflictWatch;
  readonly #timers: VipTimers;
  readonly #now: () => number;
  readonly #groups = new Map<string, Guarded>();
  readonly #listeners = new Set<(r: ConflictReport) => void>();

  constructor(options: { open: () => ConflictWatch; timers?: VipTimers; now?: () => number }) {
    this.#open = options.open;
    this.#timers = options.timers ?? realTimers;
    this.#now = options.now ?? (() => performance.now());
  }

  onConflict(listener: (r: ConflictReport) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The group is ours: watch its VIPs on each interface. Errors opening a socket are thrown. */
  start(group: string, targets: readonly AnnounceTarget[], owner: GuardedOwner): void {
    this.#stopWatches(group);
    const g = this.#groups.get(group) ?? {
      watches: [],
      conflicts: 0,
      last: null,
      check: undefined,
      reannouncedAt: -Infinity,
    };
    this.#groups.set(group, g);
    for (const t of targets) {
      if (t.addresses.length === 0) continue;
      const w = this.#open();
      g.watches.push(w);
      w.watch(t.ifindex, t.mac, t.addresses, (c) => this.#claimed(group, g, owner, c, t.mac));
    }
  }

  /** The group is no longer ours (or is being handed off): stop watching. Counts stay. */
  stop(group: string): void {
    this.#stopWatches(group);
  }

  status(group: string): ConflictStatus {
    const g = this.#groups.get(group);
    if (g === undefined) return { conflicts: 0, last: null };
    const last =
      g.last === null
        ? null
        : { vip: g.last.vip, mac: g.last.mac, agoMs: Math.round(this.#now() - g.last.at) };
    return { conflicts: g.conflicts, last };
  }

  close(): void {
    for (const group of this.#groups.keys()) this.#stopWatches(group);
    this.#listeners.clear();
  }

  #stopWatches(group: string): void {
    const g = this.#groups.get(group);
    if (g === undefined) return;
    for (const w of g.watches.splice(0)) w.stop();
    this.#timers.clearTimeout(g.check);
    g.check = undefined;
  }

  #claimed(group: string, g: Guarded, owner: GuardedOwner, c: VipConflict, ownMac: string): void {
    g.conflicts++;
    g.last = { vip: c.address, mac: c.mac, at: this.#now() };
    if (g.check !== undefined) return;
    g.check = this.#timers.setTimeout(() => {
      g.check = undefined;
      const now = this.#now();
      if (!owner.owns() || now - g.reannouncedAt < REANNOUNCE_EVERY_MS) return;
      g.reannouncedAt = now;
      owner.reannounce();
      for (const l of this.#listeners) l({ group, ...c, ownMac: ownMac.toLowerCase() });
    }, CONFLICT_GRACE_MS);
  }
}
