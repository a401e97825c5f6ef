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
  /** When a hold set by a one-way partition yield ends on its own (null: held until released). */
  preemptHoldUntil: number | null = null;
  /** One-way yields in a row (master-advert.ts yieldOneWay): each holds twice as long. */
  oneWayYields = 0;
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
  /** Until when another sender sent our master adverts while we were not scheduled (input `covered`). */
  coveredUntil: number | null = null;
  /** When we sent the first advert of the current advert interval (the advert phase's origin). */
  phaseStartAt: number | null = null;
  /**
   * A master that fenced itself after a stall listens for one advert interval before claiming
   * again (#selfFence); its master-down timer then ends that window.
   */
  relearning = false;
  handover: PendingHandover | null = null;
  yielding: ExpectedYield | null = null;
  /**
   * Other masters we outrank and wait to step down: since when, and whether the meeting was
   * reported as a split brain (master-advert.ts).
   */
  readonly splitPeers = new Map<number, { since: number; reported: boolean }>();
  /** When we last became master. */
  masterSince: number | null = null;
  /** Whether any master advert was heard since we started (master-advert.ts startupRace). */
  heardMaster = false;
  readonly drops: DropCounters = {};
  readonly history: Transition[] = [];
  readonly counters = {
    transitions: 0,
    advertsSent: 0,
    messagesReceived: 0,
    splitBrains: 0,
    stalls: 0,
    coveredStalls: 0,
    lateTimerGraces: 0,
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
    this.masterSince = now;
    this.masterDownAt = null;
    this.relearning = false;
    this.preemptHold = false;
    this.preemptHoldUntil = null;
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

  /** The other master stepped down or went silent: a reported split brain is resolved. */
  endSplit(peer: number, out: OutputBuilder): void {
    const split = this.splitPeers.get(peer);
    this.splitPeers.delete(peer);
    if (split?.reported === true) out.alert({ kind: 'split-brain-resolved', peer });
  }

  /** The other master stepped down on hearing us: the path to it works, no one-way cut now. */
  splitResolvedByPeer(peer: number, out: OutputBuilder): void {
    if (this.splitPeers.has(peer)) this.oneWayYields = 0;
    this.endSplit(peer, out);
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
    this.relearning = false;
    this.masterAdverIntervalMs = m.intervalMs;
    // From the first advert of the master's interval (messages.ts, phase): with two adverts per
    // interval, the timer then runs out as soon after a failure as RFC 5798's would.
    const sentIntoInterval = ((m.phase ?? 0) / 256) * m.intervalMs;
    this.masterDownAt = now - sentIntoInterval + masterDownIntervalMs(this.effectivePriority, m.intervalMs);
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
    if (gap > threshold && this.#silentFor(now) <= threshold) {
      // Our peers heard us throughout; what we did not hear meanwhile is still queued for us.
      this.counters.coveredStalls++;
      this.peers.startGrace(now);
    } else if (gap > threshold) this.#selfFence(now, gap, threshold, out);
    else this.#missedDeadline(now, gap);
    this.lastInputAt = now;
    return out;
  }

  /** The time the current input is processed at (the clamped `now`). */
  get now(): number {
    return this.lastInputAt ?? 0;
  }

  /**
   * We were not scheduled for longer than the master-down interval (event-loop or process stall,
   * SIGSTOP, suspend, a paused VM): a backup may have taken over, and what we knew of the peers is
   * stale. A master steps down at once (its VIPs are released) and re-learns for one advert
   * interval before claiming again: a backup that took over meanwhile advertises every half
   * interval, so we hear it and follow; if none did, we claim again and nothing moved. No
   * priority 0 here: when the whole host paused, the backups paused too and restart their own
   * master-down interval (3+ intervals, below), so the re-learning master is back before any of
   * them would take over, where a priority-0 resign would have made one take over for nothing.
   * Every other state forgets the master and listens for a full master-down interval.
   */
  #selfFence(now: number, gap: number, thresholdMs: number, out: OutputBuilder): void {
    this.counters.stalls++;
    out.alert({ kind: 'stall-detected', gapMs: gap, thresholdMs });
    this.failHandover('stall', out);
    const wasMaster = this.state === 'master';
    if (wasMaster) this.leaveMaster(now, 'backup', 'stall', out);
    this.masterId = null;
    this.discarding = null;
    this.resigned = null;
    this.preemptSince = null;
    this.yielding = null;
    this.masterAdverIntervalMs = this.advertIntervalMs;
    this.relearning = wasMaster;
    if (this.state === 'backup') {
      this.masterDownAt = now + (wasMaster ? this.advertIntervalMs : this.masterDownIntervalMs);
    }
    this.peers.startGrace(now);
    this.advertAt = now;
  }

  /**
   * How long our peers heard nothing from us as master: since our last input, or since the last
   * advert another sender kept going for us during a stall (input `covered`). Only a master's
   * adverts are covered; peers of a backup judge nothing by its silence.
   */
  #silentFor(now: number): number {
    const last = this.lastInputAt ?? now;
    const covered = this.state === 'master' && this.coveredUntil !== null ? this.coveredUntil : last;
    return now - Math.max(last, covered);
  }

  /**
   * A backup that was not scheduled when its master-down timer ran out (a gap in its inputs of
   * more than two advert spacings that spans the deadline; a backup's own heartbeats give it an
   * input every spacing) cannot tell a dead master from one that was paused along with it, as when
   * the whole host stalls: the master's next advert is only just being sent. It re-learns for a
   * full master-down interval instead of taking over, as after a longer stall. A master that is
   * really gone is taken over from one interval later; one that times out on time, at once.
   */
  #missedDeadline(now: number, gap: number): void {
    const deadline = this.masterDownAt;
    if (this.state !== 'backup' || this.relearning || deadline === null) return;
    if (gap <= 2 * this.sendSpacingMs || deadline <= now - gap || deadline > now) return;
    this.counters.lateTimerGraces++;
    this.masterDownAt = now + this.masterDownIntervalMs;
  }

  /** Timeouts other than the master-down timer: lost peers, handover and overlap windows. */
  expire(now: number, out: OutputBuilder): void {
    for (const alert of this.peers.checkTimeouts(now)) {
      out.alert(alert);
      if (alert.kind !== 'peer-lost') continue;
      this.endSplit(alert.peer, out);
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
      out.send('all', { ...this.senderStatus('advert'), phase: this.#advertPhase(now) });
      this.counters.advertsSent++;
      this.advertAt = now + this.sendSpacingMs;
    }
    return out.finish(this.state);
  }

  /**
   * 0 when a full interval has passed since the interval's first advert (this one starts the next
   * interval), else how far into the interval we are, in 1/256, rounded down: a backup anchors its
   * timer at or after the first advert, never before it.
   */
  #advertPhase(now: number): number {
    const since = this.phaseStartAt === null ? Number.POSITIVE_INFINITY : now - this.phaseStartAt;
    if (!(since >= 0 && since < this.advertIntervalMs)) {
      this.phaseStartAt = now;
      return 0;
    }
    return Math.min(255, Math.floor((256 * since) / this.advertIntervalMs));
  }

  dropped(reason: DropReason, out: OutputBuilder): ElectionOutput {
    countDrop(this.drops, reason);
    return out.finish(this.state);
  }

  /**
   * When a backup's Master_Down_Timer runs out (§6.4.2), or null: the one deadline a failover
   * waits for, so the runner times it precisely (failover/thread/precise-timers.ts).
   */
  takeoverDeadline(): number | null {
    return this.state === 'backup' ? this.masterDownAt : null;
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
