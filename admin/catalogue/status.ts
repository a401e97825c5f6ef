/**
 * The result of `status`: the node, its VIP groups, peers, services and real servers, and each
 * part's own status. The daemon builds it from the config and overlays what the parts report
 * (daemon/status.ts); `dsrctl status` prints it like `ipvsadm -L -n`.
 */

export type Role = 'master' | 'backup' | 'fault' | 'init' | 'unknown';

export interface GroupStatus {
  name: string;
  id: number;
  role: Role;
  /** Configured priority, and the one in force after tracked conditions. */
  priority: number;
  effectivePriority: number | null;
  /** Node id of the current master as this director sees it; null if none or unknown. */
  master: string | null;
  vips: string[];
  /** Why the group is in Fault, or other remarks. */
  reason?: string;
}

export interface PeerStatus {
  id: string;
  address: string;
  /** ms since the last authenticated message from this peer; null = never heard. */
  lastHeardMs: number | null;
  /** false when the peer's config fingerprint differs from ours; null = unknown. */
  fingerprintMatch: boolean | null;
  /**
   * The election keys of the peer's last advert, by id: the one it signs with and every one it
   * accepts (a rotation under way shows two). null = no advert heard.
   */
  keys?: { sendsWith: number; accepts: number[] } | null;
  sync?: string;
}

export type RealServerState = 'up' | 'down' | 'draining' | 'disabled' | 'unknown';

export interface RealServerStatus {
  address: string;
  /** Weight in force (0 while down or draining); configured weight alongside. */
  weight: number;
  configuredWeight: number;
  state: RealServerState;
  /**
   * Open flows in the connection table to this real server (SYN, established, UDP: ipvsadm's
   * ActiveConn); null when no forwarder reports it.
   */
  activeFlows: number | null;
  /** Closing TCP flows (FIN or RST seen), still forwarded until they time out: InActConn. */
  closingFlows: number | null;
  /**
   * The forwarder's view: 'active', 'draining' (weight 0), 'unresolved' (no MAC yet: no new
   * flows), 'stale-mac'; absent when no forwarder reports it.
   */
  forwarding?: string;
  /** Source-IP persistence entries pointing at this real server; null when none is reported. */
  persistentClients: number | null;
  /** The service's sorry server: 'up' with new flows while the service is down, else 'disabled'. */
  sorry?: boolean;
}

export interface ServiceStatus {
  name: string;
  vip: string;
  protocol: 'tcp' | 'udp';
  port: number;
  scheduler: string;
  persistenceTimeoutS: number | null;
  state: 'up' | 'down' | 'unknown';
  realServers: RealServerStatus[];
}

export interface ClusterView {
  groups: GroupStatus[];
  peers: PeerStatus[];
  services: ServiceStatus[];
}

export interface ReloadRecord {
  at: string;
  ok: boolean;
  /** Why it failed (the config errors, one per line), or null. */
  error: string | null;
  /** Parts the change was handed to. */
  parts: string[];
}

export interface DaemonStatus extends ClusterView {
  node: string;
  pid: number;
  version: string;
  state: 'starting' | 'running' | 'stopping';
  uptimeS: number;
  config: { path: string; fingerprint: string | null; loadedAt: string; lastReload: ReloadRecord | null };
  log: { level: string };
  eventLoop: {
    delayP99Ms: number;
    delayMaxMs: number;
    stalls: number;
    maxGapMs: number;
    /** cause: busy (the main thread ran a long task) or not-scheduled (starved, stopped, paused). */
    lastStall: { agoMs: number; gapMs: number; cause: 'busy' | 'not-scheduled' | null } | null;
  };
  /** A part's status is its own JSON; the election's carries an ElectionThreadStatus (election.ts). */
  parts: { name: string; state: string; error?: string; status?: unknown }[];
}
