/**
 * The state of one election group and the moves every rule shares: transitions, the input
 * prologue (monotonic clamp, stall detection and self-fencing), timers and the periodic advert.
 * Internal to failover/election: callers use ElectionGroup (./group.ts), which owns one of these.
 */
import { DsrError } from '../../core/errors.ts';
import { countDrop, type DropCounters, type DropReason } from '../drop-reasons.ts';
import {
  type ElectionMessage,
  type ElectionState,
  FINGERPRINT_BYTES,
  type SenderStatus,
} from './messages.ts';
import { OutputBuilder } from './output.ts';
import { PeerTable } from './peer-table.ts';
import { MAX_PRIORITY, MIN_PRIORITY, masterDownIntervalMs } from './timing.ts';
import { TrackedConditions } from './tracked-conditions.ts';
import type {
  ElectionOptions,
  ElectionOutput,
  HandoverFailure,
  Transition,
  TransitionReason,
} from './types.ts';

export interface PendingHandover {
  readonly target: number;
  readonly token: number;
  readonly deadline: number;
}

/** An old master we expect to step down because we just took over from it (preempt, handover). */
export interface ExpectedYield {
  readonly peer: number;
  readonly until: number;
}

export function checkPriority(priority: number): void {
  if (!Number.isInteger(priority) || priority < MIN_PRIORITY || priority > MAX_PRIORITY) {
    throw new DsrError('E_ELECTION_INPUT', `priority must be an integer ${MIN_PRIORITY}..${MAX_PRIORITY}`, {
      priority,
    });
  }
}

export function checkFingerprint(fingerprint: Uint8Array): void {
  if (!(fingerprint instanceof Uint8Array) || fingerprint.length !== FINGERPRINT_BYTES) {
    throw new DsrError('E_ELECTION_INPUT', `config fingerprint must be ${FINGERPRINT_BYTES} bytes`, {});
  }
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new DsrError('E_ELECTION_INPUT', `${name} must be an integer ${min}..${max}`, { [name]: value });
  }
}

export class GroupCore {
  readonly groupId: number;
  readonly nodeId: number;
  readonly advertIntervalMs: number;
  /** Time between two of our adverts: the interval over `advertsPerInterval`. */
  readonly sendSpacingMs: number;
  readonly preempt: boolean;
  readonly preemptDelayMs: number;
  readonly random: () => number;
  readonly conditions: TrackedConditions;
  readonly peers: PeerTable;
  readonly #handoverTimeoutMs: number | undefined;
  readonly #stallThresholdMs: number | undefined;
  readonly #historySize: number;

  state: ElectionState = 'initialize';
  basePriority: number;
  syncReady: boolean;
  fingerprint: Uint8Array;
  /** Preemption suspended after a resign or a planned handover, until released or we are master again. */
  preemptHold = false;
  masterId: number | null = null;
  masterAdverIntervalMs: number;
  masterDownAt: number | null = null;
  advertAt: number | null = null;
  preemptSince: number | null = null;
  /** The lower-priority master whose adverts we discard in order to preempt it. */
  discarding: number | null = null;
  /** The master that resigned (priority 0) and started our skew timer. */
  resigned: number | null = null;
  /**
   * The last other director we knew as master. Unlike masterId it survives that peer being lost,
   * so the takeover that follows can say whom it replaced and since when it was silent.
   */
  formerMaster: number | null = null;
  lastInputAt: number | null = null;
  handover: PendingHandover | null = null;
  yielding: ExpectedYield | null = null;
  readonly splitPeers = new Set<number>();
  readonly drops: DropCounters = {};
  readonly history: Transition[] = [];
  readonly counters = {
    transitions: 0,
    advertsSent: 0,
    messagesReceived: 0,
    splitBrains: 0,
    stalls: 0,
    clockBackwards: 0,
  };

  constructor(options: ElectionOptions) {
    checkInteger('groupId', options.groupId, 1, 0xffff);
    checkInteger('nodeId', options.nodeId, 1, 0xffffffff);
    checkInteger('advertIntervalMs', options.advertIntervalMs, 1, 0xffff);
    checkInteger('preemptDelayMs', options.preemptDelayMs ?? 0, 0, 3_600_000);
    checkInteger('advertsPerInterval', options.advertsPerInterval ?? 1, 1, 10);
    checkPriority(options.priority);
    checkFingerprint(options.fingerprint);
    if (options.peers?.includes(options.nodeId)) {
      throw new DsrError('E_ELECTION_INPUT', 'the peer list contains our own node id', {
        nodeId: options.nodeId,
      });
    }
    this.groupId = options.groupId;
    this.nodeId = options.nodeId;
    this.advertIntervalMs = options.advertIntervalMs;
    this.masterAdverIntervalMs = options.advertIntervalMs;
    this.sendSpacingMs = options.advertIntervalMs / (options.advertsPerInterval ?? 1);
    this.preempt = options.preempt ?? true;
    this.preemptDelayMs = options.preemptDelayMs ?? 0;
    this.random = options.random;
    this.#handoverTimeoutMs = options.handoverTimeoutMs;
    this.#stallThresholdMs = options.stallThresholdMs;
    this.#historySize = options.historySize ?? 32;
    this.basePriority = options.priority;
    this.syncReady = options.syncReady ?? true;
    this.fingerprint = new Uint8Array(options.fingerprint);
    this.conditions = new TrackedConditions(options.tracked);
    this.peers = new PeerTable(options.peers);
  }

  get effectivePriority(): number {
    return this.conditions.effectivePriority(this.basePriority);
  }

  /** Our own master-down interval: also the stall threshold and the re-learning period. */
  get masterDownIntervalMs(): number {
    return masterDownIntervalMs(this.effectivePriority, this.masterAdverIntervalMs);
  }

  get handoverTimeoutMs(): number {
    return this.#handoverTimeoutMs ?? 2 * this.masterDownIntervalMs;
  }

  /** Our status as message fields; `resigning` marks the last advert of a master (priority 0). */
  senderStatus<K extends ElectionMessage['kind']>(kind: K, resigning = false): SenderStatus & { kind: K } {
    const state = resigning ? 'master' : this.state === 'initialize' ? 'backup' : this.state;
    return {
      kind,
      groupId: this.groupId,
      from: this.nodeId,
      priority: resigning || state === 'fault' ? 0 : this.effectivePriority,
      state,
      intervalMs: this.advertIntervalMs,
      fingerprint: this.fingerprint,
      syncReady: this.syncReady,
    };
  }

  illegal(input: string, why: string, context: Record<string, unknown> = {}): never {
    throw new DsrError('E_ILLEGAL_TRANSITION', `${input}: ${why}`, {
      groupId: this.groupId,
      state: this.state,
      ...context,
    });
  }

  // ---- transitions ----------------------------------------------------------------------------

  becomeMaster(now: number, reason: TransitionReason, out: OutputBuilder): void {
    const previous = this.masterId;
    const former = this.formerMaster;
    const heardAt = former === null ? undefined : this.peers.get(former)?.lastHeardAt;
    this.transition(now, 'master', reason, out);
    out.effect({
      type: 'become-master',
      reason,
      inSync: this.syncReady,
      ...(former !== null && heardAt !== undefined
        ? { takeover: { from: former, lastHeardAt: heardAt } }
        : {}),
    });
    this.formerMaster = null;
    this.masterId = this.nodeId;
    this.masterDownAt = null;
    this.preemptHold = false;
    this.preemptSince = null;
    this.discarding = null;
    this.resigned = null;
    this.yielding =
      reason === 'preempt' && previous !== null
        ? { peer: previous, until: now + this.masterDownIntervalMs }
        : null;
    // RFC 5798 §6.4.2: "Send an ADVERTISEMENT ... Set the Adver_Timer to Advertisement_Interval".
    this.advertAt = now;
  }

  leaveMaster(
    now: number,
    to: 'backup' | 'fault' | 'initialize',
    reason: TransitionReason,
    out: OutputBuilder,
  ): void {
    this.transition(now, to, reason, out);
    out.effect({ type: 'become-backup', reason, state: to });
    this.splitPeers.clear();
    this.yielding = null;
    this.masterId = null;
    this.masterAdverIntervalMs = this.advertIntervalMs;
    this.masterDownAt = to === 'backup' ? now + this.masterDownIntervalMs : null;
    this.advertAt = now;
  }

  transition(now: number, to: ElectionState, reason: TransitionReason, out: OutputBuilder): void {
    const record: Transition = { at: now, from: this.state, to, reason };
    this.state = to;
    this.counters.transitions++;
    this.history.push(record);
    if (this.history.length > this.#historySize) this.history.shift();
    out.transitions.push(record);
  }

  /** RFC 5798 §6.4.2: adopt the master's interval and restart Master_Down_Timer. */
  followMaster(now: number, m: SenderStatus): void {
    this.masterId = m.from;
    this.formerMaster = m.from;
    this.discarding = null;
    this.masterAdverIntervalMs = m.intervalMs;
    this.masterDownAt = now + masterDownIntervalMs(this.effectivePriority, m.intervalMs);
  }

  failHandover(reason: HandoverFailure, out: OutputBuilder): void {
    if (this.handover === null) return;
    out.alert({ kind: 'handover-failed', target: this.handover.target, reason });
    this.handover = null;
  }

  // ---- input prologue and epilogue ----------------------------------------------------------

  /** Every input after start: clamp a clock that went backwards, detect a stall. */
  begin(now: number): OutputBuilder {
    if (!Number.isFinite(now))
      throw new DsrError('E_ELECTION_INPUT', 'now must be a finite number of ms', { now });
    const out = new OutputBuilder();
    if (this.state === 'initialize' || this.lastInputAt === null) return out;
    const gap = now - this.lastInputAt;
    if (gap < 0) {
      // The caller must pass a monotonic clock; if it does not, time simply does not pass.
      this.counters.clockBackwards++;
      out.alert({ kind: 'clock-went-backwards', byMs: -gap });
      return out;
    }
    const threshold = this.#stallThresholdMs ?? this.masterDownIntervalMs;
    if (gap > threshold) this.#selfFence(now, gap, threshold, out);
    this.lastInputAt = now;
    return out;
  }

  /** The time the current input is processed at (the clamped `now`). */
  get now(): number {
    return this.lastInputAt ?? 0;
  }

  /**
   * We were not scheduled for longer than the master-down interval (event-loop or process stall,
   * SIGSTOP, suspend): the backups may have taken over, and adverts queued in our socket say
   * nothing about now. A master steps down (priority 0, so a live backup takes over after its
   * skew time); every state forgets the master and listens for a full master-down interval
   * before claiming again.
   */
  #selfFence(now: number, gap: number, thresholdMs: number, out: OutputBuilder): void {
    this.counters.stalls++;
    out.alert({ kind: 'stall-detected', gapMs: gap, thresholdMs });
    this.failHandover('stall', out);
    if (this.state === 'master') {
      out.send('all', this.senderStatus('advert', true));
      this.leaveMaster(now, 'backup', 'stall', out);
    }
    this.masterId = null;
    this.discarding = null;
    this.resigned = null;
    this.preemptSince = null;
    this.yielding = null;
    this.masterAdverIntervalMs = this.advertIntervalMs;
    if (this.state === 'backup') this.masterDownAt = now + this.masterDownIntervalMs;
    this.peers.startGrace(now);
    this.advertAt = now;
  }

  /** Timeouts other than the master-down timer: lost peers, handover and overlap windows. */
  expire(now: number, out: OutputBuilder): void {
    for (const alert of this.peers.checkTimeouts(now)) {
      out.alert(alert);
      if (alert.kind !== 'peer-lost') continue;
      if (this.splitPeers.delete(alert.peer)) out.alert({ kind: 'split-brain-resolved', peer: alert.peer });
      if (this.masterId === alert.peer) this.masterId = null;
      if (this.handover?.target === alert.peer) this.failHandover('target-lost', out);
    }
    if (this.handover !== null && now >= this.handover.deadline) this.failHandover('timeout', out);
    if (this.yielding !== null && now >= this.yielding.until) this.yielding = null;
  }

  /**
   * Sends the periodic advert (Master) or heartbeat (Backup, Fault) when due, `advertsPerInterval`
   * times per interval: the packets still carry the interval, so peers' timers are RFC 5798's.
   */
  finish(out: OutputBuilder): ElectionOutput {
    const now = this.now;
    if (this.state !== 'initialize' && this.advertAt !== null && now >= this.advertAt) {
      out.send('all', this.senderStatus('advert'));
      this.counters.advertsSent++;
      this.advertAt = now + this.sendSpacingMs;
    }
    return out.finish(this.state);
  }

  dropped(reason: DropReason, out: OutputBuilder): ElectionOutput {
    countDrop(this.drops, reason);
    return out.finish(this.state);
  }

  nextDeadline(): number | null {
    if (this.state === 'initialize') return null;
    let next = this.advertAt ?? Number.POSITIVE_INFINITY;
    for (const t of [
      this.masterDownAt,
      this.handover?.deadline,
      this.yielding?.until,
      this.peers.nextTimeout(),
    ]) {
      if (t != null && t < next) next = t;
    }
    return next;
  }
}
