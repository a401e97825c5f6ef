/**
 * `dsrctl failover [--group G] [--to NODE] [--force]`: a planned, make-before-break handover of a
 * VIP group from this director (its master) to a peer. The command answers when the handover
 * completes or fails (the target's first advert as master, or the election's timeout).
 */
import { z } from 'zod';
import type { CommandRegistry } from '../../admin/registry.ts';
import { DsrError } from '../../core/errors.ts';
import type { ElectionPart } from './part.ts';

export const FailoverArgs = z
  .object({
    group: z.string().min(1).max(63).optional(),
    to: z.string().min(1).max(63).optional(),
    force: z.boolean().default(false),
  })
  .strict();

export interface FailoverResult {
  group: string;
  from: string;
  to: string;
  ok: boolean;
  /** 'completed', or why it failed (timeout, target-lost, not-in-sync, ...). */
  outcome: string;
  ms: number;
}

/** The handover's own timeout is 2 × master-down; this only guards against a lost outcome. */
const WAIT_LIMIT_MS = 60_000;

export function registerFailoverCommand(registry: CommandRegistry, election: ElectionPart): () => void {
  return registry.register({
    name: 'failover',
    summary: 'planned handover of a VIP group to a peer (make-before-break)',
    args: FailoverArgs,
    run: ({ group, to, force }, ctx): Promise<FailoverResult> => {
      const groups = [...election.groups.values()];
      const g =
        group === undefined
          ? groups.length === 1
            ? groups[0]
            : undefined
          : groups.find((x) => x.config.name === group);
      if (g === undefined) {
        throw new DsrError(
          'E_ADMIN_REQUEST',
          group === undefined
            ? `name the VIP group with --group (${groups.map((x) => x.config.name).join(', ')})`
            : `no VIP group named "${group}"`,
          { group: group ?? null },
        );
      }
      const names = election.names;
      const peers = [...names].filter(([, n]) => n !== names.get(election.nodeId));
      const target =
        to === undefined ? (peers.length === 1 ? peers[0] : undefined) : peers.find(([, n]) => n === to);
      if (target === undefined) {
        throw new DsrError(
          'E_ADMIN_REQUEST',
          to === undefined
            ? `name the target with --to (${peers.map(([, n]) => n).join(', ')})`
            : `"${to}" is not a peer of this director`,
          { to: to ?? null },
        );
      }
      const [targetId, targetName] = target;
      const from = names.get(election.nodeId) ?? '';
      return handOver(election, g.config.name, g.id, targetId, {
        force,
        onStarted: () => ctx.progress({ started: true, to: targetName }),
      }).then((r): FailoverResult => ({ group: g.config.name, from, to: targetName, ...r }));
    },
  });
}

export interface HandoverOutcome {
  ok: boolean;
  /** 'completed', or why it failed (timeout, target-lost, not-in-sync, ...). */
  outcome: string;
  ms: number;
}

/**
 * Starts a planned handover of a group to `targetId` and resolves when it completes or fails (the
 * target's first advert as master, or the election's timeout). Throws E_ILLEGAL_TRANSITION at once,
 * with nothing changed, when it cannot start: not master, target lost, not in sync, ...
 * Shared by `dsrctl failover` and `dsrctl drill`.
 */
export function handOver(
  election: ElectionPart,
  group: string,
  groupId: number,
  targetId: number,
  opts: { force: boolean; onStarted?: () => void },
): Promise<HandoverOutcome> {
  const started = performance.now();
  return new Promise<HandoverOutcome>((resolve, reject) => {
    const finish = (ok: boolean, outcome: string): void => {
      off();
      clearTimeout(timer);
      resolve({ ok, outcome, ms: Math.round(performance.now() - started) });
    };
    const off = election.onOutput((name, out) => {
      if (name !== group) return;
      for (const e of out.effects) {
        if (e.type !== 'alert') continue;
        if (e.alert.kind === 'handover-completed') finish(true, 'completed');
        else if (e.alert.kind === 'handover-failed') finish(false, e.alert.reason);
        else if (e.alert.kind === 'handover-started') opts.onStarted?.();
      }
    });
    const timer = setTimeout(() => finish(false, 'no outcome reported'), WAIT_LIMIT_MS);
    election
      .input(groupId, { kind: 'request-handover', target: targetId, force: opts.force })
      .catch((err) => {
        off();
        clearTimeout(timer);
        reject(err);
      });
  });
}
