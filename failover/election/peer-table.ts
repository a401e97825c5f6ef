/**
 * What one director knows about its peers in a group, from their adverts and heartbeats: state,
 * priority, sync readiness, config fingerprint, when last heard. Reports peer discovered / lost /
 * recovered and fingerprint mismatch / match, each once per change rather than once per packet.
 */
import type { AdvertisedState, SenderStatus } from './messages.ts';
import { masterDownIntervalMs } from './timing.ts';
import type { ElectionAlert, PeerStatus } from './types.ts';

interface PeerRecord {
  readonly nodeId: number;
  state: AdvertisedState;
  priority: number;
  intervalMs: number;
  syncReady: boolean;
  fingerprint: Uint8Array;
  lastHeardAt: number;
  /** Last time this peer was heard in state backup. */
  lastBackupAt: number | null;
  lost: boolean;
  /** `theirs/ours` of the mismatch last reported, null when in agreement. */
  mismatchReported: string | null;
}

export const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

export class PeerTable {
  readonly #configured: ReadonlySet<number> | null;
  readonly #peers = new Map<number, PeerRecord>();
  /** After a stall nobody is declared lost until a full timeout has passed since we resumed. */
  #graceFrom = Number.NEGATIVE_INFINITY;

  constructor(configured?: readonly number[]) {
    this.#configured = configured === undefined ? null : new Set(configured);
  }

  isAllowed(nodeId: number): boolean {
    return this.#configured === null || this.#configured.has(nodeId);
  }

  get(nodeId: number): Readonly<PeerRecord> | undefined {
    return this.#peers.get(nodeId);
  }

  observe(now: number, m: SenderStatus, ownFingerprint: Uint8Array): ElectionAlert[] {
    const alerts: ElectionAlert[] = [];
    let peer = this.#peers.get(m.from);
    if (peer === undefined) {
      peer = {
        nodeId: m.from,
        state: m.state,
        priority: m.priority,
        intervalMs: m.intervalMs,
        syncReady: m.syncReady,
        fingerprint: m.fingerprint,
        lastHeardAt: now,
        lastBackupAt: null,
        lost: false,
        mismatchReported: null,
      };
      this.#peers.set(m.from, peer);
      alerts.push({ kind: 'peer-discovered', peer: m.from });
    } else if (peer.lost) {
      peer.lost = false;
      alerts.push({ kind: 'peer-recovered', peer: m.from });
    }
    peer.state = m.state;
    peer.priority = m.priority;
    peer.intervalMs = m.intervalMs;
    peer.syncReady = m.syncReady;
    peer.fingerprint = m.fingerprint;
    peer.lastHeardAt = now;
    if (m.state === 'backup') peer.lastBackupAt = now;
    const alert = this.#compareFingerprint(peer, ownFingerprint);
    if (alert !== null) alerts.push(alert);
    return alerts;
  }

  /** Our own fingerprint changed (config reload): compare again with every known peer. */
  recheckFingerprints(ownFingerprint: Uint8Array): ElectionAlert[] {
    const alerts: ElectionAlert[] = [];
    for (const peer of this.#peers.values()) {
      const alert = this.#compareFingerprint(peer, ownFingerprint);
      if (alert !== null) alerts.push(alert);
    }
    return alerts;
  }

  /** A peer is lost when silent for its own master-down interval (from its advertised timers). */
  checkTimeouts(now: number): ElectionAlert[] {
    const alerts: ElectionAlert[] = [];
    for (const peer of this.#peers.values()) {
      if (!peer.lost && now >= this.#lostAt(peer)) {
        peer.lost = true;
        alerts.push({ kind: 'peer-lost', peer: peer.nodeId, silentMs: now - peer.lastHeardAt });
      }
    }
    return alerts;
  }

  nextTimeout(): number | null {
    let next: number | null = null;
    for (const peer of this.#peers.values()) {
      if (!peer.lost) next = Math.min(next ?? Number.POSITIVE_INFINITY, this.#lostAt(peer));
    }
    return next;
  }

  /** Re-learn after a stall: what we heard before is old, but do not call anyone lost yet. */
  startGrace(now: number): void {
    this.#graceFrom = now;
  }

  /**
   * Was this peer a live backup just now? Then its claim to master is a preemption (it listened,
   * then took over as the rules say), not a split brain. A peer we could not hear for more than
   * two of its intervals took over without us: that is a split brain.
   */
  wasRecentlyBackup(nodeId: number, now: number): boolean {
    const peer = this.#peers.get(nodeId);
    return peer?.lastBackupAt != null && !peer.lost && now - peer.lastBackupAt <= 2.5 * peer.intervalMs;
  }

  status(now: number, ownFingerprint: Uint8Array): PeerStatus[] {
    const ids = new Set([...(this.#configured ?? []), ...this.#peers.keys()]);
    return [...ids]
      .sort((a, b) => a - b)
      .map((nodeId) => {
        const p = this.#peers.get(nodeId);
        if (p === undefined) {
          return {
            nodeId,
            state: null,
            priority: null,
            intervalMs: null,
            syncReady: null,
            lastHeardAgoMs: null,
            lost: false,
            fingerprint: null,
            fingerprintMatch: null,
          };
        }
        return {
          nodeId,
          state: p.state,
          priority: p.priority,
          intervalMs: p.intervalMs,
          syncReady: p.syncReady,
          lastHeardAgoMs: now - p.lastHeardAt,
          lost: p.lost,
          fingerprint: hex(p.fingerprint),
          fingerprintMatch: sameBytes(p.fingerprint, ownFingerprint),
        };
      });
  }

  #lostAt(peer: PeerRecord): number {
    return Math.max(peer.lastHeardAt, this.#graceFrom) + masterDownIntervalMs(peer.priority, peer.intervalMs);
  }

  #compareFingerprint(peer: PeerRecord, own: Uint8Array): ElectionAlert | null {
    if (sameBytes(peer.fingerprint, own)) {
      if (peer.mismatchReported === null) return null;
      peer.mismatchReported = null;
      return { kind: 'fingerprint-match', peer: peer.nodeId };
    }
    const ours = hex(own);
    const theirs = hex(peer.fingerprint);
    if (peer.mismatchReported === `${theirs}/${ours}`) return null;
    peer.mismatchReported = `${theirs}/${ours}`;
    return { kind: 'fingerprint-mismatch', peer: peer.nodeId, ours, theirs };
  }
}
