/**
 * The VIPs of a master whose main thread hangs (issue 21, item 2), released by the election
 * thread itself.
 *
 * While the main thread's heartbeat is stale the election thread makes every group Fault
 * (main-heartbeat.ts), and a master's Fault adverts carry priority 0, so its backup takes over
 * within a skew time (RFC 5798 §6.4.3, as for a shutdown). But the VIP addresses stay on the
 * interface until the main thread runs its release, and the kernel keeps answering ARP and NS for
 * them: two owners for as long as the hang lasts. So the election thread removes them itself.
 *
 * When: once it hears another director advertise as the group's master (its takeover announcement
 * is then on the wire: make-before-break, as a planned move), not before. If no one takes over (no
 * live backup), it keeps them: the XDP program forwards whether or not the main thread runs, so a
 * hung main thread is not a dead data plane, and removing the VIPs would leave the service with no
 * owner at all. A daemon that stays hung is killed by the watchdog (WatchdogSec) and the unit's
 * ExecStopPost cleanup (`dsrd --cleanup`) removes them then.
 *
 * The main thread, when it runs again, finds the become-backup in the Fault output and releases
 * as usual (an address already gone is "absent", not an error).
 */
import type { VipSpec } from '../vip/vip-owner.ts';

/** What one release did, for the main thread to log when it runs again. */
export interface HungMainReleased {
  readonly groupId: number;
  /** "address/prefix" of each VIP removed. */
  readonly removed: readonly string[];
  readonly errors: readonly string[];
}

export type RemoveAddress = (ifindex: number, address: string, prefixLength: number) => 'removed' | 'absent';

export class HungMainRelease {
  readonly #vips: Readonly<Record<number, readonly VipSpec[]>>;
  readonly #remove: RemoveAddress;
  /** Groups that left master because the main thread is stale, and still hold their VIPs. */
  readonly #waiting = new Set<number>();

  constructor(vips: Readonly<Record<number, readonly VipSpec[]>>, remove: RemoveAddress) {
    this.#vips = vips;
    this.#remove = remove;
  }

  /** Group `groupId` left master while the main thread is stale: release once another master is heard. */
  hold(groupId: number): void {
    if ((this.#vips[groupId]?.length ?? 0) > 0) this.#waiting.add(groupId);
  }

  /** The main thread runs again: from here it releases (or keeps) the VIPs as the election says. */
  clear(): void {
    this.#waiting.clear();
  }

  get waiting(): boolean {
    return this.#waiting.size > 0;
  }

  /** Releases every held group whose master is now another director. */
  poll(otherMaster: (groupId: number) => boolean): HungMainReleased[] {
    const done: HungMainReleased[] = [];
    for (const groupId of this.#waiting) {
      if (!otherMaster(groupId)) continue;
      this.#waiting.delete(groupId);
      const removed: string[] = [];
      const errors: string[] = [];
      for (const v of this.#vips[groupId] ?? []) {
        const label = `${v.address}/${v.prefixLength}`;
        try {
          if (this.#remove(v.ifindex, v.address, v.prefixLength) === 'removed') removed.push(label);
        } catch (err) {
          errors.push(`${label}: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      done.push({ groupId, removed, errors });
    }
    return done;
  }
}
