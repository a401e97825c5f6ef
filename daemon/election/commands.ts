/**
 * `dsrctl failover [--group G] [--to NODE] [--force]`: a planned, make-before-break handover of a
 * VIP group from this director (its master) to a peer (handover.ts). The command answers when the
 * handover completes or fails (the target's first advert as master, or the election's timeout).
 */
import { CATALOGUE } from '../../admin/catalogue/commands.ts';
import type { CommandRegistry } from '../../admin/registry.ts';
import { DsrError } from '../../core/errors.ts';
import { type HandoverElection, handOver } from './handover.ts';

export function registerFailoverCommand(registry: CommandRegistry, election: HandoverElection): () => void {
  return registry.handle(CATALOGUE.failover, async ({ group, to, force }, ctx) => {
    const groups = [...election.groups.values()];
    const g =
      group === undefined
        ? groups.length === 1
          ? groups[0]
          : undefined
        : groups.find((x) => x.config.name === group);
    if (g === undefined) {
      // A wrong name on the command line is a usage error (exit 2), as for `dsrctl drill`.
      throw new DsrError(
        'E_USAGE',
        group === undefined
          ? `name the VIP group with --group (${groups.map((x) => x.config.name).join(', ')})`
          : `no VIP group named "${group}"`,
        { group: group ?? null },
      );
    }
    const names = election.names;
    const peers = [...names].filter(([, n]) => n !== names.get(election.nodeId));
    if (peers.length === 0) {
      throw new DsrError('E_ADMIN_REQUEST', 'this director has no peer to hand over to (config peers)');
    }
    const target =
      to === undefined ? (peers.length === 1 ? peers[0] : undefined) : peers.find(([, n]) => n === to);
    if (target === undefined) {
      throw new DsrError(
        'E_USAGE',
        to === undefined
          ? `name the target with --to (${peers.map(([, n]) => n).join(', ')})`
          : `"${to}" is not a peer of this director`,
        { to: to ?? null },
      );
    }
    const [targetId, targetName] = target;
    const from = names.get(election.nodeId) ?? '';
    const outcome = await handOver(election, g.config.name, g.id, targetId, {
      force,
      onStarted: () => ctx.progress({ started: true, to: targetName }),
    });
    return { group: g.config.name, from, to: targetName, ...outcome };
  });
}
