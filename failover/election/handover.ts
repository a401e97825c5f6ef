/**
 * Planned handover (dsrctl failover --to NODE), make-before-break:
 *
 *   1. the master M checks the target T (a live backup, in sync, same config) and sends it a
 *      handover-request carrying a random token;
 *   2. T, if it is a backup following M and in sync, becomes master at once: it adds the VIPs,
 *      announces them and advertises, ignoring M's adverts for the overlap window; otherwise it
 *      answers handover-reject with the reason;
 *   3. M keeps forwarding until T's first master advert, then becomes backup (VIPs removed) and
 *      holds off preemption, so the VIP stays where the operator put it.
 *
 * M gives up (alert handover-failed) on a reject, when T is lost, or after the handover timeout.
 */

import type { GroupCore } from './group-core.ts';
import type { HandoverRejectMessage, HandoverRejectReason, HandoverRequestMessage } from './messages.ts';
import type { OutputBuilder } from './output.ts';
import { hex } from './peer-table.ts';

/** Fails loudly (E_ILLEGAL_TRANSITION) when a handover to `target` cannot work. No state changes. */
export function checkHandover(core: GroupCore, target: number, force: boolean): void {
  function refuse(why: string): never {
    return core.illegal('handover', why, { target });
  }
  if (core.state !== 'master') refuse('only the master can hand over');
  if (core.handover !== null) refuse(`a handover to ${core.handover.target} is already in progress`);
  if (target === core.nodeId) refuse('cannot hand over to ourselves');
  const peer = core.peers.get(target);
  if (peer === undefined || !core.peers.isAllowed(target)) refuse('the target has never been heard');
  if (peer.lost) refuse('the target is lost (not heard recently)');
  if (peer.state !== 'backup') refuse(`the target is in state ${peer.state}, not backup`);
  if (!peer.syncReady) refuse('the target is not in sync');
  if (!force && hex(peer.fingerprint) !== hex(core.fingerprint)) {
    refuse('the target runs a different config (fingerprints differ); use force to override');
  }
}

/** Sends the request (after checkHandover passed). */
export function startHandover(core: GroupCore, now: number, target: number, out: OutputBuilder): void {
  const token = 1 + Math.floor(core.random() * 0xfffffffe);
  core.handover = { target, token, deadline: now + core.handoverTimeoutMs };
  out.send(target, { ...core.senderStatus('handover-request'), to: target, token });
  out.alert({ kind: 'handover-started', target });
}

/** The target's side: take over at once, or say why not. */
export function onHandoverRequest(
  core: GroupCore,
  now: number,
  m: HandoverRequestMessage,
  out: OutputBuilder,
) {
  const reason = refusal(core, m);
  if (reason !== null) {
    const reply: HandoverRejectMessage = {
      ...core.senderStatus('handover-reject'),
      to: m.from,
      token: m.token,
      reason,
    };
    out.send(m.from, reply);
    return;
  }
  out.alert({ kind: 'handover-accepted', from: m.from });
  core.becomeMaster(now, 'handover', out);
  core.yielding = { peer: m.from, until: now + core.handoverTimeoutMs };
}

function refusal(core: GroupCore, m: HandoverRequestMessage): HandoverRejectReason | null {
  if (core.state === 'fault') return 'fault';
  if (core.state !== 'backup') return 'not-backup';
  if (!core.syncReady) return 'not-sync-ready';
  if (m.state !== 'master' || core.masterId !== m.from) return 'not-from-master';
  return null;
}

/** The master's side: the target refused. Replies matching no pending request are dropped. */
export function onHandoverReject(core: GroupCore, m: HandoverRejectMessage, out: OutputBuilder): boolean {
  const pending = core.handover;
  if (pending === null || pending.token !== m.token || pending.target !== m.from) return false;
  out.alert({ kind: 'handover-failed', target: m.from, reason: m.reason });
  core.handover = null;
  return true;
}
