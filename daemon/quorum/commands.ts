/**
 * `dsrctl failover [--to NODE]` in quorum mode: a leadership transfer (TimeoutNow, Raft thesis
 * §3.10). The lease goes first, then the target campaigns; the command answers when the target
 * leads or when the transfer's time (one election timeout) is up. `--group` names any group (the
 * leader holds them all); `--force` changes nothing here.
 */
import { performance } from 'node:perf_hooks';
import { CATALOGUE } from '../../admin/catalogue/commands.ts';
import type { CommandRegistry } from '../../admin/registry.ts';
import { DsrError } from '../../core/errors.ts';
import type { RaftStatus } from '../../failover/index.ts';

export interface TransferElection {
  readonly names: ReadonlyMap<number, string>;
  readonly nodeId: number;
  raftStatus(): RaftStatus | null;
  transfer(target: number): void;
  electionTimeoutMs(): number;
}

const POLL_MS = 2;

export function registerTransferCommand(registry: CommandRegistry, election: TransferElection): () => void {
  return registry.handle(CATALOGUE.failover, async ({ group, to }, ctx) => {
    const status = election.raftStatus();
    if (status === null) throw new DsrError('E_ADMIN_REQUEST', 'the election is not running');
    const self = election.names.get(election.nodeId) ?? '';
    if (status.role !== 'leader') {
      const leader = status.leader === 0 ? 'none' : election.names.get(status.leader);
      throw new DsrError(
        'E_ADMIN_REQUEST',
        `this director does not lead (leader: ${leader}): run it on the leader`,
        {
          leader,
        },
      );
    }
    const directors = status.peers.filter((p) => !p.witness);
    const target =
      to === undefined
        ? directors.length === 1
          ? directors[0]
          : undefined
        : directors.find((p) => election.names.get(p.id) === to);
    if (target === undefined) {
      const names = directors.map((p) => election.names.get(p.id)).join(', ');
      throw new DsrError(
        'E_USAGE',
        to === undefined
          ? `name the target with --to (${names})`
          : `"${to}" is not a director among the voters (${names})`,
        { to: to ?? null },
      );
    }
    const targetName = election.names.get(target.id) ?? String(target.id);
    const start = performance.now();
    election.transfer(target.id);
    ctx.progress({ started: true, to: targetName });
    const deadline = start + election.electionTimeoutMs() * 2;
    let outcome = 'timeout';
    while (performance.now() < deadline) {
      const now = election.raftStatus();
      if (now !== null && now.leader === target.id) {
        outcome = 'completed';
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const result = {
      group: group ?? 'all',
      from: self,
      to: targetName,
      ok: outcome === 'completed',
      outcome,
    };
    return { ...result, ms: Math.round(performance.now() - start) };
  });
}

/**
 * What VRRP mode has and quorum mode does not yet: the drill (built on the VRRP handover) and
 * maintenance (a VRRP priority). Asked for, they say so and what to use instead.
 */
export function registerUnavailableCommands(registry: CommandRegistry): () => void {
  const offs = [
    registry.handle(CATALOGUE.drill, () => {
      throw new DsrError(
        'E_ADMIN_REQUEST',
        'dsrctl drill is not available in quorum mode yet: a planned handover is dsrctl failover (a leadership transfer)',
      );
    }),
    registry.handle(CATALOGUE.maintenance, () => {
      throw new DsrError(
        'E_ADMIN_REQUEST',
        'dsrctl maintenance is not available in quorum mode yet: move leadership away with dsrctl failover',
      );
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}
