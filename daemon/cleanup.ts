/**
 * `dsrd --cleanup`: what a director leaves in the kernel when it ends without releasing (kill -9,
 * a hung daemon killed at the end of its stop timeout, a crash loop that hit the start limit) is
 * taken away, so a dead director never keeps answering ARP / ND for a VIP (issue 21). The unit runs
 * it as ExecStopPost=, which systemd runs however the daemon ended; after a clean stop there is
 * nothing left and it says so.
 *
 * It removes the VIP addresses of every group from their interfaces: the kernel then stops answering
 * for them, and the peer's gratuitous ARP / unsolicited NA moves the clients. The XDP program and
 * its pinned tables stay: frames that still reach this director's MAC (a switch or client whose
 * cache has not moved yet) keep reaching the real servers of their established flows instead of
 * being dropped by a stack that no longer holds the VIP, and the next start restores the tables.
 * The program answers nothing and announces nothing, so it cannot make this director an owner.
 */
import type { Config } from '../config/index.ts';
import { rtnlVipKernel, type VipKernel, vipOwnerFor } from './vip/part.ts';

export interface CleanupReport {
  ok: boolean;
  groups: { group: string; interface: string; removed: string[]; errors: string[] }[];
}

export async function cleanup(
  config: Config,
  openKernel: () => VipKernel = rtnlVipKernel,
): Promise<CleanupReport> {
  const kernel = openKernel();
  try {
    const groups: CleanupReport['groups'] = [];
    for (const g of config.vipGroups) {
      let removed: string[] = [];
      let errors: string[];
      try {
        const r = await vipOwnerFor(g, kernel).removeLeftovers();
        removed = r.changed;
        errors = r.errors.map((e) => `${e.op} ${e.vip ?? ''}: ${e.message}`);
      } catch (e) {
        errors = [e instanceof Error ? e.message : String(e)];
      }
      groups.push({ group: g.name, interface: g.interface, removed, errors });
    }
    return { ok: groups.every((g) => g.errors.length === 0), groups };
  } finally {
    kernel.close();
  }
}

/** One line per group, as the journal shows it. */
export function formatCleanup(r: CleanupReport): string {
  return r.groups
    .map((g) => {
      const what = g.removed.length === 0 ? 'no VIP left to remove' : `removed ${g.removed.join(' ')}`;
      const failed = g.errors.length === 0 ? '' : `; FAILED: ${g.errors.join('; ')}`;
      return `VIP group ${g.group} on ${g.interface}: ${what}${failed}\n`;
    })
    .join('');
}
