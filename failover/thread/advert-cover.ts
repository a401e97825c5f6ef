/**
 * When the advert keeper speaks for the election thread (pure: time comes in, adverts go out).
 *
 * The keeper holds, per group the thread is master of, the thread's last master advert (its
 * template) and the epoch it was posted in. On each check it looks at when the thread last sent
 * one (CoverBoard). While the thread keeps sending, the keeper is silent. When the thread has been
 * silent for two send spacings and a little (it sends every spacing), the keeper sends the template
 * every spacing itself, with phase 0 (a backup times its master-down interval from it), so no
 * backup's timer runs out while a master whose process is alive is not scheduled. It stops:
 *
 * - as soon as the thread sends again;
 * - when the board's epoch is newer than its templates (the thread changed what it says: a new
 *   priority, a step down, a resign), until the new templates arrive;
 * - after `limitMs` of the thread's silence: a thread stuck that long is not paused but broken, and
 *   the backup should take over.
 *
 * It also records until when its adverts followed the thread's with no gap over `2 × interval`
 * (coveredUntil): the thread, back, uses that to tell a stall its peers did not notice from one
 * they did (failover/election/group-core.ts, self-fencing).
 */
import type { AdvertMessage, Outgoing } from '../election/messages.ts';
import type { CoverBoard } from './cover-board.ts';

export interface CoverTemplate {
  readonly slot: number;
  /** The thread's last master advert for the group. */
  readonly message: AdvertMessage;
  /** The group's time between two adverts (interval / adverts per interval). */
  readonly spacingMs: number;
}

const sameAdvert = (a: AdvertMessage, b: AdvertMessage): boolean =>
  a.priority === b.priority &&
  a.state === b.state &&
  a.intervalMs === b.intervalMs &&
  a.syncReady === b.syncReady &&
  a.from === b.from &&
  Buffer.compare(a.fingerprint, b.fingerprint) === 0;

/**
 * The election thread's side: watches every datagram the election sends, before it goes out. Each
 * master advert becomes its group's template and marks the thread alive on the board; a change of
 * what the master says (priority, state, a resign) starts a new epoch before it goes out, so the
 * keeper never speaks with stale words.
 */
export class CoverTemplates {
  readonly #board: CoverBoard;
  readonly #slots: ReadonlyMap<number, { slot: number; spacingMs: number }>;
  readonly #templates = new Map<number, CoverTemplate>();

  constructor(
    board: CoverBoard,
    groups: readonly { readonly groupId: number; readonly spacingMs: number }[],
  ) {
    this.#board = board;
    this.#slots = new Map(groups.map((g, slot) => [g.groupId, { slot, spacingMs: g.spacingMs }]));
  }

  /** The new epoch and templates when they changed (to hand to the keeper), else null. */
  observe(
    outgoing: readonly Outgoing[],
    now: number,
  ): { epoch: bigint; templates: readonly CoverTemplate[] } | null {
    let changed = false;
    for (const { to, message } of outgoing) {
      if (to !== 'all' || message.kind !== 'advert') continue;
      const group = this.#slots.get(message.groupId);
      if (group === undefined) continue;
      const current = this.#templates.get(group.slot);
      if (message.state === 'master' && message.priority > 0) {
        if (current === undefined || !sameAdvert(current.message, message)) {
          this.#templates.set(group.slot, { slot: group.slot, message, spacingMs: group.spacingMs });
          changed = true;
          // Stale words are silenced before the new ones are even sent.
          this.#board.bumpEpoch();
        }
        this.#board.setThreadSentAt(group.slot, now);
      } else if (current !== undefined) {
        this.#templates.delete(group.slot);
        changed = true;
        this.#board.bumpEpoch();
      }
    }
    return changed ? { epoch: this.#board.epoch, templates: [...this.#templates.values()] } : null;
  }

  coveredUntil(groupId: number): number | null {
    const group = this.#slots.get(groupId);
    return group === undefined ? null : this.#board.coveredUntil(group.slot);
  }
}

/** How long past a missed send the keeper waits for the thread (a late timer is not a stall). */
const SLACK_MS = 2;

/** Longest thread silence the keeper covers: longer than the host pauses measured (docs/failover.md). */
export const DEFAULT_COVER_LIMIT_MS = 500;

interface SlotState {
  lastSentAt: number | null;
  /** The thread's send time the current cover follows (one cover per silence). */
  covering: number | null;
  /** This cover had a gap over 2 × interval (the keeper was held up too): it proves nothing more. */
  broken: boolean;
  gaveUp: boolean;
}

export class AdvertCover {
  readonly #board: CoverBoard;
  readonly #limitMs: number;
  #epoch = 0n;
  #templates: readonly CoverTemplate[] = [];
  readonly #slots = new Map<number, SlotState>();

  constructor(board: CoverBoard, limitMs = DEFAULT_COVER_LIMIT_MS) {
    this.#board = board;
    this.#limitMs = limitMs;
  }

  setTemplates(epoch: bigint, templates: readonly CoverTemplate[]): void {
    if (epoch < this.#epoch) return;
    this.#epoch = epoch;
    this.#templates = templates;
  }

  /** The adverts to send now (usually none). */
  check(now: number): AdvertMessage[] {
    if (this.#board.epoch !== this.#epoch) return [];
    const out: AdvertMessage[] = [];
    for (const t of this.#templates) {
      const threadAt = this.#board.threadSentAt(t.slot);
      if (threadAt === null) continue;
      const state = this.#state(t.slot);
      const silentFor = now - threadAt;
      if (silentFor < 2 * t.spacingMs + SLACK_MS) {
        state.covering = null;
        state.gaveUp = false;
        continue;
      }
      if (silentFor > this.#limitMs) {
        if (!state.gaveUp) this.#board.count('gaveUp');
        state.gaveUp = true;
        continue;
      }
      const lastOut = Math.max(threadAt, state.lastSentAt ?? 0);
      if (now - lastOut < t.spacingMs) continue;
      if (state.covering !== threadAt) {
        state.covering = threadAt;
        state.broken = false;
        this.#board.count('covers');
      }
      if (now - lastOut > 2 * t.message.intervalMs) state.broken = true;
      out.push({ ...t.message, phase: 0 });
      state.lastSentAt = now;
      this.#board.count('advertsSent');
      this.#board.raise('longestSilenceUs', silentFor * 1000);
      if (!state.broken) this.#board.setCoveredUntil(t.slot, now);
    }
    return out;
  }

  /** How long until the next check is useful: half the shortest spacing. */
  checkEveryMs(): number {
    let spacing = Number.POSITIVE_INFINITY;
    for (const t of this.#templates) spacing = Math.min(spacing, t.spacingMs);
    return Number.isFinite(spacing) ? Math.max(1, spacing / 2) : 50;
  }

  #state(slot: number): SlotState {
    let s = this.#slots.get(slot);
    if (s === undefined) {
      s = { lastSentAt: null, covering: null, broken: false, gaveUp: false };
      this.#slots.set(slot, s);
    }
    return s;
  }
}
