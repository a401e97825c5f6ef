/**
 * A fake pair of directors for the drill's orchestration tests (drill-run.ts): one object plays
 * the election, the sync, the forwarder, the VIPs, the wire and the clock, and moves the group the
 * way the real protocols would (handover: we become backup, the peer master and announces; the
 * released hold: we preempt the peer). Time is simulated: sleep() advances the clock and runs what
 * was scheduled until then. Knobs let a test break one thing at a time.
 */

import type { TableTally } from '../../admin/catalogue/drill.ts';
import { DsrError } from '../../core/errors.ts';
import type {
  Announcement,
  DrillDeps,
  DrillSetup,
  GroupElectionView,
  HandoverOutcome,
  PeerElectionView,
  SyncPeerState,
} from '../../daemon/drill/types.ts';

export const SELF = 'd1';
export const PEER = 'd2';
export const PEER_MAC = '02:d5:00:00:01:01';
export const VIP = '198.18.0.200';

export const SETUP: DrillSetup = {
  group: 'web',
  vips: [VIP],
  ifname: 'eth0',
  peerAddress: '198.18.0.3',
  probe: { service: 'echo', vip: VIP, port: 7000 },
};

export interface Knobs {
  role: GroupElectionView['role'];
  peer: Partial<PeerElectionView>;
  sync: Partial<SyncPeerState> & { enabled?: boolean };
  priority: number;
  preempt: boolean;
  /** What our table holds: live flows and how many are long-lived. */
  census: { live: number; longLived: number };
  /** The long-lived flows the peer's bulk carries, and short-lived ones besides. */
  peerLongLived: number;
  peerShortLived: number;
  /**
   * The peer's copies of flows about to end here: 150 s left there (the sync's copy margin on top
   * of what they have here), more than the horizon.
   */
  peerCopies: number;
  handover: 'completes' | 'throws' | 'fails';
  /** ms after the handover request until the peer's first master advert. */
  handoverMs: number;
  announceMac: string | null;
  probeOk: boolean;
  /** The peer answers a bulk request (ms later), or never. */
  bulkMs: number | null;
  /** After releaseHold, ms until we are master again; null: never. */
  preemptMs: number | null;
  /** Packets our forwarder moves per second while master. */
  pps: number;
}

export const DEFAULT_KNOBS: Knobs = {
  role: 'master',
  peer: {},
  sync: {},
  priority: 150,
  preempt: true,
  census: { live: 12, longLived: 10 },
  peerLongLived: 11,
  peerShortLived: 1,
  peerCopies: 0,
  handover: 'completes',
  handoverMs: 40,
  announceMac: PEER_MAC,
  probeOk: true,
  bulkMs: 30,
  preemptMs: 400,
  pps: 1000,
};

export class FakePair {
  readonly k: Knobs;
  now = 1_000;
  readonly calls: string[] = [];
  role: GroupElectionView['role'];
  peerState: 'backup' | 'master';
  held: string[];
  frames = 5;
  packets = 0;
  hold = false;
  receiving: SyncPeerState['state'] = 'in-sync';
  readonly seen: Announcement[] = [];
  readonly #timers: { at: number; fn: () => void }[] = [];

  constructor(knobs: Partial<Knobs> = {}) {
    this.k = { ...DEFAULT_KNOBS, ...knobs };
    this.role = this.k.role;
    this.peerState = this.role === 'master' ? 'backup' : 'master';
    this.held = this.role === 'master' ? [`${VIP}/32`] : [];
  }

  at(ms: number, fn: () => void): void {
    this.#timers.push({ at: this.now + ms, fn });
  }

  #advance(to: number): void {
    for (;;) {
      this.#timers.sort((a, b) => a.at - b.at);
      const next = this.#timers[0];
      if (next === undefined || next.at > to) break;
      this.#timers.shift();
      this.now = Math.max(this.now, next.at);
      next.fn();
    }
    if (this.role === 'master') this.packets += Math.round((this.k.pps * (to - this.now)) / 1000);
    this.now = to;
  }

  /** The peer's tables pulled and counted, as the sync part does: they arrive bulkMs later, or never. */
  #countTables(longLivedMs: number, limitMs: number): Promise<TableTally> {
    this.receiving = 'resyncing';
    return new Promise((resolve, reject) => {
      const bulkMs = this.k.bulkMs;
      if (bulkMs === null || bulkMs > limitMs) {
        this.at(limitMs, () => reject(new DsrError('E_TIMEOUT', `no whole bulk within ${limitMs} ms`)));
        return;
      }
      this.at(bulkMs, () => {
        this.receiving = 'in-sync';
        const long = 800_000 > longLivedMs ? this.k.peerLongLived : 0;
        const short = 5_000 > longLivedMs ? this.k.peerShortLived : 0;
        const copies = 150_000 > longLivedMs ? this.k.peerCopies : 0;
        const conns = this.k.peerLongLived + this.k.peerShortLived + this.k.peerCopies;
        resolve({ conns, longLived: long + short + copies, persist: 0 });
      });
    });
  }

  group(): GroupElectionView {
    const peer: PeerElectionView = {
      name: PEER,
      state: this.peerState,
      priority: 100,
      syncReady: true,
      lastHeardAgoMs: 30,
      lost: false,
      intervalMs: 100,
      fingerprintMatch: true,
      ...this.k.peer,
    };
    if (this.k.peer.state === undefined) peer.state = this.peerState;
    return {
      name: SETUP.group,
      role: this.role,
      master: this.role === 'master' ? SELF : this.peerState === 'master' ? PEER : null,
      effectivePriority: this.k.priority,
      preempt: this.k.preempt,
      preemptDelayMs: 0,
      preemptHold: this.hold,
      masterDownIntervalMs: 360,
      handoverTo: null,
      peers: [peer],
    };
  }

  deps(): DrillDeps {
    return {
      election: {
        self: SELF,
        groupNames: () => [SETUP.group],
        group: () => this.group(),
        handOver: (_g, peer, onStarted) => this.#handOver(peer, onStarted),
        releaseHold: async () => {
          this.calls.push('releaseHold');
          this.hold = false;
          if (this.k.preemptMs === null) return;
          this.at(this.k.preemptMs, () => {
            this.role = 'master';
            this.held = [`${VIP}/32`];
            this.frames += 5;
            this.at(50, () => {
              this.peerState = 'backup';
            });
          });
        },
      },
      sync: {
        enabled: () => this.k.sync.enabled ?? true,
        lagLimitMs: () => 1000,
        copyMarginMs: () => 120_000,
        peer: (name) =>
          name === PEER
            ? {
                peer: PEER,
                state: this.receiving,
                inSync: this.receiving === 'in-sync',
                notInSync: this.receiving === 'in-sync' ? null : this.receiving,
                lastHeardMs: 20,
                unackedMs: 0,
                queued: 0,
                ...this.k.sync,
              }
            : undefined,
        countTables: (_peer, longLivedMs, limitMs) => {
          this.calls.push('countTables');
          return this.#countTables(longLivedMs, limitMs);
        },
      },
      forwarder: {
        attached: () => true,
        census: async () => {
          this.calls.push('census');
          return { ...this.k.census };
        },
        forwardedPackets: () => this.packets,
      },
      vips: { held: () => [...this.held], framesSent: () => this.frames },
      net: {
        watchAnnouncements: () => {
          this.calls.push('watch');
          return { seen: () => [...this.seen], close: () => this.calls.push('unwatch') };
        },
        macOf: async () => PEER_MAC,
        probeTcp: async () => {
          this.calls.push('probe');
          this.#advance(this.now + 2);
          return this.k.probeOk ? { ok: true, ms: 2 } : { ok: false, ms: 2000, error: 'ECONNREFUSED' };
        },
      },
      clock: {
        now: () => this.now,
        wall: () => 1_700_000_000_000 + this.now,
        sleep: async (ms) => this.#advance(this.now + ms),
      },
    };
  }

  #handOver(peer: string, onStarted: () => void): Promise<HandoverOutcome> {
    this.calls.push(`handOver ${peer}`);
    if (this.k.handover === 'throws') {
      return Promise.reject(new DsrError('E_ILLEGAL_TRANSITION', 'handover: the target is not in sync'));
    }
    onStarted();
    const t0 = this.now;
    // The peer becomes master and announces at once; we step down on its first advert.
    if (this.k.handover === 'fails') {
      this.#advance(this.now + 700);
      return Promise.resolve({ ok: false, outcome: 'timeout', ms: 700 });
    }
    if (this.k.announceMac !== null)
      this.seen.push({ vip: VIP, mac: this.k.announceMac, atMs: this.now + 5 });
    this.#advance(this.now + this.k.handoverMs);
    this.peerState = 'master';
    this.role = 'backup';
    this.hold = true;
    this.at(3, () => {
      this.held = [];
    });
    return Promise.resolve({ ok: true, outcome: 'completed', ms: this.now - t0 });
  }
}
