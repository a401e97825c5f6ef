/**
 * VIP ownership for one VIP group: what a director does when the election makes it master of the
 * group, and when it stops being master.
 *
 * - takeOver(): add every VIP of the group to its interface (rtnetlink; IPv6 with IFA_F_NODAD so
 *   the address is usable at once instead of after DAD), then announce: a burst of `count` rounds
 *   `intervalMs` apart (the first at once), then a refresh round every `refreshMs` while master
 *   (switches and hosts forget; a refresh also repairs a cache poisoned by a stale peer).
 * - release(): stop announcing at once, then remove the VIPs.
 * - removeLeftovers(): at start, before the election runs, remove the group's VIPs a crashed run
 *   left on the interfaces (a VIP held by a non-master would answer ARP for it: split brain), and
 *   learn each interface's MAC, so a takeover announces right after adding.
 * - reannounce(): a new burst now, for the split-brain winner, and on its own when one of the
 *   group's links comes back up (the switch may have flushed what it learnt).
 *
 * Operations run one at a time in call order; a release issued while a takeover is still adding
 * addresses wins (no announcement is sent after it). Errors are reported in the result and the
 * status, never thrown: the election decides what a failed add means (e.g. Fault).
 */
import { canonicalIp, parseIp } from '../../core/net/ip.ts';
import type { AddressManager } from '../../core/netlink/address-manager.ts';
import { type LinkMonitor, linkUsable } from '../../core/netlink/link-monitor.ts';
import type { AnnounceResult, Announcer, AnnounceTarget } from './announcer.ts';

export interface VipSpec {
  address: string;
  prefixLength: number;
  ifindex: number;
}

export interface AnnounceConfig {
  /** Rounds in the burst after taking over (or reannounce); the first goes out at once. */
  count: number;
  /** Time between burst rounds. */
  intervalMs: number;
  /** Time between refresh rounds while master; 0 turns refresh off. */
  refreshMs: number;
}

/** Five rounds over 400 ms rides out a lost frame or a port still coming up; refresh well inside ARP/MAC ageing. */
export const DEFAULT_ANNOUNCE: AnnounceConfig = { count: 5, intervalMs: 100, refreshMs: 30_000 };

export interface VipTimers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const realTimers: VipTimers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/** The subset of a pino logger this uses. */
export interface VipLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface VipOwnerOptions {
  group: string;
  vips: readonly VipSpec[];
  addresses: AddressManager;
  announcer: Announcer;
  links: LinkMonitor;
  announce?: Partial<AnnounceConfig>;
  timers?: VipTimers;
  log?: VipLog;
}

export interface VipError {
  op: 'add' | 'remove' | 'list' | 'link';
  vip?: string;
  message: string;
}

export interface VipResult {
  ok: boolean;
  /** "addr/prefix" of each VIP this call changed. */
  changed: string[];
  errors: VipError[];
  /** The call was overtaken by a later takeOver/release before it ran. */
  superseded?: boolean;
}

export interface VipStatus {
  group: string;
  owner: boolean;
  held: string[];
  rounds: number;
  framesSent: number;
  framesFailed: number;
  lastAnnounceError?: string;
  lastErrors: VipError[];
}

/** Interface → its VIPs' addresses, in configuration order. */
function byInterface(vips: readonly VipSpec[]): Map<number, string[]> {
  const byIf = new Map<number, string[]>();
  for (const v of vips) byIf.set(v.ifindex, [...(byIf.get(v.ifindex) ?? []), v.address]);
  return byIf;
}

const label = (v: VipSpec): string => `${canonicalIp(v.address)}/${v.prefixLength}`;
const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class VipOwner {
  readonly #group: string;
  readonly #vips: readonly VipSpec[];
  readonly #addresses: AddressManager;
  readonly #announcer: Announcer;
  readonly #links: LinkMonitor;
  readonly #cfg: AnnounceConfig;
  readonly #timers: VipTimers;
  readonly #log: VipLog | undefined;
  readonly #unsubscribe: () => void;
  /** What the latest call asked for; operations check it after every await. */
  #wantOwner = false;
  /** Counts takeOver/release calls: a queued call with an older number was overtaken and skips. */
  #calls = 0;
  #queue: Promise<unknown> = Promise.resolve();
  /** A release deferred by handOff(), until its grace ends or a takeOver cancels it. */
  #handOff: { timer: unknown; cancel: () => void } | undefined;
  #held: VipSpec[] = [];
  readonly #macs = new Map<number, string>();
  readonly #usable = new Map<number, boolean>();
  #timer: unknown;
  /** Bumped whenever announcing starts or stops, so a stale timer callback does nothing. */
  #burstId = 0;
  #status: Omit<VipStatus, 'group' | 'owner' | 'held'> = {
    rounds: 0,
    framesSent: 0,
    framesFailed: 0,
    lastErrors: [],
  };

  constructor(options: VipOwnerOptions) {
    this.#group = options.group;
    this.#vips = options.vips.map((v) => ({ ...v, address: canonicalIp(v.address) }));
    this.#addresses = options.addresses;
    this.#announcer = options.announcer;
    this.#links = options.links;
    this.#cfg = { ...DEFAULT_ANNOUNCE, ...options.announce };
    this.#timers = options.timers ?? realTimers;
    this.#log = options.log;
    const ifindexes = new Set(this.#vips.map((v) => v.ifindex));
    this.#unsubscribe = this.#links.subscribe((s) => {
      if (!ifindexes.has(s.ifindex)) return;
      if (s.mac !== undefined) this.#macs.set(s.ifindex, s.mac);
      const wasUsable = this.#usable.get(s.ifindex) ?? true;
      const usable = linkUsable(s);
      this.#usable.set(s.ifindex, usable);
      if (usable && !wasUsable && this.#wantOwner) {
        this.#log?.info({ group: this.#group, ifindex: s.ifindex }, 'link back up: announcing VIPs again');
        this.reannounce();
      }
    });
  }

  #serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(op, op);
    this.#queue = run.catch(() => {});
    return run;
  }

  takeOver(): Promise<VipResult> {
    this.#cancelHandOff();
    this.#wantOwner = true;
    const call = ++this.#calls;
    return this.#serial(async () => {
      if (call !== this.#calls) return { ok: true, changed: [], errors: [], superseded: true };
      const result: VipResult = { ok: true, changed: [], errors: [] };
      const held: VipSpec[] = [];
      for (const vip of this.#vips) {
        try {
          // An IPv6 VIP at once (no DAD), and deprecated: Linux would otherwise pick it as the
          // source of the director's own traffic on the segment (health checks, ND), and a real
          // server, which holds the VIP itself, would answer the check to itself.
          const v6 = parseIp(vip.address).family === 6;
          const r = await this.#addresses.add(vip.ifindex, vip.address, vip.prefixLength, {
            noDad: v6,
            deprecated: v6,
          });
          held.push(vip);
          if (r === 'added') result.changed.push(label(vip));
        } catch (err) {
          result.errors.push({ op: 'add', vip: label(vip), message: messageOf(err) });
        }
      }
      // Known since start (removeLeftovers) and kept current by the link subscription, so this
      // asks the kernel only if that failed: no netlink round trip before the first announcement.
      const unknown = held.map((v) => v.ifindex).filter((i) => !this.#macs.has(i));
      result.errors.push(...(await this.#learnLinks(unknown)));
      result.ok = result.errors.length === 0;
      this.#status.lastErrors = result.errors;
      if (!this.#wantOwner) {
        // Released while we were adding: the queued release removes them; announce nothing.
        return { ...result, superseded: true };
      }
      this.#held = held;
      // Announce first: the log line costs time the clients wait for.
      this.#startBurst();
      this.#log?.info({ group: this.#group, added: result.changed, errors: result.errors }, 'took over VIPs');
      return result;
    });
  }

  /**
   * A peer took over alive (it preempted us, or a planned handover): stop announcing at once, and
   * remove the addresses only `graceMs` later, once the new owner has added and announced them.
   * Make-before-break: at no instant does nobody answer ARP / ND for the VIP (for those few ms both
   * do, and both forward: the sync gave the new owner the flows, and our forwarder keeps running).
   * A takeOver() meanwhile cancels it.
   */
  handOff(graceMs: number): Promise<VipResult> {
    this.#wantOwner = false;
    this.#stopAnnouncing();
    this.#cancelHandOff();
    return new Promise((resolve) => {
      const timer = this.#timers.setTimeout(() => {
        this.#handOff = undefined;
        void this.release().then(resolve);
      }, graceMs);
      this.#handOff = {
        timer,
        cancel: () => resolve({ ok: true, changed: [], errors: [], superseded: true }),
      };
    });
  }

  #cancelHandOff(): void {
    const h = this.#handOff;
    if (h === undefined) return;
    this.#handOff = undefined;
    this.#timers.clearTimeout(h.timer);
    h.cancel();
  }

  release(): Promise<VipResult> {
    this.#cancelHandOff();
    this.#wantOwner = false;
    this.#stopAnnouncing();
    const call = ++this.#calls;
    return this.#serial(async () => {
      if (call !== this.#calls) return { ok: true, changed: [], errors: [], superseded: true };
      this.#stopAnnouncing();
      this.#held = [];
      const result = await this.#removeAll();
      this.#log?.info(
        { group: this.#group, removed: result.changed, errors: result.errors },
        'released VIPs',
      );
      return result;
    });
  }

  /** At start, while not master: remove this group's VIPs found on their interfaces. */
  removeLeftovers(): Promise<VipResult> {
    return this.#serial(async () => {
      if (this.#wantOwner) return { ok: true, changed: [], errors: [], superseded: true };
      // Not an error here: a takeover asks again for an interface not learnt now.
      await this.#learnLinks(this.#vips.map((v) => v.ifindex));
      const result = await this.#removeAll();
      if (result.changed.length > 0) {
        this.#log?.warn(
          { group: this.#group, removed: result.changed },
          'removed VIPs left by an earlier run',
        );
      }
      return result;
    });
  }

  /** Starts a new announcement burst now (no-op unless master). */
  reannounce(): void {
    if (this.#wantOwner && this.#held.length > 0) this.#startBurst();
  }

  /** The group's VIPs, as configured (canonical addresses). */
  get vips(): readonly VipSpec[] {
    return this.#vips;
  }

  /**
   * Where a round for this group goes now: each interface whose MAC is known, with the group's VIPs
   * on it (for the election thread's first round of a takeover, failover/thread/takeover-announcer.ts).
   */
  announceTargets(): AnnounceTarget[] {
    return [...byInterface(this.#vips)]
      .filter(([ifindex]) => this.#macs.has(ifindex))
      .map(([ifindex, addresses]) => ({ ifindex, mac: this.#macs.get(ifindex)!, addresses }));
  }

  /** A round sent for this group by the election thread: counted in status as one of ours. */
  recordRound(r: AnnounceResult): void {
    this.#status.rounds++;
    this.#countRound(r);
  }

  #countRound(r: AnnounceResult): void {
    this.#status.framesSent += r.sent;
    this.#status.framesFailed += r.failed;
    if (r.lastError !== undefined) this.#status.lastAnnounceError = r.lastError;
  }

  /** Reads MAC and state of each interface (once each) into the cache the announcements use. */
  async #learnLinks(ifindexes: number[]): Promise<VipError[]> {
    const errors: VipError[] = [];
    for (const ifindex of new Set(ifindexes)) {
      try {
        const link = await this.#links.get(ifindex);
        if (link?.mac === undefined) throw new Error(`interface ${ifindex} has no MAC address`);
        this.#macs.set(ifindex, link.mac);
        this.#usable.set(ifindex, linkUsable(link));
      } catch (err) {
        errors.push({ op: 'link', message: `interface ${ifindex}: ${messageOf(err)}` });
      }
    }
    return errors;
  }

  /** Removes every configured VIP present on its interface, whatever prefix it was added with. */
  async #removeAll(): Promise<VipResult> {
    const result: VipResult = { ok: true, changed: [], errors: [] };
    const wanted = new Map<number, Set<string>>();
    for (const v of this.#vips) {
      const set = wanted.get(v.ifindex) ?? new Set<string>();
      set.add(v.address);
      wanted.set(v.ifindex, set);
    }
    for (const [ifindex, addresses] of wanted) {
      let present: { address: string; prefixLength: number }[];
      try {
        present = (await this.#addresses.list(ifindex)).filter((a) => addresses.has(a.address));
      } catch (err) {
        result.errors.push({ op: 'list', message: `interface ${ifindex}: ${messageOf(err)}` });
        continue;
      }
      for (const a of present) {
        const vip = { ifindex, address: a.address, prefixLength: a.prefixLength };
        try {
          if ((await this.#addresses.remove(ifindex, a.address, a.prefixLength)) === 'removed') {
            result.changed.push(label(vip));
          }
        } catch (err) {
          result.errors.push({ op: 'remove', vip: label(vip), message: messageOf(err) });
        }
      }
    }
    result.ok = result.errors.length === 0;
    this.#status.lastErrors = result.errors;
    return result;
  }

  #stopAnnouncing(): void {
    this.#burstId++;
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #startBurst(): void {
    this.#stopAnnouncing();
    const id = this.#burstId;
    let left = this.#cfg.count;
    const step = (): void => {
      if (id !== this.#burstId || !this.#wantOwner) return;
      this.#round();
      left--;
      if (left > 0) this.#timer = this.#timers.setTimeout(step, this.#cfg.intervalMs);
      else if (this.#cfg.refreshMs > 0) this.#timer = this.#timers.setTimeout(refresh, this.#cfg.refreshMs);
      else this.#timer = undefined;
    };
    const refresh = (): void => {
      if (id !== this.#burstId || !this.#wantOwner) return;
      this.#round();
      this.#timer = this.#timers.setTimeout(refresh, this.#cfg.refreshMs);
    };
    if (left > 0) step();
    else if (this.#cfg.refreshMs > 0) this.#timer = this.#timers.setTimeout(refresh, this.#cfg.refreshMs);
  }

  #round(): void {
    this.#status.rounds++;
    for (const [ifindex, addresses] of byInterface(this.#held)) {
      const mac = this.#macs.get(ifindex);
      if (mac === undefined) {
        this.#status.framesFailed += addresses.length;
        this.#status.lastAnnounceError = `no MAC known for interface ${ifindex}`;
        continue;
      }
      this.#countRound(this.#announcer.announce(ifindex, mac, addresses));
    }
  }

  status(): VipStatus {
    return {
      group: this.#group,
      owner: this.#wantOwner,
      held: this.#held.map(label),
      ...this.#status,
      lastErrors: [...this.#status.lastErrors],
    };
  }

  /** Stops timers and the link subscription. Leaves addresses as they are (release() removes). */
  close(): void {
    this.#cancelHandOff();
    this.#wantOwner = false;
    this.#stopAnnouncing();
    this.#unsubscribe();
  }
}
