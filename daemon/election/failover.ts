/**
 * The `failover_completed` alert (issue 8): when the election makes this director master in place
 * of another one, how long the takeover took and how far our copy of the old master's tables
 * lagged at that moment. Pure: the election part feeds it the become-master effect, the sync lag
 * and the clock reading when the VIPs were announced.
 *
 * Duration, one definition for every kind of takeover (docs/observability.md, "Failover timing"):
 * from the last message this director heard from the old master to our VIPs added and the first
 * gratuitous ARP / unsolicited NA sent. The last message is, by reason:
 * - master-down (the master died or was cut off): its last advert; the duration is the detection
 *   (master-down interval) plus the VIP add and announcement;
 * - master-resigned (it stopped, priority 0): its resign advert; skew time plus add and announce;
 * - handover (dsrctl failover): its handover request; just the add and announce;
 * - preempt: its last advert before ours (it is alive and steps down when it hears us).
 * Both ends of it are read on this director's monotonic clock, so it needs no clock agreement
 * between directors; it does not include the one-way network delay of that last message.
 */

import type { AlertEventFields } from '../../alerts/index.ts';
import type { ElectionEffect } from '../../failover/index.ts';

/** How far our copy of a peer's tables lagged when we took over from it. */
export interface SyncLag {
  /** We held the peer's whole tables and every update since, up to when it was last heard. */
  inSync: boolean;
  /** Updates the peer announced that had not reached us. */
  behindMessages: number;
  /** For how long updates had been missing, s: the oldest open gap, or the time since we were last in sync. */
  lagSeconds: number;
}

/** What the election needs of the sync part for this alert. */
export interface SyncLagSource {
  /** undefined: the sync is off or does not know that peer. */
  takeoverLag(peer: string): SyncLag | undefined;
}

/** A takeover in progress: what is known when the election decides, before the VIPs are up. */
export interface TakeoverStart {
  group: string;
  reason: string;
  previousMaster: string;
  /** Monotonic ms (the election's clock) of the last message heard from the previous master. */
  lastHeardAt: number;
  sync: SyncLag | undefined;
}

export type BecomeMaster = Extract<ElectionEffect, { type: 'become-master' }>;

/** A takeover from another master, or null for a first election (nobody was replaced). */
export function takeoverStart(
  group: string,
  effect: BecomeMaster,
  nameOf: (nodeId: number) => string,
  sync: SyncLagSource | undefined,
): TakeoverStart | null {
  if (effect.takeover === undefined) return null;
  const previousMaster = nameOf(effect.takeover.from);
  return {
    group,
    reason: effect.reason,
    previousMaster,
    lastHeardAt: effect.takeover.lastHeardAt,
    sync: sync?.takeoverLag(previousMaster),
  };
}

const ms3 = (seconds: number): number => Math.round(seconds * 1000) / 1000;

/** The event once the VIPs are added and announced at `announcedAt` (same clock as lastHeardAt). */
export function failoverCompleted(
  start: TakeoverStart,
  announcedAt: number,
): AlertEventFields<'failover_completed'> {
  const lag = start.sync;
  return {
    group: start.group,
    previousMaster: start.previousMaster,
    reason: start.reason,
    durationSeconds: ms3(Math.max(0, announcedAt - start.lastHeardAt) / 1000),
    syncLagSeconds: ms3(Math.max(0, lag?.lagSeconds ?? 0)),
    ...(lag === undefined ? {} : { syncInSync: lag.inSync, syncBehindMessages: lag.behindMessages }),
  };
}
