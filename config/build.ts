/**
 * Builds the typed Config from validated sections: applies the defaults that depend on other
 * fields (group priority from node.priority, interfaces, ports), resolves health check names,
 * normalises addresses and wraps secrets. Runs only on a config that produced no issues.
 */
import { parseEndpoint } from '../core/net/endpoint.ts';
import { canonicalIp, parseIp } from '../core/net/ip.ts';
import { ALERT_EVENTS } from './alert-events.ts';
import { DEFAULTS } from './defaults.ts';
import type { LoadedFiles } from './files.ts';
import type { RawConfig, RawHealthCheck, RawHealthCheckRef, RawKeyRing } from './schema.ts';
import { parseFileMode, parseStatusRange } from './schema-parts.ts';
import { Secret } from './secret.ts';
import type {
  AlertTargetConfig,
  Config,
  HealthCheck,
  KeyRing,
  PeerConfig,
  RealServerConfig,
  ServiceConfig,
  SyncPeerConfig,
  VipGroupConfig,
} from './types.ts';

export interface BuildContext {
  files: LoadedFiles;
  /** Resolves a path from the file against the config file's directory. */
  resolve(path: string): string;
}

function fileBytes(ctx: BuildContext, path: string): Buffer {
  const bytes = ctx.files.get(ctx.resolve(path));
  if (bytes === undefined) throw new Error(`internal: ${path} was not read before build`);
  return bytes;
}

export function buildHealthCheck(raw: RawHealthCheck, name: string | null, ctx: BuildContext): HealthCheck {
  const base = {
    name,
    intervalMs: raw.interval_ms,
    timeoutMs: raw.timeout_ms,
    rise: raw.rise,
    fall: raw.fall,
  };
  switch (raw.kind) {
    case 'tcp':
      return { ...base, kind: 'tcp', port: raw.port ?? null };
    case 'http':
    case 'https': {
      const status = parseStatusRange(raw.expect_status);
      if (status === null) throw new Error('internal: expect_status passed the schema but does not parse');
      const https = raw.kind === 'https' ? raw : null;
      return {
        ...base,
        kind: raw.kind,
        port: raw.port ?? null,
        method: raw.method,
        path: raw.path,
        host: raw.host ?? null,
        expectStatus: status,
        bodyRegex: raw.body_regex ?? null,
        sni: https?.sni ?? null,
        tlsVerify: https?.tls_verify ?? false,
        caFile: https?.ca_file === undefined || https === null ? null : ctx.resolve(https.ca_file),
      };
    }
    case 'udp': {
      const sendHex =
        raw.send_hex ?? Buffer.from(raw.send ?? DEFAULTS.health_checks.udp.send, 'utf8').toString('hex');
      return {
        ...base,
        kind: 'udp',
        port: raw.port ?? null,
        sendHex: sendHex.toLowerCase(),
        expectRegex: raw.expect_regex ?? null,
      };
    }
    case 'dns':
      return {
        ...base,
        kind: 'dns',
        port: raw.port,
        query: raw.query,
        type: raw.type,
        expectRcode: raw.expect_rcode,
      };
    case 'exec':
      return { ...base, kind: 'exec', command: [...raw.command] };
  }
}

function buildRing(raw: RawKeyRing, ctx: BuildContext): KeyRing {
  return {
    sendId: raw.send_id ?? raw.keys[0].id,
    keys: raw.keys.map((k) => ({
      id: k.id,
      file: ctx.resolve(k.file),
      secret: new Secret(fileBytes(ctx, k.file)),
    })),
  };
}

/** Standard Webhooks secrets are written `whsec_<base64>`; anything else is used as raw bytes. */
export function webhookSecret(bytes: Buffer): Secret {
  const text = bytes.toString('utf8');
  if (text.startsWith('whsec_')) return new Secret(Buffer.from(text.slice(6), 'base64'));
  return new Secret(bytes);
}

function buildAlertTarget(t: RawConfig['alerts']['targets'][number], ctx: BuildContext): AlertTargetConfig {
  const urlText = t.url ?? fileBytes(ctx, t.url_file as string).toString('utf8');
  return {
    name: t.name,
    kind: t.kind,
    url: Secret.fromText(urlText, new URL(urlText).origin),
    urlFile: t.url_file === undefined ? null : ctx.resolve(t.url_file),
    secret: t.secret_file === undefined ? null : webhookSecret(fileBytes(ctx, t.secret_file)),
    secretFile: t.secret_file === undefined ? null : ctx.resolve(t.secret_file),
    events: t.events ? [...t.events] : [...ALERT_EVENTS],
    timeoutMs: t.timeout_ms,
    maxAttempts: t.max_attempts,
    backoffInitialMs: t.backoff_initial_ms,
    backoffMaxMs: t.backoff_max_ms,
  };
}

export function buildConfig(raw: RawConfig, ctx: BuildContext): Config {
  // A witness has no interfaces (semantic-quorum.ts); nothing of it names one.
  const interfaces = raw.interfaces ?? [];
  const firstInterface = interfaces[0]?.name ?? '';
  const namedChecks = raw.health_checks.map((c) => buildHealthCheck(c, c.name, ctx));
  const resolveCheck = (ref: RawHealthCheckRef | undefined): HealthCheck | null => {
    if (ref === undefined) return null;
    if (typeof ref !== 'string') return buildHealthCheck(ref, null, ctx);
    const found = namedChecks.find((c) => c.name === ref);
    if (found === undefined)
      throw new Error(`internal: health check ${ref} passed the checks but is unknown`);
    return found;
  };

  const peers: PeerConfig[] = raw.peers.map((p) => ({
    id: p.id,
    address: canonicalIp(p.address),
    family: parseIp(p.address).family,
    port: p.port ?? raw.election.port,
    witness: p.witness,
  }));

  const vipGroups: VipGroupConfig[] = (raw.vip_groups ?? []).map((g) => ({
    name: g.name,
    id: g.id,
    interface: g.interface ?? firstInterface,
    vips: g.vips.map(canonicalIp),
    priority: g.priority ?? raw.node.priority,
    preempt: g.preempt,
    preemptDelayMs: g.preempt_delay_ms,
    advertIntervalMs: g.advert_interval_ms,
    garp: { count: g.garp.count, intervalMs: g.garp.interval_ms, refreshS: g.garp.refresh_s },
    track: {
      forwarder: g.track.forwarder,
      interfaces: g.track.interfaces.map((t) => ({ name: t.name, weight: t.weight })),
      scripts: g.track.scripts.map((t) => ({
        name: t.name,
        command: [...t.command],
        intervalMs: t.interval_ms,
        timeoutMs: t.timeout_ms,
        rise: t.rise,
        fall: t.fall,
        weight: t.weight,
      })),
      services: g.track.services.map((t) => ({ name: t.name, weight: t.weight })),
    },
  }));

  const groupOfVip = new Map<string, string>();
  for (const g of vipGroups) for (const v of g.vips) groupOfVip.set(v, g.name);

  const services: ServiceConfig[] = raw.services.map((s) => {
    const vip = canonicalIp(s.vip);
    const serviceCheck = resolveCheck(s.health_check);
    const realServers: RealServerConfig[] = s.real_servers.map((r) => ({
      address: canonicalIp(r.address),
      weight: r.weight,
      healthCheck: r.health_check === undefined ? serviceCheck : resolveCheck(r.health_check),
    }));
    return {
      name: s.name,
      vip,
      family: parseIp(vip).family,
      vipGroup: groupOfVip.get(vip) as string,
      protocol: s.protocol,
      port: s.port,
      scheduler: { kind: s.scheduler.kind, tableSize: s.scheduler.table_size },
      persistence: s.persistence
        ? {
            timeoutS: s.persistence.timeout_s,
            netmaskV4: s.persistence.netmask_v4,
            netmaskV6: s.persistence.netmask_v6,
          }
        : null,
      minHealthy: s.min_healthy,
      sorryServer: s.sorry_server === undefined ? null : canonicalIp(s.sorry_server),
      rescheduleOnDown: s.reschedule_on_down,
      drain: { keepPersistence: s.drain.keep_persistence, timeoutS: s.drain.timeout_s },
      realServers,
    };
  });

  const election = raw.keys ? buildRing(raw.keys.election, ctx) : null;
  const sync = raw.keys?.sync ? buildRing(raw.keys.sync, ctx) : election;

  const rawSyncPeers: { id: string; address?: string; port?: number }[] =
    raw.sync.peers ?? raw.peers.map((p) => ({ id: p.id }));
  const syncPeers: SyncPeerConfig[] = rawSyncPeers.map((sp) => {
    const peer = peers.find((p) => p.id === sp.id) as PeerConfig;
    return {
      id: sp.id,
      address: sp.address === undefined ? peer.address : canonicalIp(sp.address),
      port: sp.port ?? raw.sync.port,
    };
  });

  const listen = parseEndpoint(raw.metrics.listen);
  if (typeof listen === 'string')
    throw new Error('internal: metrics.listen passed the schema but does not parse');

  return {
    node: {
      id: raw.node.id,
      priority: raw.node.priority,
      role: raw.node.role,
      address: raw.node.address === undefined ? null : canonicalIp(raw.node.address),
      stateDir: raw.node.state_dir,
    },
    election: {
      mode: raw.election.mode,
      raft:
        raw.election.mode === 'raft'
          ? {
              port: raw.election.raft.port,
              electionTimeoutMs: raw.election.raft.election_timeout_ms,
              electionJitterMs: raw.election.raft.election_jitter_ms,
              heartbeatIntervalMs: raw.election.raft.heartbeat_interval_ms,
            }
          : null,
      transport: raw.election.transport,
      port: raw.election.port,
      multicast:
        raw.election.transport === 'multicast'
          ? {
              group: canonicalIp(raw.election.multicast.group),
              ttl: raw.election.multicast.ttl,
              interface: raw.election.multicast.interface ?? firstInterface,
            }
          : null,
    },
    peers,
    interfaces: interfaces.map((i) => ({ name: i.name, xdpMode: i.xdp_mode })),
    forwarder: { pinDir: raw.forwarder.pin_dir, synOnly: raw.forwarder.syn_only },
    vipGroups,
    healthChecks: namedChecks,
    services,
    timers: {
      tcpEstablishedS: raw.timers.tcp_established_s,
      tcpClosingS: raw.timers.tcp_closing_s,
      udpS: raw.timers.udp_s,
    },
    tables: {
      connTableSize: raw.tables.conn_table_size,
      persistenceTableSize: raw.tables.persistence_table_size,
    },
    keys: { election, sync },
    sync: {
      enabled: raw.sync.enabled,
      port: raw.sync.port,
      maxDatagramBytes: raw.sync.max_datagram_bytes,
      flushIntervalMs: raw.sync.flush_interval_ms,
      refreshS: raw.sync.refresh_s,
      keepaliveMs: raw.sync.keepalive_ms,
      lagAlertMs: raw.sync.lag_alert_ms,
      peers: syncPeers,
    },
    metrics: {
      enabled: raw.metrics.enabled,
      host: listen.address,
      port: listen.port,
      path: raw.metrics.path,
    },
    admin: { socket: raw.admin.socket, group: raw.admin.group ?? null, mode: parseFileMode(raw.admin.mode) },
    log: { level: raw.log.level },
    alerts: {
      heartbeatS: raw.alerts.heartbeat_s,
      queueDir: raw.alerts.queue_dir,
      queueMaxEvents: raw.alerts.queue_max_events,
      targets: raw.alerts.targets.map((t) => buildAlertTarget(t, ctx)),
    },
  };
}
