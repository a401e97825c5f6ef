/**
 * The dsrd config of one director of a lab pair (director-pair.ts), as a typed config document
 * (config/ ConfigInput) for config/'s serializer. Every setting not named here is dsrd's default.
 *
 * Paths that are host-wide by default (admin socket, alert spool, bpffs pin directory) are per
 * director and under the pair's scratch directory or bpffs, so two directors on one host do not
 * collide and nothing outside the lab is touched. Metrics are off unless asked for; then each
 * director serves them on its own lab address (METRICS_PORT).
 */
import type { ConfigInput } from '../../config/index.ts';

export type ServiceInput = NonNullable<ConfigInput['services']>[number];
export type VipGroupInput = NonNullable<ConfigInput['vip_groups']>[number];
export type SyncInput = NonNullable<ConfigInput['sync']>;
export type AlertTargetInput = NonNullable<NonNullable<ConfigInput['alerts']>['targets']>[number];

/** A service on the pair's VIP: its config entry less the VIP and the real servers, and how many. */
export interface PairService extends Omit<ServiceInput, 'vip' | 'real_servers'> {
  /** The first n of the lab's real servers; default every one. */
  realServers?: number;
}

/** The real servers' UDP echo (:7001), checked by a UDP health check: the failover probe's service. */
export const UDP_ECHO: PairService = {
  name: 'echo-udp',
  protocol: 'udp',
  port: 7001,
  health_check: { kind: 'udp', send: 'health', interval_ms: 1000, timeout_ms: 500 },
};

/** The real servers' TCP echo (:7000), which the long-lived streams use; no persistence. */
export const TCP_ECHO: PairService = { name: 'echo', protocol: 'tcp', port: 7000 };

/** The real servers' HTTP (:80) with source-IP persistence. */
export const HTTP_PERSISTENT: PairService = {
  name: 'http',
  protocol: 'tcp',
  port: 80,
  persistence: { timeout_s: 300 },
};

/** The services of the sync tests: the TCP echo and the persistent HTTP, on the first n real servers each. */
export function syncServices(reals: { echo: number; http: number } = { echo: 3, http: 2 }): PairService[] {
  return [
    { ...TCP_ECHO, realServers: reals.echo },
    { ...HTTP_PERSISTENT, realServers: reals.http },
  ];
}

/** Where a pair director serves its metrics when asked to (dsrd's default port). */
export const METRICS_PORT = 9779;

/** "198.18.0.2:9779", "[2001:2::2]:9779". */
export function hostPort(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

export interface PairDirectorConfig {
  self: { id: string; address: string; priority: number };
  peer: { id: string; address: string };
  vip: string;
  advertMs: number;
  /** More of the VIP group's settings (track, preempt, ...). */
  vipGroup?: Omit<Partial<VipGroupInput>, 'name' | 'id' | 'vips' | 'advert_interval_ms'>;
  services: readonly PairService[];
  /** The lab's real-server addresses; a service takes the first n. */
  reals: readonly string[];
  sync?: SyncInput;
  timers?: ConfigInput['timers'];
  tables?: ConfigInput['tables'];
  alertTargets?: readonly AlertTargetInput[];
  /** Serve Prometheus metrics on the director's own address, METRICS_PORT; default off. */
  metrics?: boolean;
  /** Election key file (32+ bytes, mode 0600), shared by the directors. */
  keyFile: string;
  pinDir: string;
  alertsDir: string;
  /** node.state_dir: the director's session ids (never the host's /var/lib). */
  stateDir: string;
  adminSocket: string;
}

export function pairDirectorConfig(o: PairDirectorConfig): ConfigInput {
  return {
    node: { ...o.self, state_dir: o.stateDir },
    peers: [o.peer],
    interfaces: [{ name: 'eth0' }],
    forwarder: { pin_dir: o.pinDir },
    vip_groups: [{ name: 'web', id: 51, vips: [o.vip], advert_interval_ms: o.advertMs, ...o.vipGroup }],
    services: o.services.map(({ realServers, ...service }) => ({
      ...service,
      vip: o.vip,
      real_servers: o.reals.slice(0, realServers).map((address) => ({ address })),
    })),
    keys: { election: { keys: [{ id: 1, file: o.keyFile }] } },
    sync: o.sync,
    timers: o.timers,
    tables: o.tables,
    metrics:
      o.metrics === true
        ? { enabled: true, listen: hostPort(o.self.address, METRICS_PORT) }
        : { enabled: false },
    alerts: {
      queue_dir: o.alertsDir,
      targets: o.alertTargets === undefined ? undefined : [...o.alertTargets],
    },
    admin: { socket: o.adminSocket },
  };
}
