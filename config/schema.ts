/**
 * The one schema of dsrd.yaml. Keys are snake_case as written in the file; every object is
 * strict (an unknown key is an error, which catches typos such as `prempt`). Defaults come from
 * defaults.ts. Rules between fields of one entry are attached here (schema-rules.ts); rules
 * across entries and sections live in semantic.ts.
 */
import { z } from 'zod';
import { ALERT_EVENTS } from './alert-events.ts';
import { DEFAULTS } from './defaults.ts';
import {
  absolutePath,
  argv,
  fileMode,
  filePath,
  flag,
  hostPort,
  httpUrl,
  ifName,
  intIn,
  isPrime,
  multicastAddress,
  name,
  oneOf,
  parseStatusRange,
  regexText,
  unicastAddress,
} from './schema-parts.ts';
import { alertTargetRules, healthCheckRules, timeoutWithinInterval } from './schema-rules.ts';
import { DNS_RCODES, DNS_TYPES } from './types.ts';

const D = DEFAULTS;
const port = () => intIn(1, 65535, 'a port from 1 to 65535');
const weight = () => intIn(0, 253, 'a weight from 0 (fault) to 253');
const ms = (min: number, max: number) => intIn(min, max, `milliseconds from ${min} to ${max}`);
const seconds = (min: number, max: number) => intIn(min, max, `seconds from ${min} to ${max}`);

const NodeSchema = z.strictObject({
  id: name(),
  priority: intIn(1, 254).default(D.node.priority),
  role: oneOf(['director', 'witness']).default(D.node.role),
  address: unicastAddress().optional(),
  state_dir: absolutePath().default(D.node.state_dir),
});

const RaftSchema = z.strictObject({
  port: port().default(D.election.raft.port),
  election_timeout_ms: ms(10, 60_000).default(D.election.raft.election_timeout_ms),
  election_jitter_ms: ms(0, 60_000).default(D.election.raft.election_jitter_ms),
  heartbeat_interval_ms: ms(1, 10_000).default(D.election.raft.heartbeat_interval_ms),
});

const ElectionSchema = z.strictObject({
  mode: oneOf(['vrrp', 'raft']).default(D.election.mode),
  raft: RaftSchema.prefault({}),
  transport: oneOf(['unicast', 'multicast']).default(D.election.transport),
  port: port().default(D.election.port),
  multicast: z
    .strictObject({
      group: multicastAddress().default(D.election.multicast.group),
      ttl: intIn(1, 255).default(D.election.multicast.ttl),
      interface: ifName().optional(),
    })
    .prefault({}),
});

const PeerSchema = z.strictObject({
  id: name(),
  address: unicastAddress(),
  port: port().optional(),
  /** Quorum mode: a voter that holds no log and never leads (docs/quorum.md). */
  witness: flag().default(D.peers.witness),
});

const InterfaceSchema = z.strictObject({
  name: ifName(),
  xdp_mode: oneOf(['native', 'generic', 'auto']).default(D.interfaces.xdp_mode),
});

const ForwarderSchema = z.strictObject({
  pin_dir: absolutePath().default(D.forwarder.pin_dir),
  syn_only: flag().default(D.forwarder.syn_only),
});

const TrackSchema = z.strictObject({
  forwarder: flag().default(D.vip_groups.track.forwarder),
  interfaces: z
    .array(
      z.strictObject({
        name: ifName(),
        weight: weight().default(D.vip_groups.track.interfaces.weight),
      }),
    )
    .default([]),
  scripts: z
    .array(
      z
        .strictObject({
          name: name(),
          command: argv(),
          interval_ms: ms(100, 3_600_000).default(D.vip_groups.track.scripts.interval_ms),
          timeout_ms: ms(10, 3_600_000).default(D.vip_groups.track.scripts.timeout_ms),
          rise: intIn(1, 100).default(D.vip_groups.track.scripts.rise),
          fall: intIn(1, 100).default(D.vip_groups.track.scripts.fall),
          weight: weight().default(D.vip_groups.track.scripts.weight),
        })
        .superRefine(timeoutWithinInterval),
    )
    .default([]),
  services: z
    .array(
      z.strictObject({
        name: name(),
        weight: weight().default(D.vip_groups.track.services.weight),
      }),
    )
    .default([]),
});

const VipGroupSchema = z.strictObject({
  name: name(),
  // Like a VRRP VRID (RFC 5798 §5.2.3): one octet, 0 reserved.
  id: intIn(1, 255),
  interface: ifName().optional(),
  vips: z.array(unicastAddress(), { error: 'expected a list of addresses' }).min(1, {
    error: 'expected at least one VIP',
  }),
  // RFC 5798 §5.2.4: 255 is reserved for the address owner, 0 for resigning.
  priority: intIn(1, 254).optional(),
  preempt: flag().default(D.vip_groups.preempt),
  preempt_delay_ms: ms(0, 3_600_000).default(D.vip_groups.preempt_delay_ms),
  // RFC 5798 §5.2.7: a 12-bit count of centiseconds, so at most 40.95 s.
  advert_interval_ms: ms(10, 40_950).default(D.vip_groups.advert_interval_ms),
  garp: z
    .strictObject({
      count: intIn(1, 100).default(D.vip_groups.garp.count),
      interval_ms: ms(0, 10_000).default(D.vip_groups.garp.interval_ms),
      refresh_s: seconds(0, 86_400).default(D.vip_groups.garp.refresh_s),
    })
    .prefault({}),
  track: TrackSchema.prefault({}),
});

const HC = D.health_checks;
const checkCommon = {
  interval_ms: ms(100, 3_600_000).default(HC.interval_ms),
  timeout_ms: ms(10, 3_600_000).default(HC.timeout_ms),
  rise: intIn(1, 100).default(HC.rise),
  fall: intIn(1, 100).default(HC.fall),
};
const STATUS_WANTED = 'expected an HTTP status or range such as 200 or "200-399"';
const statusRange = z
  .union([z.number(), z.string()], { error: STATUS_WANTED })
  .refine((v) => parseStatusRange(v) !== null, { error: STATUS_WANTED });
const httpFields = {
  port: port().optional(),
  method: oneOf(['GET', 'HEAD']).default(HC.http.method),
  path: z
    .string({ error: 'expected a URL path starting with "/"' })
    .refine((s) => s.startsWith('/'), { error: 'expected a URL path starting with "/"' })
    .default(HC.http.path),
  host: z.string({ error: 'expected a host name' }).min(1, { error: 'expected a host name' }).optional(),
  expect_status: statusRange.default(HC.http.expect_status),
  body_regex: regexText().optional(),
};

function checkKinds<T extends z.core.$ZodShape>(extra: T) {
  return z.discriminatedUnion(
    'kind',
    [
      z.strictObject({ ...extra, kind: z.literal('tcp'), ...checkCommon, port: port().optional() }),
      z.strictObject({ ...extra, kind: z.literal('http'), ...checkCommon, ...httpFields }),
      z.strictObject({
        ...extra,
        kind: z.literal('https'),
        ...checkCommon,
        ...httpFields,
        sni: z.string({ error: 'expected a host name' }).min(1, { error: 'expected a host name' }).optional(),
        tls_verify: flag().default(HC.https.tls_verify),
        ca_file: filePath().optional(),
      }),
      z.strictObject({
        ...extra,
        kind: z.literal('udp'),
        ...checkCommon,
        port: port().optional(),
        send: z.string({ error: 'expected a string' }).optional(),
        send_hex: z
          .string({ error: 'expected hex digits' })
          .regex(/^([0-9a-fA-F]{2})*$/, { error: 'expected an even number of hex digits' })
          .optional(),
        expect_regex: regexText().optional(),
      }),
      z.strictObject({
        ...extra,
        kind: z.literal('dns'),
        ...checkCommon,
        port: port().default(HC.dns.port),
        query: z
          .string({ error: 'expected a DNS name' })
          .regex(/^([A-Za-z0-9_-]{1,63}\.)*[A-Za-z0-9_-]{0,63}\.?$/, { error: 'expected a DNS name' })
          .min(1, { error: 'expected a DNS name' }),
        type: oneOf(DNS_TYPES).default(HC.dns.type),
        expect_rcode: oneOf(DNS_RCODES).default(HC.dns.expect_rcode),
      }),
      z.strictObject({ ...extra, kind: z.literal('exec'), ...checkCommon, command: argv() }),
    ],
    { error: 'expected kind: one of tcp, http, https, udp, dns, exec' },
  );
}

export const HEALTH_CHECK_KINDS = ['tcp', 'http', 'https', 'udp', 'dns', 'exec'] as const;
const NamedHealthCheckSchema = checkKinds({ name: name() }).superRefine(healthCheckRules);
const InlineHealthCheckSchema = checkKinds({}).superRefine(healthCheckRules);
const HealthCheckRefSchema = z.union([name(), InlineHealthCheckSchema], {
  error: 'expected the name of a health_checks entry or an inline check (a map with kind)',
});

const RealServerSchema = z.strictObject({
  address: unicastAddress(),
  weight: intIn(0, 65535).default(D.services.real_servers.weight),
  health_check: HealthCheckRefSchema.optional(),
});

const ServiceSchema = z.strictObject({
  name: name(),
  vip: unicastAddress(),
  protocol: oneOf(['tcp', 'udp']),
  port: intIn(0, 65535, 'a port from 0 (every port) to 65535'),
  scheduler: z
    .strictObject({
      kind: oneOf(['maglev']).default(D.services.scheduler.kind),
      table_size: intIn(3, 16_777_213, 'a prime table size from 3 to 16777213')
        .refine(isPrime, { error: 'expected a prime table size (Maglev needs a prime), such as 65537' })
        .default(D.services.scheduler.table_size),
    })
    .prefault({}),
  persistence: z
    .strictObject({
      timeout_s: seconds(1, 604_800).default(D.services.persistence.timeout_s),
      netmask_v4: intIn(0, 32, 'a prefix length from 0 to 32').default(D.services.persistence.netmask_v4),
      netmask_v6: intIn(0, 128, 'a prefix length from 0 to 128').default(D.services.persistence.netmask_v6),
    })
    .optional(),
  min_healthy: intIn(0, 65535).default(D.services.min_healthy),
  sorry_server: unicastAddress().optional(),
  reschedule_on_down: flag().default(D.services.reschedule_on_down),
  drain: z
    .strictObject({
      keep_persistence: flag().default(D.services.drain.keep_persistence),
      timeout_s: seconds(1, 604_800).default(D.services.drain.timeout_s),
    })
    .prefault({}),
  health_check: HealthCheckRefSchema.optional(),
  real_servers: z
    .array(RealServerSchema, { error: 'expected a list of real servers' })
    .min(1, { error: 'expected at least one real server' }),
});

const TimersSchema = z.strictObject({
  tcp_established_s: seconds(1, 604_800).default(D.timers.tcp_established_s),
  tcp_closing_s: seconds(1, 86_400).default(D.timers.tcp_closing_s),
  udp_s: seconds(1, 86_400).default(D.timers.udp_s),
});

const TablesSchema = z.strictObject({
  conn_table_size: intIn(1024, 134_217_728).default(D.tables.conn_table_size),
  persistence_table_size: intIn(1024, 67_108_864).default(D.tables.persistence_table_size),
});

const KeyRingSchema = z.strictObject({
  send_id: intIn(1, 255).optional(),
  // Two keys at once is what a rotation needs: accept old + new, switch sending, drop old.
  keys: z
    .array(z.strictObject({ id: intIn(1, 255), file: filePath() }), { error: 'expected a list of keys' })
    .min(1, { error: 'expected one or two keys' })
    .max(2, { error: 'expected one or two keys (two only while rotating)' }),
});

const KeysSchema = z.strictObject({
  election: KeyRingSchema,
  sync: KeyRingSchema.optional(),
});

const SyncSchema = z.strictObject({
  enabled: flag().default(D.sync.enabled),
  port: port().default(D.sync.port),
  max_datagram_bytes: intIn(512, 9000).default(D.sync.max_datagram_bytes),
  flush_interval_ms: ms(1, 50).default(D.sync.flush_interval_ms),
  refresh_s: seconds(5, 3600).default(D.sync.refresh_s),
  keepalive_ms: ms(100, 60_000).default(D.sync.keepalive_ms),
  lag_alert_ms: ms(1, 3_600_000).default(D.sync.lag_alert_ms),
  peers: z
    .array(
      z.strictObject({
        id: name(),
        address: unicastAddress().optional(),
        port: port().optional(),
      }),
    )
    .optional(),
});

const MetricsSchema = z.strictObject({
  enabled: flag().default(D.metrics.enabled),
  listen: hostPort().default(D.metrics.listen),
  path: z
    .string({ error: 'expected a URL path starting with "/"' })
    .regex(/^\/[A-Za-z0-9._~/-]*$/, { error: 'expected a URL path starting with "/"' })
    .default(D.metrics.path),
});

const AdminSchema = z.strictObject({
  socket: absolutePath().default(D.admin.socket),
  group: z
    .string({ error: 'expected a group name' })
    .regex(/^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/, { error: 'expected a group name' })
    .optional(),
  mode: fileMode().default(D.admin.mode),
});

const LogSchema = z.strictObject({
  level: oneOf(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default(D.log.level),
});

const T = D.alerts.targets;
const AlertTargetSchema = z
  .strictObject({
    name: name(),
    kind: oneOf(['generic', 'slack', 'alertmanager']),
    url: httpUrl().optional(),
    url_file: filePath().optional(),
    secret_file: filePath().optional(),
    events: z
      .array(oneOf(ALERT_EVENTS), { error: 'expected a list of event names' })
      .min(1, { error: 'expected at least one event (omit the key for every event)' })
      .optional(),
    timeout_ms: ms(100, 60_000).default(T.timeout_ms),
    max_attempts: intIn(1, 1000).default(T.max_attempts),
    backoff_initial_ms: ms(10, 3_600_000).default(T.backoff_initial_ms),
    backoff_max_ms: ms(10, 86_400_000).default(T.backoff_max_ms),
  })
  .superRefine(alertTargetRules);

const AlertsSchema = z.strictObject({
  heartbeat_s: seconds(0, 86_400).default(D.alerts.heartbeat_s),
  queue_dir: absolutePath().default(D.alerts.queue_dir),
  queue_max_events: intIn(1, 1_000_000).default(D.alerts.queue_max_events),
  targets: z.array(AlertTargetSchema, { error: 'expected a list of alert targets' }).default([]),
});

const list = <T extends z.ZodType>(item: T, what: string) =>
  z.array(item, { error: `expected a list of ${what}` });

/**
 * Sections of the file. The loader parses each section on its own (so a broken `alerts` does not
 * hide the errors of `services`) and reports top-level keys that are not listed here.
 */
export const ConfigSchema = z.strictObject({
  node: NodeSchema,
  election: ElectionSchema.prefault({}),
  peers: list(PeerSchema, 'peers').default([]),
  // At least one each on a director, none on a witness (semantic.ts).
  interfaces: list(InterfaceSchema, 'interfaces').optional(),
  forwarder: ForwarderSchema.prefault({}),
  vip_groups: list(VipGroupSchema, 'VIP groups').optional(),
  health_checks: list(NamedHealthCheckSchema, 'health checks').default([]),
  services: list(ServiceSchema, 'services').default([]),
  timers: TimersSchema.prefault({}),
  tables: TablesSchema.prefault({}),
  keys: KeysSchema.optional(),
  sync: SyncSchema.prefault({}),
  metrics: MetricsSchema.prefault({}),
  admin: AdminSchema.prefault({}),
  log: LogSchema.prefault({}),
  alerts: AlertsSchema.prefault({}),
});

export type RawConfig = z.output<typeof ConfigSchema>;
/**
 * The file's document as a program writes it: snake_case keys, every field with a default
 * optional (the schema's input). serializeConfigInput() turns it into YAML.
 */
export type ConfigInput = z.input<typeof ConfigSchema>;
export type RawService = RawConfig['services'][number];
export type RawVipGroup = NonNullable<RawConfig['vip_groups']>[number];
export type RawHealthCheck = z.output<typeof InlineHealthCheckSchema>;
export type InlineHealthCheckInput = z.input<typeof InlineHealthCheckSchema>;
export type RawNamedHealthCheck = z.output<typeof NamedHealthCheckSchema>;
export type RawHealthCheckRef = z.output<typeof HealthCheckRefSchema>;
export type RawKeyRing = z.output<typeof KeyRingSchema>;
export type RawAlertTarget = z.output<typeof AlertTargetSchema>;
export type SectionName = keyof RawConfig;
export const SECTION_NAMES = Object.keys(ConfigSchema.shape) as SectionName[];
