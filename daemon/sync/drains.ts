/**
 * Drains and weight overrides carried to the peers by the sync, so they survive a failover
 * (issue 7): an operator drains a real server on the active, the standby takes the same drain,
 * and after a takeover the real server stays out of rotation. A director that (re)starts takes its
 * peers' drains at their next resend.
 *
 * The drain state travels whole (the health part's snapshot, JSON) in the sync's STATE message,
 * versioned last-writer-wins (sync/shared-state-version.ts): an operator change here
 * makes a newer version and is shared at once; a peer's newer version replaces ours, and we relay
 * it on (three or more directors converge). Older or equal versions are ignored, so the periodic
 * resends cost nothing. Progress (flows left, completion) is not shared: each director counts its
 * own connection table.
 */

import type { Logger } from '../../core/log.ts';
import type { SharedState } from '../../sync/service.ts';
import { SharedStateVersion, type StateVersion } from '../../sync/shared-state-version.ts';

/** What the sync needs of the health part (daemon/health/part.ts). */
export interface SyncDrainView {
  /** The drain state as plain JSON; null while the health part is not running. */
  drainSnapshot(): unknown;
  /** Replaces the drain state; throws on a bad snapshot and changes nothing. */
  restoreDrains(snapshot: unknown): void;
  /** Operator changes only (drain, enable, weight), not restores. */
  onDrainStateChange(listener: () => void): () => void;
}

export interface DrainShareStatus {
  /** Version of the drain state held here; stamp 0 = none made or taken yet. */
  version: StateVersion;
  /** Peers' versions taken, and refused (a snapshot that did not parse or validate). */
  adopted: number;
  refused: number;
}

interface Sharer {
  shareState(state: SharedState): void;
}

export class DrainShare {
  readonly #view: SyncDrainView;
  readonly #version: SharedStateVersion;
  readonly #wallNow: () => number;
  readonly #log: Logger | undefined;
  #sharer: Sharer | undefined;
  #payload: Buffer | undefined;
  #adopted = 0;
  #refused = 0;
  #unsubscribe: (() => void) | undefined;

  constructor(opts: { view: SyncDrainView; selfNodeId: number; log?: Logger; wallNow?: () => number }) {
    this.#view = opts.view;
    this.#version = new SharedStateVersion(opts.selfNodeId);
    this.#wallNow = opts.wallNow ?? Date.now;
    this.#log = opts.log;
    // For the life of the object: a change made while the sync restarts is shared on attach.
    this.#unsubscribe = this.#view.onDrainStateChange(() => this.#localChange());
  }

  /** The sync service is running: share what we hold (it resends it periodically). */
  attach(sharer: Sharer): void {
    this.#sharer = sharer;
    this.#share();
  }

  detach(): void {
    this.#sharer = undefined;
  }

  close(): void {
    this.detach();
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
  }

  /** A peer's STATE message (every resend comes here; only a newer version does anything). */
  onShared(peer: string, st: SharedState): void {
    const v = { stamp: st.stamp, origin: st.origin };
    if (!this.#version.wants(v)) return;
    let snapshot: unknown;
    try {
      snapshot = JSON.parse(st.payload.toString('utf8'));
      this.#view.restoreDrains(snapshot);
    } catch (err) {
      // Authenticated but unusable (a peer running other code, or a bug): never applied, and
      // counted; its version is not adopted, so a later good one is still taken.
      this.#refused++;
      this.#log?.warn({ peer, err: (err as Error).message }, 'drain state from a peer refused');
      return;
    }
    this.#version.adopt(v);
    this.#payload = Buffer.from(st.payload);
    this.#adopted++;
    this.#log?.info({ peer, stamp: v.stamp }, 'drain state taken from a peer');
    this.#share();
  }

  status(): DrainShareStatus {
    return { version: this.#version.current, adopted: this.#adopted, refused: this.#refused };
  }

  #localChange(): void {
    const snapshot = this.#view.drainSnapshot();
    if (snapshot === null) return;
    this.#version.localChange(this.#wallNow());
    this.#payload = Buffer.from(JSON.stringify(snapshot));
    this.#share();
  }

  #share(): void {
    const v = this.#version.current;
    if (this.#sharer === undefined || this.#payload === undefined || v.stamp === 0) return;
    try {
      this.#sharer.shareState({ ...v, payload: this.#payload });
    } catch (err) {
      this.#log?.error({ err: (err as Error).message }, 'drain state cannot be shared with the peers');
    }
  }
}
