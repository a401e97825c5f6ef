/**
 * VIP ownership as a daemon part: one VipOwner per VIP group (failover/vip), and the link monitor
 * the election's "interface down" conditions read. At start it removes VIPs a crashed run left
 * behind (before the election can make us master); at stop it releases what it still holds.
 * The election part (started after it) decides; this part carries out takeOver/release.
 */
import type { VipGroupConfig } from '../../config/index.ts';
import { DsrError } from '../../core/errors.ts';
import { interfaceIndex } from '../../core/kernel/libc.ts';
import type { Logger } from '../../core/log.ts';
import { parseIp } from '../../core/net/ip.ts';
import { type AddressManager, RtnlAddressManager } from '../../core/netlink/address-manager.ts';
import { type LinkMonitor, RtnlLinkMonitor } from '../../core/netlink/link-monitor.ts';
import {
  type AnnounceResult,
  type AnnounceTarget,
  type ArpForm,
  PacketAnnouncer,
  VipOwner,
  type VipResult,
  type VipSpec,
  type VipStatus,
} from '../../failover/index.ts';
import { ConflictGuard, type ConflictReport } from '../../failover/vip/conflict-guard.ts';
import { type ConflictWatch, PacketConflictWatch } from '../../failover/vip/conflict-watch.ts';
import type { ConfigChange } from '../change.ts';
import type { DaemonPart, PartContext } from '../part.ts';

/** Fields of a VIP group this part reads; a change to them needs a restart (owners are built once). */
const VIP_FIELDS = ['vips', 'interface', 'garp'];

/** Opens the kernel handles; a function so a test can hand in fakes. */
export interface VipKernel {
  addresses: AddressManager;
  links: LinkMonitor;
  announcer: ConstructorParameters<typeof VipOwner>[0]['announcer'];
  ifindex(name: string): number;
  /** Opens a watch for claims of our VIPs by other MACs (ARP, ND); absent: no conflict detection. */
  openConflictWatch?: () => ConflictWatch;
  close(): void;
}

/** Both gratuitous ARP forms (failover/vip/frames.ts explains why). */
export const VIP_ARP_FORMS: readonly ArpForm[] = ['request', 'reply'];

export function rtnlVipKernel(): VipKernel {
  const addresses = new RtnlAddressManager();
  const links = new RtnlLinkMonitor();
  let announcer: PacketAnnouncer;
  try {
    announcer = new PacketAnnouncer({ arpForms: VIP_ARP_FORMS });
  } catch (e) {
    addresses.close();
    links.close();
    throw e;
  }
  return {
    addresses,
    links,
    announcer,
    ifindex: interfaceIndex,
    openConflictWatch: () => new PacketConflictWatch(),
    close: () => {
      announcer.close();
      links.close();
      addresses.close();
    },
  };
}

/** The owner of one VIP group's addresses on its interface. */
export function vipOwnerFor(g: VipGroupConfig, kernel: VipKernel, log?: Logger): VipOwner {
  const ifindex = kernel.ifindex(g.interface);
  return new VipOwner({
    group: g.name,
    vips: g.vips.map((address) => ({
      address,
      prefixLength: parseIp(address).family === 4 ? 32 : 128,
      ifindex,
    })),
    addresses: kernel.addresses,
    announcer: kernel.announcer,
    links: kernel.links,
    announce: { count: g.garp.count, intervalMs: g.garp.intervalMs, refreshMs: g.garp.refreshS * 1000 },
    log: log?.child({ group: g.name }),
  });
}

export class VipPart implements DaemonPart {
  readonly name = 'vip';
  readonly #openKernel: () => VipKernel;
  readonly #owners = new Map<string, VipOwner>();
  #kernel: VipKernel | undefined;
  #log: Logger | undefined;
  #guard: ConflictGuard | undefined;
  readonly #conflictListeners = new Set<(r: ConflictReport) => void>();

  constructor(openKernel: () => VipKernel = rtnlVipKernel) {
    this.#openKernel = openKernel;
  }

  /** The link monitor (for the election's tracked interfaces); only while running. */
  get links(): LinkMonitor {
    if (this.#kernel === undefined) throw new DsrError('E_INTERNAL', 'the vip part is not running');
    return this.#kernel.links;
  }

  ifindex(name: string): number {
    if (this.#kernel === undefined) throw new DsrError('E_INTERNAL', 'the vip part is not running');
    return this.#kernel.ifindex(name);
  }

  async start(ctx: PartContext): Promise<void> {
    this.#log = ctx.log;
    const kernel = this.#openKernel();
    this.#kernel = kernel;
    const open = kernel.openConflictWatch;
    if (open !== undefined) {
      this.#guard = new ConflictGuard({ open });
      this.#guard.onConflict((r) => {
        this.#log?.warn({ ...r }, 'another MAC claims a VIP we hold: announced again');
        for (const l of this.#conflictListeners) l(r);
      });
    }
    for (const g of ctx.config.vipGroups) this.#owners.set(g.name, vipOwnerFor(g, kernel, this.#log));
    for (const [group, owner] of this.#owners) {
      const r = await owner.removeLeftovers();
      if (!r.ok) {
        throw new DsrError('E_NETLINK', `cannot clear VIPs of group ${group} left by an earlier run`, {
          group,
          errors: r.errors,
        });
      }
    }
  }

  #get(group: string): VipOwner {
    const owner = this.#owners.get(group);
    if (owner === undefined) throw new DsrError('E_INTERNAL', `no VIP owner for group ${group}`, { group });
    return owner;
  }

  async takeOver(group: string): Promise<VipResult> {
    const owner = this.#get(group);
    const r = await owner.takeOver();
    if (r.ok && r.superseded !== true && owner.status().owner) this.#watch(group, owner);
    return r;
  }

  release(group: string): Promise<VipResult> {
    this.#guard?.stop(group);
    return this.#get(group).release();
  }

  /** Called with every conflict answered (another MAC claiming a VIP we own: conflict-guard.ts). */
  onConflict(listener: (r: ConflictReport) => void): () => void {
    this.#conflictListeners.add(listener);
    return () => this.#conflictListeners.delete(listener);
  }

  #watch(group: string, owner: VipOwner): void {
    try {
      this.#guard?.start(group, owner.announceTargets(), {
        owns: () => owner.status().owner,
        reannounce: () => owner.reannounce(),
      });
    } catch (err) {
      this.#log?.warn({ group, err: String(err) }, 'cannot watch for other owners of the VIPs');
    }
  }

  /** A live peer took the group over: quiet now, the addresses go after `graceMs` (VipOwner.handOff). */
  handOff(group: string, graceMs: number): Promise<VipResult> {
    this.#guard?.stop(group);
    return this.#get(group).handOff(graceMs);
  }

  reannounce(group: string): void {
    this.#get(group).reannounce();
  }

  /** Where a round for `group` goes (interfaces with a known MAC); [] for an unknown group. */
  announceTargets(group: string): AnnounceTarget[] {
    return this.#owners.get(group)?.announceTargets() ?? [];
  }

  /** The VIPs of `group`; [] for an unknown group. */
  vips(group: string): readonly VipSpec[] {
    return this.#owners.get(group)?.vips ?? [];
  }

  /** Counts a round the election thread sent for `group`. */
  recordRound(group: string, r: AnnounceResult): void {
    this.#owners.get(group)?.recordRound(r);
  }

  /** Claims of the group's VIPs by other MACs seen while we held them (conflict-guard.ts). */
  conflicts(group: string): number {
    return this.#guard?.status(group).conflicts ?? 0;
  }

  owned(group: string): VipStatus | undefined {
    return this.#owners.get(group)?.status();
  }

  /** Releases every VIP still held (the election, stopped before us, normally did), then closes. */
  async stop(): Promise<void> {
    const owners = [...this.#owners.values()];
    await Promise.all(
      owners.map((o) => (o.status().owner || o.status().held.length > 0 ? o.release() : undefined)),
    );
    for (const o of owners) o.close();
    this.#guard?.close();
    this.#guard = undefined;
    this.#owners.clear();
    this.#kernel?.close();
    this.#kernel = undefined;
  }

  /** Owners are built once: a change to the groups, their VIPs, interface or garp needs a restart (no reload()). */
  affectedBy(change: ConfigChange): boolean {
    const v = change.diff.vipGroups;
    return (
      v.added.length + v.removed.length > 0 ||
      v.changed.some((c) => c.fields.some((f) => VIP_FIELDS.includes(f)))
    );
  }

  status(): unknown {
    return {
      owners: [...this.#owners.entries()].map(([group, o]) => ({
        ...o.status(),
        conflicts: this.#guard?.status(group) ?? null,
      })),
    };
  }
}
