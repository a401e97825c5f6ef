/**
 * The catalogue: every admin command dsrd answers, each with its name, summary, argument schema,
 * result type and progress events (entry.ts). A part answers one with
 * `ctx.admin.handle(CATALOGUE.drain, run)`; dsrctl calls it with `ctx.call('drain', args)`. Both
 * sides take the types from here, so they cannot drift apart.
 *
 * The schemas make this file the daemon's side: dsrctl imports it for types only, so it never
 * loads zod (the result types are in the files beside this one).
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import type { AlertTestResult } from './alerts.ts';
import { type ConfigChangeSummary, type LogLevelResult, MAX_DIFF_TEXT_BYTES } from './config.ts';
import type { DrillProgress, DrillReport } from './drill.ts';
import type { FailoverProgress, FailoverResult, MaintenanceResult } from './election.ts';
import {
  type AdminCommand,
  type CallArgs,
  type CommandInfo,
  type CommandProgress,
  type CommandResult,
  command,
  type HandlerArgs,
} from './entry.ts';
import type { ConnsResult, ExplainResult } from './flows.ts';
import type { DrainEntry, DrainProgress, EnableResult, HealthReport, WeightResult } from './health.ts';
import type { DaemonStatus } from './status.ts';

const noArgs = z.object({}).strict();
const ip = (what: string) => z.string().refine((s) => isIP(s) !== 0, { error: `expected ${what}` });
const port = z.number().int().min(0).max(65535);
const realServer = ip('the real server address (IPv4 or IPv6)');
const serviceName = z.string().min(1).max(256);
/** A name from the config: node, VIP group, alert target. */
const configName = z.string().min(1).max(63);

export const CATALOGUE = {
  // ---- the daemon core (daemon/commands.ts)
  status: command<DaemonStatus>()({
    name: 'status',
    summary: 'node, roles, peers, services and real servers',
    args: noArgs,
  }),
  commands: command<CommandInfo[]>()({
    name: 'commands',
    summary: 'the admin commands this daemon answers',
    args: noArgs,
  }),
  configReload: command<ConfigChangeSummary>()({
    name: 'config.reload',
    summary: 'reload the config file (as SIGHUP does)',
    args: noArgs,
  }),
  configDiff: command<ConfigChangeSummary>()({
    name: 'config.diff',
    summary: 'what running the given config text would change',
    args: z
      .object({
        /** Text of the candidate config (dsrctl reads the file with the operator's own permissions). */
        text: z.string().max(MAX_DIFF_TEXT_BYTES),
        /** File name for error positions, and the base for relative paths inside it. */
        file: z.string().min(1).max(4096),
      })
      .strict(),
  }),
  logLevel: command<LogLevelResult>()({
    name: 'log.level',
    summary: 'show or set the log level at runtime',
    /** No level: just report the current one. */
    args: z.object({ level: z.string().min(1).max(10).optional() }).strict(),
  }),

  // ---- the forwarder (daemon/forwarder/part.ts)
  conns: command<ConnsResult>()({
    name: 'conns',
    summary: 'entries of the connection table',
    args: z
      .object({
        /** Service name. */
        service: z.string().min(1).max(63).optional(),
        /** Client address; a CIDR prefix is allowed ("198.18.0.0/24"). */
        client: z.string().min(1).max(64).optional(),
        limit: z.number().int().min(1).max(1_000_000).default(1000),
      })
      .strict(),
  }),
  explain: command<ExplainResult>()({
    name: 'explain',
    summary: 'which real server a flow goes to, and why',
    args: z
      .object({
        client: ip('an IPv4 or IPv6 address'),
        clientPort: port,
        vip: ip('an IPv4 or IPv6 address'),
        vipPort: port,
        protocol: z.enum(['tcp', 'udp']),
      })
      .strict(),
  }),

  // ---- health checks and drains (daemon/health/commands.ts)
  drain: command<DrainEntry, DrainProgress>()({
    name: 'drain',
    summary: 'stop new flows to a real server and report when its flows are gone',
    args: z
      .object({
        rs: realServer,
        service: serviceName.optional(),
        /** Seconds; default the service's drain.timeout_s; 0 = no timeout. */
        timeoutS: z.number().min(0).max(604_800).optional(),
        /** Answer only once the drain completes, with progress events meanwhile. */
        wait: z.boolean().default(false),
      })
      .strict(),
  }),
  enable: command<EnableResult>()({
    name: 'enable',
    summary: 'end the drain of a real server: it takes new flows again',
    args: z.object({ rs: realServer, service: serviceName.optional() }).strict(),
  }),
  weight: command<WeightResult>()({
    name: 'weight',
    summary: 'set the weight of a real server (null: back to the configured one)',
    args: z
      .object({
        rs: realServer,
        /** As real_servers.weight in the config; null returns to that. */
        weight: z.number().int().min(0).max(65535).nullable(),
        service: serviceName.optional(),
      })
      .strict(),
  }),
  health: command<HealthReport>()({
    name: 'health',
    summary: 'health checks, services, drains and weights in detail',
    args: noArgs,
  }),

  // ---- the election and the drill (daemon/election/commands.ts, daemon/drill/part.ts)
  failover: command<FailoverResult, FailoverProgress>()({
    name: 'failover',
    summary: 'planned handover of a VIP group to a peer (make-before-break)',
    args: z
      .object({ group: configName.optional(), to: configName.optional(), force: z.boolean().default(false) })
      .strict(),
  }),
  maintenance: command<MaintenanceResult>()({
    name: 'maintenance',
    summary:
      'keep this director backup (hand its groups over, lowest priority) until turned off, across restarts',
    args: z.object({ on: z.boolean() }).strict(),
  }),
  drill: command<DrillReport, DrillProgress>()({
    name: 'drill',
    summary: 'failover drill: preflight, planned handover, verification, optional hand back',
    args: z
      .object({ group: configName.optional(), to: configName.optional(), back: z.boolean().default(false) })
      .strict(),
  }),

  // ---- alerts (daemon/alerts/part.ts)
  alertsTest: command<AlertTestResult>()({
    name: 'alerts.test',
    summary: 'send a test event to one alert target and report what it answered',
    args: z.object({ target: configName }).strict(),
  }),
} as const satisfies Record<string, AdminCommand>;

export type CatalogueEntry = (typeof CATALOGUE)[keyof typeof CATALOGUE];
export type CommandName = CatalogueEntry['name'];
type Named<N extends CommandName> = Extract<CatalogueEntry, { name: N }>;

/** What a caller sends to command N (defaults may be left out). */
export type ArgsOf<N extends CommandName> = CallArgs<Named<N>>;
/** What N's handler gets: checked, defaults filled in. */
export type ParsedArgsOf<N extends CommandName> = HandlerArgs<Named<N>>;
export type ResultOf<N extends CommandName> = CommandResult<Named<N>>;
export type ProgressOf<N extends CommandName> = CommandProgress<Named<N>>;
