/**
 * What each part hands the metrics module when scraped. Parts keep their own
 * plain counters and state; on each scrape the metrics module calls the part's
 * provider once and turns the snapshot into `dsr_*` samples. So parts do not
 * depend on prom-client, and per-CPU BPF counters are read and summed only when
 * Prometheus asks, never polled.
 *
 * Counters here are totals since the part started (monotonic); gauges are
 * current values. Times are in seconds, sizes in bytes or entries.
 */

export type DirectorRole = 'init' | 'backup' | 'master' | 'fault';
export const DIRECTOR_ROLES: readonly DirectorRole[] = ['init', 'backup', 'master', 'fault'];

export interface ElectionSnapshot {
  groups: Array<{
    group: string;
    role: DirectorRole;
    /** Transitions into each role since start (keepalived_become_master_total and friends). */
    transitions: Partial<Record<DirectorRole, number>>;
    advertsSent: number;
    advertsReceived: number;
    /**
     * Times the election thread was not scheduled for longer than the master-down interval:
     * `relearned` when it dropped what it knew of its peers (a master also stepped down), `covered`
     * when it was master and the advert keeper spoke for it meanwhile.
     */
    stalls: { relearned: number; covered: number };
    vips: Array<{ vip: string; owned: boolean }>;
    /** Claims (ARP, ND) of the group's VIPs by other MACs while this director held them. */
    vipConflicts: number;
  }>;
  /** Adverts discarded before they reached a group, by reason (auth, replay, malformed, ...). */
  advertsDropped: Readonly<Record<string, number>>;
  /** null when the peer was never heard. */
  peers: Array<{ peer: string; lastHeardSeconds: number | null }>;
  /** The advert keeper (failover/thread/advert-keeper.ts); null before the thread reports it. */
  keeper: {
    running: boolean;
    covers: number;
    adverts: number;
    limitReached: number;
    sendErrors: number;
    longestSilenceSeconds: number;
  } | null;
}

/** Quorum mode's voter (docs/quorum.md); absent in VRRP mode. */
export interface QuorumSnapshot {
  term: number;
  /** 1 while this voter leads. */
  leader: number;
  /** Seconds left of our lease; 0 when we hold none. */
  leaseRemainingSeconds: number;
  /** Voters heard from within one election timeout, this one included. */
  votersReachable: number;
  voters: number;
  /** 1 while a vote quorum of voters is reachable (a leader can be elected or stay). */
  quorum: number;
  /** Changes of the known leader since the part started. */
  leaderChanges: number;
}

export interface ForwarderSnapshot {
  /** Per service and real server, summed over CPUs. */
  realServers: Array<{
    service: string;
    realServer: string;
    packets: number;
    bytes: number;
    /** New flows given to this real server (node_ipvs_connections_total per backend). */
    flows?: number;
    weight?: number;
  }>;
  /** Packets the XDP program dropped / passed to the stack, by reason. */
  drops: Readonly<Record<string, number>>;
  passes: Readonly<Record<string, number>>;
  /** Events the program could not report (its ring was full): the sync missed them. */
  eventsLost: number;
  /** TCP packets of flows without an entry sent statelessly (SYN-only mode: floods show here). */
  stateless: number;
  connTable: { entries: number; capacity?: number };
  persistenceTable: { entries: number; capacity?: number };
}

export interface SyncSnapshot {
  peers: Array<{
    peer: string;
    lagSeconds: number;
    pendingEntries: number;
    retransmits: number;
    inSync: boolean;
  }>;
  /** Sync datagrams dropped, by reason (bad MAC, replay, from no peer's address, ...). */
  drops: Readonly<Record<string, number>>;
}

export interface HealthSnapshot {
  checks: Array<{
    service: string;
    realServer: string;
    up: boolean;
    /** Duration of the last check; null before the first. */
    latencySeconds: number | null;
    /** Checks run, by result (success, failure, timeout, ...). */
    results: Readonly<Record<string, number>>;
  }>;
}

/** Shaped like core/eventloop.ts EventLoopStatus, so `() => monitor.status()` is a provider. */
export interface EventLoopSnapshot {
  delay: { meanMs: number; p50Ms: number; p99Ms: number; maxMs: number };
  stalls: number;
}

/** Shaped like AlertEngine.stats(), so `() => engine.stats()` is a provider. */
export interface AlertsSnapshot {
  targets: Array<{
    target: string;
    queued: number;
    active: number;
    deliveries: { success: number; retry: number; failed: number; dropped: number };
  }>;
}

export interface InfoSnapshot {
  node: string;
  version: string;
  /** The config fingerprint peers compare (a hash, not a secret). */
  configFingerprint: string;
}

export interface Snapshots {
  info: InfoSnapshot;
  election: ElectionSnapshot;
  quorum: QuorumSnapshot;
  forwarder: ForwarderSnapshot;
  sync: SyncSnapshot;
  health: HealthSnapshot;
  eventLoop: EventLoopSnapshot;
  alerts: AlertsSnapshot;
}

export type ProviderName = keyof Snapshots;
export type Provider<P extends ProviderName> = () => Snapshots[P] | Promise<Snapshots[P]>;
export const PROVIDER_NAMES: readonly ProviderName[] = [
  'info',
  'election',
  'quorum',
  'forwarder',
  'sync',
  'health',
  'eventLoop',
  'alerts',
];
