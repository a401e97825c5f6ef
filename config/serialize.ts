/**
 * Config → YAML with every value explicit (the effective config): what `dsrctl config show`
 * prints, and the inverse of loading (loading the output gives an equal Config; a property test
 * checks it). Secrets stay in their files; only a URL written inline in the original file can be
 * written back, and only when asked to.
 *
 * Programs that write configs (the lab, the benchmarks) build the document itself, typed as the
 * schema's input (`ConfigInput`: snake_case, defaults left out), and write it with
 * serializeConfigInput(): a misspelt key is a type error, not a load error on the daemon's side.
 */
import { stringify } from 'yaml';
import { formatEndpoint } from '../core/net/endpoint.ts';
import type { ConfigInput, InlineHealthCheckInput } from './schema.ts';
import type { Config, HealthCheck, KeyRing } from './types.ts';

export interface SerializeOptions {
  /** Write alert URLs that were inline in the config; default: "[redacted]". */
  includeInlineUrls?: boolean;
}

function checkToRaw(c: HealthCheck): InlineHealthCheckInput {
  const common = {
    interval_ms: c.intervalMs,
    timeout_ms: c.timeoutMs,
    rise: c.rise,
    fall: c.fall,
  };
  const port = (p: number | null) => (p === null ? {} : { port: p });
  switch (c.kind) {
    case 'tcp':
      return { kind: c.kind, ...common, ...port(c.port) };
    case 'http':
    case 'https': {
      const { min, max } = c.expectStatus;
      const http = {
        ...common,
        ...port(c.port),
        method: c.method,
        path: c.path,
        ...(c.host === null ? {} : { host: c.host }),
        expect_status: min === max ? min : `${min}-${max}`,
        ...(c.bodyRegex === null ? {} : { body_regex: c.bodyRegex }),
      };
      if (c.kind === 'http') return { kind: c.kind, ...http };
      return {
        kind: c.kind,
        ...http,
        ...(c.sni === null ? {} : { sni: c.sni }),
        tls_verify: c.tlsVerify,
        ...(c.caFile === null ? {} : { ca_file: c.caFile }),
      };
    }
    case 'udp':
      return {
        kind: c.kind,
        ...common,
        ...port(c.port),
        send_hex: c.sendHex,
        ...(c.expectRegex === null ? {} : { expect_regex: c.expectRegex }),
      };
    case 'dns':
      return {
        kind: c.kind,
        ...common,
        port: c.port,
        query: c.query,
        type: c.type,
        expect_rcode: c.expectRcode,
      };
    case 'exec':
      return { kind: c.kind, ...common, command: c.command };
  }
}

const ringToRaw = (r: KeyRing) => ({
  send_id: r.sendId,
  keys: r.keys.map((k) => ({ id: k.id, file: k.file })),
});

export function configToRaw(config: Config, opts: SerializeOptions = {}): ConfigInput {
  const c = config;
  const keys: ConfigInput['keys'] =
    c.keys.election === null
      ? undefined
      : {
          election: ringToRaw(c.keys.election),
          ...(c.keys.sync && c.keys.sync !== c.keys.election ? { sync: ringToRaw(c.keys.sync) } : {}),
        };
  return {
    node: {
      id: c.node.id,
      priority: c.node.priority,
      ...(c.node.address === null ? {} : { address: c.node.address }),
      state_dir: c.node.stateDir,
    },
    election: {
      transport: c.election.transport,
      port: c.election.port,
      ...(c.election.multicast === null ? {} : { multicast: { ...c.election.multicast } }),
    },
    peers: c.peers.map((p) => ({ id: p.id, address: p.address, port: p.port })),
    interfaces: c.interfaces.map((i) => ({ name: i.name, xdp_mode: i.xdpMode })),
    forwarder: { pin_dir: c.forwarder.pinDir, syn_only: c.forwarder.synOnly },
    vip_groups: c.vipGroups.map((g) => ({
      name: g.name,
      id: g.id,
      interface: g.interface,
      vips: g.vips,
      priority: g.priority,
      preempt: g.preempt,
      preempt_delay_ms: g.preemptDelayMs,
      advert_interval_ms: g.advertIntervalMs,
      garp: { count: g.garp.count, interval_ms: g.garp.intervalMs, refresh_s: g.garp.refreshS },
      track: {
        forwarder: g.track.forwarder,
        interfaces: g.track.interfaces,
        scripts: g.track.scripts.map((s) => ({
          name: s.name,
          command: s.command,
          interval_ms: s.intervalMs,
          timeout_ms: s.timeoutMs,
          rise: s.rise,
          fall: s.fall,
          weight: s.weight,
        })),
        services: g.track.services,
      },
    })),
    // The named checks (health_checks entries) always carry their name.
    health_checks: c.healthChecks.map((h) => ({ name: h.name!, ...checkToRaw(h) })),
    services: c.services.map((s) => ({
      name: s.name,
      vip: s.vip,
      protocol: s.protocol,
      port: s.port,
      scheduler: { kind: s.scheduler.kind, table_size: s.scheduler.tableSize },
      ...(s.persistence === null
        ? {}
        : {
            persistence: {
              timeout_s: s.persistence.timeoutS,
              netmask_v4: s.persistence.netmaskV4,
              netmask_v6: s.persistence.netmaskV6,
            },
          }),
      min_healthy: s.minHealthy,
      ...(s.sorryServer === null ? {} : { sorry_server: s.sorryServer }),
      reschedule_on_down: s.rescheduleOnDown,
      drain: { keep_persistence: s.drain.keepPersistence, timeout_s: s.drain.timeoutS },
      // Each real server's effective check is written on the real server itself.
      real_servers: s.realServers.map((r) => ({
        address: r.address,
        weight: r.weight,
        ...(r.healthCheck === null ? {} : { health_check: r.healthCheck.name ?? checkToRaw(r.healthCheck) }),
      })),
    })),
    timers: {
      tcp_established_s: c.timers.tcpEstablishedS,
      tcp_closing_s: c.timers.tcpClosingS,
      udp_s: c.timers.udpS,
    },
    tables: {
      conn_table_size: c.tables.connTableSize,
      persistence_table_size: c.tables.persistenceTableSize,
    },
    ...(keys === undefined ? {} : { keys }),
    sync: {
      enabled: c.sync.enabled,
      port: c.sync.port,
      max_datagram_bytes: c.sync.maxDatagramBytes,
      flush_interval_ms: c.sync.flushIntervalMs,
      refresh_s: c.sync.refreshS,
      keepalive_ms: c.sync.keepaliveMs,
      lag_alert_ms: c.sync.lagAlertMs,
      peers: c.sync.peers.map((p) => ({ id: p.id, address: p.address, port: p.port })),
    },
    metrics: {
      enabled: c.metrics.enabled,
      listen: formatEndpoint({ address: c.metrics.host, port: c.metrics.port }),
      path: c.metrics.path,
    },
    admin: {
      socket: c.admin.socket,
      ...(c.admin.group === null ? {} : { group: c.admin.group }),
      mode: `0${c.admin.mode.toString(8).padStart(3, '0')}`,
    },
    log: { level: c.log.level },
    alerts: {
      heartbeat_s: c.alerts.heartbeatS,
      queue_dir: c.alerts.queueDir,
      queue_max_events: c.alerts.queueMaxEvents,
      targets: c.alerts.targets.map((t) => ({
        name: t.name,
        kind: t.kind,
        ...(t.urlFile !== null
          ? { url_file: t.urlFile }
          : { url: opts.includeInlineUrls ? t.url.text() : String(t.url) }),
        ...(t.secretFile === null ? {} : { secret_file: t.secretFile }),
        events: t.events,
        timeout_ms: t.timeoutMs,
        max_attempts: t.maxAttempts,
        backoff_initial_ms: t.backoffInitialMs,
        backoff_max_ms: t.backoffMaxMs,
      })),
    },
  };
}

export function serializeConfig(config: Config, opts: SerializeOptions = {}): string {
  return serializeConfigInput(configToRaw(config, opts));
}

/** A config document → YAML; loading the text gives the Config the schema builds from `input`. */
export function serializeConfigInput(input: ConfigInput): string {
  return stringify(input, { lineWidth: 0 });
}
