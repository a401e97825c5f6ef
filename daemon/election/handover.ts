/**
 * A planned, make-before-break handover of a VIP group from this director (its master) to a peer,
 * shared by `dsrctl failover` (commands.ts) and `dsrctl drill` (daemon/drill/). It works through
 * the narrow view of the election below, which ElectionPart implements.
 */
import type { ControlInput, ReportedOutput } from '../../failover/index.ts';
import type { NodeNames } from './report.ts';

/** What a handover needs of the election part. */
export interface HandoverElection {
  /** The VIP groups by group id. */
  readonly groups: ReadonlyMap<number, { readonly id: number; readonly config: { readonly name: string } }>;
  /** Node id → config name, ours and the peers'. */
  readonly names: NodeNames;
  /** This director's node id. */
  readonly nodeId: number;
  onOutput(listener: (group: string, out: ReportedOutput) => void): () => void;
  input(groupId: number, input: ControlInput): Promise<void>;
}

export interface HandoverOutcome {
  ok: boolean;
  /** 'completed', or why it failed (timeout, target-lost, not-in-sync, ...). */
  outcome: string;
  ms: number;
}

/** The handover's own timeout is 2 × master-down; this only guards against a lost outcome. */
const WAIT_LIMIT_MS = 60_000;

/**
 * Starts a planned handover of a group to `targetId` and resolves when it completes or fails (the
 * target's first advert as master, or the election's timeout). Throws E_ILLEGAL_TRANSITION at once,
 * with nothing changed, when it cannot start: not master, target lost, not in sync, ...
 */
export function handOver(
  election: HandoverElection,
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
