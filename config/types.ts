/**
 * The typed config object the daemon works with (camelCase), built from the validated YAML
 * (snake_case, see schema.ts). Every default is already applied and every reference resolved:
 * a consumer never looks at defaults or names again. Addresses are in canonical form
 * (core/net/ip.ts). Durations carry their unit in the name.
 */
import type { IpFamily } from '../core/net/ip.ts';
import type { AlertEvent } from './alert-events.ts';
import type { Secret } from './secret.ts';

export type XdpMode = 'native' | 'generic' | 'auto';
export type Protocol = 'tcp' | 'udp';
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';
export type AlertTargetKind = 'generic' | 'slack' | 'alertmanager';

export interface NodeConfig {
  /** This director's name; unique among the peers; carried in election and sync messages. */
  id: string;
  /** Default election priority (1-254) of the VIP groups that do not set their own. */
  priority: number;
  /** A witness votes in quorum mode and runs nothing else: no forwarder, VIPs or health checks. */
  role: 'director' | 'witness';
  /** Local address the election and sync sockets bind to; null = any address. */
  address: string | null;
  /** Where this director keeps what must survive a restart (its last session ids). */
  stateDir: string;
}

export interface MulticastConfig {
  group: string;
  ttl: number;
  interface: string;
}

/** Quorum mode's timing (failover/raft/lease.ts); every voter must run the same. */
export interface RaftConfig {
  port: number;
  electionTimeoutMs: number;
  electionJitterMs: number;
  heartbeatIntervalMs: number;
}

export interface ElectionConfig {
  /** vrrp: the VRRP-style election per VIP group; raft: quorum mode (docs/quorum.md). */
  mode: 'vrrp' | 'raft';
  /** Set in raft mode, null otherwise. */
  raft: RaftConfig | null;
  transport: 'unicast' | 'multicast';
  port: number;
  /** Set when transport is multicast, null otherwise. */
  multicast: MulticastConfig | null;
}

export interface PeerConfig {
  id: string;
  address: string;
  family: IpFamily;
  /** The peer's election port. */
  port: number;
  /** Quorum mode: the peer is a witness (votes, holds no log, never leads). */
  witness: boolean;
}

export interface InterfaceConfig {
  name: string;
  xdpMode: XdpMode;
}

export interface ForwarderConfig {
  /** bpffs directory the maps are pinned under (kept across daemon restarts). */
  pinDir: string;
  /** Only a TCP SYN opens a connection entry; other packets of unknown flows go statelessly. */
  synOnly: boolean;
}

export interface GarpConfig {
  /** Gratuitous ARPs / unsolicited NAs sent in the burst on becoming master. */
  count: number;
  intervalMs: number;
  /** Re-announce period while master; 0 = off. */
  refreshS: number;
}

/**
 * Weight semantics for every tracked condition: 0 forces the group into Fault while the
 * condition fails; 1-253 lowers the group's priority by that much (never below 1).
 */
export interface TrackedInterface {
  name: string;
  weight: number;
}

export interface TrackedScript {
  name: string;
  /** argv; argv[0] is an absolute path. Run without a shell. */
  command: string[];
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
  weight: number;
}

export interface TrackedService {
  /** A service name; the condition fails while the service has fewer than min_healthy up. */
  name: string;
  weight: number;
}

export interface TrackConfig {
  /** Fault while the XDP forwarder is not attached. */
  forwarder: boolean;
  /** The group's own interface is always tracked with weight 0 and is not listed here. */
  interfaces: TrackedInterface[];
  scripts: TrackedScript[];
  services: TrackedService[];
}

export interface VipGroupConfig {
  name: string;
  /** Group id carried in election messages (like a VRRP VRID), 1-255, unique. */
  id: number;
  /** Interface the VIPs are added to and announced on. */
  interface: string;
  vips: string[];
  priority: number;
  preempt: boolean;
  preemptDelayMs: number;
  advertIntervalMs: number;
  garp: GarpConfig;
  track: TrackConfig;
}

interface HealthCheckBase {
  /** Name of the `health_checks` entry this came from; null for an inline check. */
  name: string | null;
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
}

export interface TcpHealthCheck extends HealthCheckBase {
  kind: 'tcp';
  /** null: the service port. */
  port: number | null;
}

export interface HttpHealthCheck extends HealthCheckBase {
  kind: 'http' | 'https';
  port: number | null;
  method: 'GET' | 'HEAD';
  path: string;
  /** Host header; null: the real server's address. */
  host: string | null;
  expectStatus: { min: number; max: number };
  bodyRegex: string | null;
  /** https only (null for http): SNI name, null = host. */
  sni: string | null;
  /** https only (false for http). */
  tlsVerify: boolean;
  /** https only: PEM CA bundle path; null = the system store. */
  caFile: string | null;
}

export interface UdpHealthCheck extends HealthCheckBase {
  kind: 'udp';
  port: number | null;
  /** Datagram payload to send, as hex (`send` text in the file is stored as its UTF-8 bytes). */
  sendHex: string;
  /** Regex the reply (decoded as latin1) must match; null = any reply is success. */
  expectRegex: string | null;
}

export interface DnsHealthCheck extends HealthCheckBase {
  kind: 'dns';
  port: number;
  query: string;
  type: DnsType;
  expectRcode: DnsRcode;
}

export interface ExecHealthCheck extends HealthCheckBase {
  kind: 'exec';
  /** argv, run without a shell; exit 0 = up. */
  command: string[];
}

export type HealthCheck =
  | TcpHealthCheck
  | HttpHealthCheck
  | UdpHealthCheck
  | DnsHealthCheck
  | ExecHealthCheck;
export type HealthCheckKind = HealthCheck['kind'];

export const DNS_TYPES = ['A', 'AAAA', 'CNAME', 'MX', 'NS', 'PTR', 'SOA', 'SRV', 'TXT'] as const;
export type DnsType = (typeof DNS_TYPES)[number];
export const DNS_RCODES = ['NOERROR', 'NXDOMAIN', 'SERVFAIL', 'REFUSED'] as const;
export type DnsRcode = (typeof DNS_RCODES)[number];

export interface RealServerConfig {
  address: string;
  /** 0-65535; 0 = no new flows (established flows stay). */
  weight: number;
  /** The real server's own check, else the service's, else null (always up). */
  healthCheck: HealthCheck | null;
}

export interface PersistenceConfig {
  timeoutS: number;
  /** Client addresses are masked to this prefix length before the persistence lookup. */
  netmaskV4: number;
  netmaskV6: number;
}

export interface ServiceConfig {
  name: string;
  vip: string;
  family: IpFamily;
  /** The VIP group holding `vip`. */
  vipGroup: string;
  protocol: Protocol;
  /** 0 = every port. */
  port: number;
  scheduler: { kind: 'maglev'; tableSize: number };
  /** null: no persistence. */
  persistence: PersistenceConfig | null;
  /** The service is down while fewer real servers than this are healthy. */
  minHealthy: number;
  /** Receives the new flows while the service is down; null = none. */
  sorryServer: string | null;
  /** Move established flows off a real server that goes down (default: they stay). */
  rescheduleOnDown: boolean;
  drain: { keepPersistence: boolean; timeoutS: number };
  realServers: RealServerConfig[];
}

export interface TimersConfig {
  tcpEstablishedS: number;
  tcpClosingS: number;
  udpS: number;
}

export interface TablesConfig {
  connTableSize: number;
  persistenceTableSize: number;
}

export interface KeyConfig {
  /** Key id carried in messages (1-255). */
  id: number;
  file: string;
  secret: Secret;
}

export interface KeyRing {
  /** Messages are signed with this key; every key in `keys` is accepted. */
  sendId: number;
  keys: KeyConfig[];
}

export interface KeysConfig {
  /** null only when there are no peers (a lone director has nobody to authenticate). */
  election: KeyRing | null;
  sync: KeyRing | null;
}

export interface SyncPeerConfig {
  id: string;
  address: string;
  port: number;
}

export interface SyncConfig {
  enabled: boolean;
  port: number;
  maxDatagramBytes: number;
  /** How often the sync thread drains the forwarder's events and runs its timers. */
  flushIntervalMs: number;
  /** How often every live entry of ours is sent to the peers again (and how much longer copies live). */
  refreshS: number;
  keepaliveMs: number;
  lagAlertMs: number;
  peers: SyncPeerConfig[];
}

export interface MetricsConfig {
  enabled: boolean;
  host: string;
  port: number;
  path: string;
}

export interface AdminConfig {
  socket: string;
  group: string | null;
  /** File mode of the socket, e.g. 0o660. */
  mode: number;
}

export interface AlertTargetConfig {
  name: string;
  kind: AlertTargetKind;
  /** Redacted in JSON and inspect output: Slack URLs are credentials. */
  url: Secret;
  /** The file the URL was read from; null when it is written in the config. */
  urlFile: string | null;
  /** generic only: the Standard Webhooks signing secret; null = unsigned. */
  secret: Secret | null;
  secretFile: string | null;
  events: AlertEvent[];
  timeoutMs: number;
  maxAttempts: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
}

export interface AlertsConfig {
  /** "still master" heartbeat period; 0 = off. */
  heartbeatS: number;
  queueDir: string;
  queueMaxEvents: number;
  targets: AlertTargetConfig[];
}

export interface Config {
  node: NodeConfig;
  election: ElectionConfig;
  peers: PeerConfig[];
  interfaces: InterfaceConfig[];
  forwarder: ForwarderConfig;
  vipGroups: VipGroupConfig[];
  healthChecks: HealthCheck[];
  services: ServiceConfig[];
  timers: TimersConfig;
  tables: TablesConfig;
  keys: KeysConfig;
  sync: SyncConfig;
  metrics: MetricsConfig;
  admin: AdminConfig;
  log: { level: LogLevel };
  alerts: AlertsConfig;
}
