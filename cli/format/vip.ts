/**
 * The VIP part's conflict line in `dsrctl status`: groups whose VIPs another MAC claimed while
 * this director held them (failover/vip/conflict-guard.ts). A part's status is its own JSON in the
 * status result, so every field is checked before it is shown.
 */
import { duration } from './table.ts';

interface OwnerConflicts {
  group?: unknown;
  conflicts?: { conflicts?: unknown; last?: { vip?: unknown; mac?: unknown; agoMs?: unknown } | null } | null;
}

/** One line, or '' when no group saw a conflict. */
export function vipConflictLine(parts: readonly { name: string; status?: unknown }[]): string {
  const status = parts.find((p) => p.name === 'vip')?.status as { owners?: unknown } | undefined;
  if (!Array.isArray(status?.owners)) return '';
  const seen = (status.owners as OwnerConflicts[]).flatMap((o) => {
    const c = o.conflicts;
    if (typeof o.group !== 'string' || typeof c?.conflicts !== 'number' || c.conflicts === 0) return [];
    const l = c.last;
    const last =
      l && typeof l.vip === 'string' && typeof l.mac === 'string' && typeof l.agoMs === 'number'
        ? ` (last: ${l.vip} claimed by ${l.mac}, ${duration(l.agoMs)} ago)`
        : '';
    return [`${o.group} ${c.conflicts}${last}`];
  });
  return seen.length === 0
    ? ''
    : `VIP CONFLICTS (another MAC claimed our VIP by ARP or ND): ${seen.join('; ')}\n`;
}
