/**
 * The inputs the daemon gives an election group, as data: they cross from the daemon's main
 * thread to the election thread by postMessage, where a closure cannot go.
 */
import type { ElectionGroup } from '../election/group.ts';
import type { ElectionOutput } from '../election/types.ts';

export type GroupOp =
  | { readonly op: 'set-condition'; readonly name: string; readonly failing: boolean }
  | { readonly op: 'set-sync-ready'; readonly ready: boolean }
  | { readonly op: 'set-priority'; readonly priority: number }
  | { readonly op: 'set-fingerprint'; readonly fingerprint: Uint8Array }
  | { readonly op: 'request-handover'; readonly target: number; readonly force: boolean }
  | { readonly op: 'release-hold' }
  | { readonly op: 'resign' };

/** Applies one op; the group's own DsrErrors (illegal transition, bad input) reach the caller. */
export function applyGroupOp(group: ElectionGroup, now: number, op: GroupOp): ElectionOutput {
  switch (op.op) {
    case 'set-condition':
      return group.setCondition(now, op.name, op.failing);
    case 'set-sync-ready':
      return group.setSyncReady(now, op.ready);
    case 'set-priority':
      return group.setPriority(now, op.priority);
    case 'set-fingerprint':
      return group.setFingerprint(now, op.fingerprint);
    case 'request-handover':
      return group.requestHandover(now, op.target, { force: op.force });
    case 'release-hold':
      return group.releaseHold(now);
    case 'resign':
      return group.resign(now);
  }
}
