/**
 * Drives the election groups of one director in real time: steps each group (inputs:
 * failover/election/input.ts) with a tick at its deadline and with the messages received for it,
 * sends what the groups ask for, and hands every output (effects, transitions) to the caller. The
 * only clock reads and timers of the election live here.
 *
 * Wiring (the daemon):
 *   const runner = new ElectionRunner({ groups, send: (o) => transport.send(o), onOutput });
 *   transport = new ElectionTransport({ ..., onMessage: (m) => runner.deliver(m),
 *                                      onDrop: (reason, info) => runner.recordDrop(reason, info.groupId) });
 *   await transport.start(); runner.start();
 *   runner.input(groupId, { kind: 'resign' });   // operator commands (failover/election/input.ts)
 *   runner.stop(); await transport.close();
 */
import { performance } from 'node:perf_hooks';
import { DsrError } from '../../core/errors.ts';
import { countDrop, type DropCounters, type DropReason } from '../drop-reasons.ts';
import type { ElectionGroup } from '../election/group.ts';
import type { ElectionInput } from '../election/input.ts';
import type { ElectionMessage, Outgoing } from '../election/messages.ts';
import type { ElectionOutput, ElectionStatus } from '../election/types.ts';

/** The runner's one timer: at most one alarm is armed, and arming again replaces it. */
export interface RunnerTimers {
  /**
   * Runs `fn` once, `delayMs` (fractional ms) from now. `precise`: a takeover deadline, whose
   * lateness is outage; the others (sends, peer timeouts) may run a ms late.
   */
  arm(fn: () => void, delayMs: number, precise: boolean): void;
  disarm(): void;
  /**
   * Runs `fn` once the I/O already waiting has been handled (setImmediate: after the poll phase).
   * A timer that fires late because the process was not scheduled runs before the datagrams that
   * arrived meanwhile; the tick waits for them, so a backup does not take over on a master-down
   * timer that the master's queued adverts would have restarted.
   */
  afterPendingIo(fn: () => void): void;
}

/** How late a timer that is not precise may run (setTimeout: whole ms from a cached loop time). */
const COARSE_LATE_MS = 3;

export interface ElectionRunnerOptions {
  readonly groups: readonly ElectionGroup[];
  readonly send: (outgoing: readonly Outgoing[]) => void;
  /** Every non-empty output, after its messages were sent: apply the effects here. */
  readonly onOutput: (group: ElectionGroup, output: ElectionOutput) => void;
  /** Monotonic ms; default performance.now(). */
  readonly now?: () => number;
  /** Default libuv timers (whole ms); the election thread passes precise ones (thread/precise-timers.ts). */
  readonly timers?: RunnerTimers;
  /**
   * Until when another sender kept a group's master adverts going for it while this runner was not
   * scheduled (thread/advert-keeper.ts), read before every input; default none.
   */
  readonly coveredUntil?: (groupId: number) => number | null;
}

/** setTimeout: whole ms, counted from the event loop's cached time, so up to ~2 ms late. */
function libuvTimers(): RunnerTimers {
  let handle: ReturnType<typeof setTimeout> | undefined;
  return {
    arm: (fn, ms) => {
      clearTimeout(handle);
      handle = setTimeout(fn, Math.ceil(ms));
    },
    disarm: () => {
      clearTimeout(handle);
      handle = undefined;
    },
    afterPendingIo: (fn) => setImmediate(fn),
  };
}

export class ElectionRunner {
  readonly #groups = new Map<number, ElectionGroup>();
  readonly #options: ElectionRunnerOptions;
  readonly #now: () => number;
  readonly #timers: RunnerTimers;
  readonly #drops: DropCounters = {};
  #running = false;

  constructor(options: ElectionRunnerOptions) {
    for (const group of options.groups) {
      if (this.#groups.has(group.groupId)) {
        throw new DsrError('E_CONFIG_INVALID', 'two VIP groups have the same group id', {
          groupId: group.groupId,
        });
      }
      this.#groups.set(group.groupId, group);
    }
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
    this.#timers = options.timers ?? libuvTimers();
  }

  get running(): boolean {
    return this.#running;
  }

  start(): void {
    if (this.#running) throw new DsrError('E_PART_START', 'the election runner is already running');
    this.#running = true;
    for (const group of this.#groups.values()) this.#apply(group, group.step(this.#now(), { kind: 'start' }));
    this.#arm();
  }

  /** Graceful stop: every master sends priority 0 (RFC 5798 §6.4.3), so a backup takes over fast. */
  stop(): void {
    if (!this.#running) return;
    this.#running = false;
    this.#timers.disarm();
    for (const group of this.#groups.values()) {
      if (group.state !== 'initialize') this.#apply(group, group.step(this.#now(), { kind: 'shutdown' }));
    }
  }

  /** A message that passed the transport's checks. */
  deliver(message: ElectionMessage): void {
    const group = this.#groups.get(message.groupId);
    if (group === undefined) {
      countDrop(this.#drops, 'unknown-group');
      return;
    }
    this.#step(group, { kind: 'message', message });
  }

  /** A drop reported by the transport: counted on its group when the packet named a known one. */
  recordDrop(reason: DropReason, groupId?: number): void {
    const group = groupId === undefined ? undefined : this.#groups.get(groupId);
    if (group !== undefined) group.step(this.#now(), { kind: 'dropped', reason });
    else countDrop(this.#drops, reason);
  }

  /** An input on one group, now; DsrErrors (illegal transition, bad input) reach the caller. */
  input(groupId: number, input: ElectionInput): ElectionOutput {
    const group = this.#groups.get(groupId);
    if (group === undefined) throw new DsrError('E_ELECTION_INPUT', 'no VIP group has this id', { groupId });
    return this.#step(group, input);
  }

  status(): { groups: ElectionStatus[]; drops: DropCounters } {
    const now = this.#now();
    return { groups: [...this.#groups.values()].map((g) => g.status(now)), drops: { ...this.#drops } };
  }

  /** Effects before adverts: a takeover's announcement (the election thread's) is what clients wait for. */
  #apply(group: ElectionGroup, output: ElectionOutput): void {
    if (output.messages.length > 0 || output.effects.length > 0 || output.transitions.length > 0) {
      this.#options.onOutput(group, output);
    }
    if (output.messages.length > 0) this.#options.send(output.messages);
  }

  /** The coverage comes first: the input's stall check reads it. */
  #step(group: ElectionGroup, input: ElectionInput): ElectionOutput {
    const now = this.#now();
    this.#noteCover(group, now);
    const output = group.step(now, input);
    this.#apply(group, output);
    this.#arm();
    return output;
  }

  #tick(): void {
    if (!this.#running) return;
    const now = this.#now();
    for (const group of this.#groups.values()) {
      const deadline = group.nextDeadline();
      if (deadline === null || deadline > now) continue;
      this.#noteCover(group, now);
      this.#apply(group, group.step(now, { kind: 'tick' }));
    }
    this.#arm();
  }

  #noteCover(group: ElectionGroup, now: number): void {
    const until = this.#options.coveredUntil?.(group.groupId);
    if (until != null) group.step(now, { kind: 'covered', until });
  }

  #arm(): void {
    if (!this.#running) return;
    let next = Number.POSITIVE_INFINITY;
    for (const group of this.#groups.values()) next = Math.min(next, group.nextDeadline() ?? next);
    if (!Number.isFinite(next)) {
      this.#timers.disarm();
      return;
    }
    // A send due just before a takeover deadline must not take the timer past it either.
    const precise = [...this.#groups.values()].some((g) => {
      const t = g.takeoverDeadline();
      return t !== null && t - next < COARSE_LATE_MS;
    });
    this.#timers.arm(
      () => this.#timers.afterPendingIo(() => this.#tick()),
      Math.max(0, next - this.#now()),
      precise,
    );
  }
}
