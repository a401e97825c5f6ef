/**
 * The election state machine of one VIP group: VRRPv3 (RFC 5798) semantics over our own
 * authenticated transport. Pure: one entry point, `step(now, input)` (inputs as data: ./input.ts),
 * with a monotonic `now` (ms); the caller does the I/O the output asks for, and steps a `tick` at
 * `nextDeadline()` (never more than one advert interval away). Nothing here reads a clock or a
 * socket.
 *
 * - Startup (§6.4.1): Initialize → Backup, Master_Down_Timer = Master_Down_Interval.
 * - Backup (§6.4.2) and Master (§6.4.3) rules for master adverts: ./master-advert.ts.
 * - Planned handover, make-before-break: ./handover.ts.
 * - Shared moves, stall detection and self-fencing: ./group-core.ts.
 * Our additions to VRRP are described in failover/README.md.
 */
import { DsrError } from '../../core/errors.ts';
import { countDrop } from '../drop-reasons.ts';
import { checkFingerprint, checkPriority, GroupCore } from './group-core.ts';
import { checkHandover, onHandoverReject, onHandoverRequest, startHandover } from './handover.ts';
import type { ElectionInput } from './input.ts';
import { onMasterAdvert } from './master-advert.ts';
import type { ElectionMessage, ElectionState } from './messages.ts';
import { OutputBuilder } from './output.ts';
import { hex } from './peer-table.ts';
import type { ElectionOptions, ElectionOutput, ElectionStatus } from './types.ts';

export class ElectionGroup {
  readonly #core: GroupCore;

  constructor(options: ElectionOptions) {
    this.#core = new GroupCore(options);
  }

  get groupId(): number {
    return this.#core.groupId;
  }

  get state(): ElectionState {
    return this.#core.state;
  }

  get effectivePriority(): number {
    return this.#core.effectivePriority;
  }

  /** The director we hold as master (our own id when we are), or null. */
  get masterId(): number | null {
    return this.#core.masterId;
  }

  get nodeId(): number {
    return this.#core.nodeId;
  }

  /**
   * The one entry point: every input (./input.ts) at monotonic `now`. An illegal or malformed
   * input throws its DsrError (E_ILLEGAL_TRANSITION, E_ELECTION_INPUT) before anything changed.
   */
  step(now: number, input: ElectionInput): ElectionOutput {
    switch (input.kind) {
      case 'start':
        return this.#start(now);
      case 'shutdown':
        return this.#shutdown(now);
      case 'tick':
        return this.#tick(now);
      case 'message':
        return this.#message(now, input.message);
      case 'covered':
        return this.#covered(input.until);
      case 'dropped':
        countDrop(this.#core.drops, input.reason);
        return new OutputBuilder().finish(this.#core.state);
      case 'resign':
        return this.#resign(now);
      case 'release-hold':
        return this.#releaseHold(now);
      case 'set-priority':
        return this.#setPriority(now, input.priority);
      case 'set-condition':
        return this.#setCondition(now, input.name, input.failing);
      case 'set-sync-ready':
        return this.#setSyncReady(now, input.ready);
      case 'set-fingerprint':
        return this.#setFingerprint(now, input.fingerprint);
      case 'request-handover':
        return this.#requestHandover(now, input.target, input.force);
      default:
        throw new DsrError('E_ELECTION_INPUT', 'unknown election input', {
          kind: (input as { kind?: unknown }).kind,
        });
    }
  }

  /** Only a later input reads it: the stall check in GroupCore.begin. */
  #covered(until: number): ElectionOutput {
    const core = this.#core;
    if (Number.isFinite(until) && until > (core.coveredUntil ?? Number.NEGATIVE_INFINITY)) {
      core.coveredUntil = until;
    }
    return new OutputBuilder().finish(core.state);
  }

  /** RFC 5798 §6.4.1 Startup event. */
  #start(now: number): ElectionOutput {
    const core = this.#core;
    if (core.state !== 'initialize') core.illegal('start', 'the group is already running');
    const out = new OutputBuilder();
    core.lastInputAt = now;
    core.masterAdverIntervalMs = core.advertIntervalMs;
    core.masterId = null;
    if (core.conditions.faulted) {
      core.transition(now, 'fault', 'startup', out);
    } else {
      core.transition(now, 'backup', 'startup', out);
      core.masterDownAt = now + core.masterDownIntervalMs;
    }
    core.advertAt = now;
    return core.finish(out);
  }

  /** RFC 5798 §6.4.3 Shutdown event: a master sends priority 0 so a backup takes over after Skew_Time. */
  #shutdown(now: number): ElectionOutput {
    const core = this.#core;
    if (core.state === 'initialize') core.illegal('shutdown', 'the group is not running');
    const out = core.begin(now);
    core.failHandover('shutdown', out);
    if (core.state === 'master') {
      out.send('all', core.senderStatus('advert', true));
      core.leaveMaster(core.now, 'initialize', 'shutdown', out);
    } else {
      core.transition(core.now, 'initialize', 'shutdown', out);
    }
    core.masterDownAt = null;
    core.advertAt = null;
    core.masterId = null;
    return out.finish(core.state);
  }

  #tick(now: number): ElectionOutput {
    const core = this.#core;
    const out = core.begin(now);
    if (core.state === 'initialize') return out.finish(core.state);
    now = core.now;
    core.expire(now, out);
    if (core.state === 'backup' && core.masterDownAt !== null && now >= core.masterDownAt) {
      const reason = core.relearning
        ? 'relearned'
        : core.discarding !== null
          ? 'preempt'
          : core.resigned !== null
            ? 'master-resigned'
            : 'master-down';
      core.becomeMaster(now, reason, out);
    }
    return core.finish(out);
  }

  #message(now: number, message: ElectionMessage): ElectionOutput {
    const core = this.#core;
    const out = core.begin(now);
    if (core.state === 'initialize') return core.dropped('not-started', out);
    now = core.now;
    if (message.groupId !== core.groupId) return core.dropped('wrong-group', out);
    if (message.from === core.nodeId) return core.dropped('self', out);
    if (!core.peers.isAllowed(message.from)) return core.dropped('unknown-peer', out);
    if (message.kind !== 'advert' && message.to !== core.nodeId) return core.dropped('not-for-us', out);
    core.counters.messagesReceived++;

    const from = message.from;
    const alerts = core.peers.observe(now, message, core.fingerprint);
    out.alerts(alerts);
    if (message.state !== 'master') {
      core.splitResolvedByPeer(from, out);
      if (core.yielding?.peer === from) core.yielding = null;
      if (core.masterId === from) core.masterId = null;
    }
    if (message.kind === 'advert') {
      if (message.state === 'master') onMasterAdvert(core, now, message, out);
    } else if (message.kind === 'handover-request') {
      onHandoverRequest(core, now, message, out);
    } else if (!onHandoverReject(core, message, out)) {
      countDrop(core.drops, 'unexpected-reply');
    }
    const reannounced = out.effects.some((e) => e.type === 'reannounce');
    if (core.state === 'master' && !reannounced && alerts.some((a) => a.kind === 'peer-recovered')) {
      // While we could not hear it, that peer may have been master and moved ARP caches to itself.
      out.effect({ type: 'reannounce', reason: 'peer-recovered' });
    }
    return core.finish(out);
  }

  /** Operator: give up Master. Priority 0 tells the backups to take over after Skew_Time. */
  #resign(now: number): ElectionOutput {
    const core = this.#core;
    // Every check comes before `begin`: an input that throws must not have changed anything.
    if (core.state !== 'master') core.illegal('resign', 'only the master can resign');
    const out = core.begin(now);
    if (core.state === 'master') {
      core.failHandover('resigned', out);
      out.send('all', core.senderStatus('advert', true));
      core.leaveMaster(core.now, 'backup', 'resign', out);
    }
    // If a stall was just detected, self-fencing has already stepped us down: the resign is done.
    core.preemptHold = true;
    return core.finish(out);
  }

  #releaseHold(now: number): ElectionOutput {
    const out = this.#core.begin(now);
    this.#core.preemptHold = false;
    return this.#core.finish(out);
  }

  #setPriority(now: number, priority: number): ElectionOutput {
    checkPriority(priority);
    const out = this.#core.begin(now);
    const before = this.#core.effectivePriority;
    this.#core.basePriority = priority;
    return this.#afterPriorityChange(before, out);
  }

  #setCondition(now: number, name: string, failing: boolean): ElectionOutput {
    this.#core.conditions.check(name);
    const out = this.#core.begin(now);
    const before = this.#core.effectivePriority;
    this.#core.conditions.set(name, failing);
    return this.#afterPriorityChange(before, out);
  }

  #setSyncReady(now: number, ready: boolean): ElectionOutput {
    const core = this.#core;
    const out = core.begin(now);
    if (ready !== core.syncReady) {
      core.syncReady = ready;
      if (!ready) core.preemptSince = null;
      if (core.state !== 'initialize') core.advertAt = core.now;
    }
    return core.finish(out);
  }

  #setFingerprint(now: number, fingerprint: Uint8Array): ElectionOutput {
    checkFingerprint(fingerprint);
    const core = this.#core;
    const out = core.begin(now);
    core.fingerprint = new Uint8Array(fingerprint);
    out.alerts(core.peers.recheckFingerprints(core.fingerprint));
    if (core.state !== 'initialize') core.advertAt = core.now;
    return core.finish(out);
  }

  /**
   * Fails loudly with E_ILLEGAL_TRANSITION when it cannot work: not master, target unknown, lost,
   * not a backup, not in sync, or running another config (unless `force`).
   */
  #requestHandover(now: number, target: number, force: boolean): ElectionOutput {
    const core = this.#core;
    checkHandover(core, target, force === true);
    const out = core.begin(now);
    if (core.state === 'master') startHandover(core, core.now, target, out);
    else out.alert({ kind: 'handover-failed', target, reason: 'stall' });
    return core.finish(out);
  }

  /** When the next `tick` is due (null in Initialize). Never more than one interval away. */
  nextDeadline(): number | null {
    return this.#core.nextDeadline();
  }

  /** A backup's master-down deadline (the takeover), or null; never later than nextDeadline(). */
  takeoverDeadline(): number | null {
    return this.#core.takeoverDeadline();
  }

  status(now: number): ElectionStatus {
    const core = this.#core;
    return {
      groupId: core.groupId,
      nodeId: core.nodeId,
      state: core.state,
      basePriority: core.basePriority,
      effectivePriority: core.effectivePriority,
      masterId: core.masterId,
      advertIntervalMs: core.advertIntervalMs,
      masterAdverIntervalMs: core.masterAdverIntervalMs,
      masterDownIntervalMs: core.masterDownIntervalMs,
      masterDownInMs: core.masterDownAt === null ? null : core.masterDownAt - now,
      preempt: core.preempt,
      preemptDelayMs: core.preemptDelayMs,
      preemptHold: core.preemptHold,
      syncReady: core.syncReady,
      fingerprint: hex(core.fingerprint),
      conditions: core.conditions.list(),
      peers: core.peers.status(now, core.fingerprint),
      handover:
        core.handover === null
          ? null
          : { target: core.handover.target, deadlineInMs: core.handover.deadline - now },
      drops: { ...core.drops },
      counters: { ...core.counters },
      transitions: [...core.history],
    };
  }

  /** A tracked condition or the priority changed: Fault in or out, or advertise the new priority. */
  #afterPriorityChange(before: number, out: OutputBuilder): ElectionOutput {
    const core = this.#core;
    const now = core.now;
    if (core.state === 'initialize') return out.finish(core.state);
    const faulted = core.conditions.faulted;
    if (faulted && core.state !== 'fault') {
      core.failHandover('fault', out);
      if (core.state === 'master') {
        out.send('all', core.senderStatus('advert', true));
        core.leaveMaster(now, 'fault', 'fault', out);
      } else {
        core.transition(now, 'fault', 'fault', out);
      }
      core.masterDownAt = null;
      core.advertAt = now;
    } else if (!faulted && core.state === 'fault') {
      core.transition(now, 'backup', 'fault-cleared', out);
      core.masterAdverIntervalMs = core.advertIntervalMs;
      core.masterDownAt = now + core.masterDownIntervalMs;
      core.advertAt = now;
    } else if (core.effectivePriority !== before) {
      // Tell the peers at once: a backup that now outranks us can preempt without waiting.
      core.advertAt = now;
      if (core.effectivePriority < before) core.preemptSince = null;
    }
    return core.finish(out);
  }
}
