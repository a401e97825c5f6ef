/**
 * Who holds the VIP, from the kernel's point of view: the pure part. Lines of
 * `ip -o monitor address` / `ip -o addr show` are parsed into "host has / lost
 * the VIP" events, and a tracker keeps the holder set and counts acquisitions.
 *
 * Watching addresses rather than each stack's logs makes the master visible
 * the same way for every director stack (keepalived and dsrd alike), and it is
 * the address that decides where clients' traffic goes (only the holder
 * answers ARP for it).
 */

export interface AddrEvent {
  ifname: string;
  addr: string;
  present: boolean;
}

const LINE = /^(Deleted\s+)?\d+:\s+(\S+)\s+inet6?\s+([0-9A-Fa-f.:]+)\/\d+/;

/** Parses one line of `ip -o monitor address` or `ip -o addr show`; null for other lines. */
export function parseAddrLine(line: string): AddrEvent | null {
  const m = LINE.exec(line.trim());
  if (!m) return null;
  return { ifname: m[2], addr: m[3].toLowerCase(), present: m[1] === undefined };
}

export interface HolderChange {
  at: number;
  host: string;
  present: boolean;
}

/**
 * Holder set of one VIP. An acquisition (a host gains the VIP it did not hold)
 * is what a master change looks like from outside; `acquisitions` counts them.
 */
export class VipHolders {
  readonly vip: string;
  readonly ifname: string;
  readonly changes: HolderChange[] = [];
  private readonly held = new Set<string>();
  private acquired = 0;

  constructor(vip: string, ifname = 'eth0') {
    this.vip = vip.toLowerCase();
    this.ifname = ifname;
  }

  /** Applies one parsed event for `host`; returns true when it changed the holder set. */
  apply(host: string, ev: AddrEvent | null, at: number): boolean {
    if (!ev || ev.addr !== this.vip || ev.ifname !== this.ifname) return false;
    if (ev.present === this.held.has(host)) return false;
    if (ev.present) {
      this.held.add(host);
      this.acquired++;
    } else {
      this.held.delete(host);
    }
    this.changes.push({ at, host, present: ev.present });
    return true;
  }

  holders(): string[] {
    return [...this.held].sort();
  }

  has(host: string): boolean {
    return this.held.has(host);
  }

  get acquisitions(): number {
    return this.acquired;
  }

  /** Acquisitions strictly after `since` (ms): master changes in a window. */
  acquisitionsSince(since: number): HolderChange[] {
    return this.changes.filter((c) => c.present && c.at > since);
  }

  /**
   * The acquisitions after `since` that moved the VIP: taken by another host than the one that
   * acquired it last. A director that drops its VIP and takes it back (dsrd fencing itself after a
   * stall, then finding no one took over) moves nothing: clients' ARP caches still point at it.
   */
  movesSince(since: number): HolderChange[] {
    let last: string | null = null;
    const moves: HolderChange[] = [];
    for (const c of this.changes) {
      if (!c.present) continue;
      if (c.at > since && c.host !== last) moves.push(c);
      last = c.host;
    }
    return moves;
  }
}
