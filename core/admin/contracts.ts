/**
 * Admin commands whose handler lives in a part other than the daemon core, with the arguments
 * dsrctl sends and the result it expects. The part that answers a command registers it with
 * these schemas (ctx.admin.register({ name: CMD.conns, args: ConnsArgs, ... })), so the CLI and
 * the daemon cannot drift apart.
 */
import { isIP } from 'node:net';
import { z } from 'zod';

export const CMD = {
  status: 'status',
  commands: 'commands',
  configReload: 'config.reload',
  configDiff: 'config.diff',
  logLevel: 'log.level',
  conns: 'conns',
  explain: 'explain',
} as const;

const ip = z.string().refine((s) => isIP(s) !== 0, { error: 'expected an IPv4 or IPv6 address' });
const port = z.number().int().min(0).max(65535);

export const ConnsArgs = z
  .object({
    /** Service name. */
    service: z.string().min(1).max(63).optional(),
    /** Client address; a CIDR prefix is allowed ("198.18.0.0/24"). */
    client: z.string().min(1).max(64).optional(),
    limit: z.number().int().min(1).max(1_000_000).default(1000),
  })
  .strict();
export type ConnsArgs = z.infer<typeof ConnsArgs>;

export interface ConnEntry {
  service: string;
  protocol: 'tcp' | 'udp';
  client: string;
  clientPort: number;
  vip: string;
  vipPort: number;
  realServer: string;
  /** e.g. "established", "closing", "udp". */
  state: string;
  /** Seconds until the entry expires if no packet refreshes it. */
  expiresS: number;
}

export interface ConnsResult {
  entries: ConnEntry[];
  /** Entries matching the filter, before `limit` cut the list. */
  total: number;
}

export const ExplainArgs = z
  .object({
    client: ip,
    clientPort: port,
    vip: ip,
    vipPort: port,
    protocol: z.enum(['tcp', 'udp']),
  })
  .strict();
export type ExplainArgs = z.infer<typeof ExplainArgs>;

export interface ExplainResult {
  /** The service that matches VIP:port/proto, or null (the packet is passed to the kernel). */
  service: string | null;
  /** Real server the flow goes to; null when no real server can take it. */
  realServer: string | null;
  /** How it was chosen: the connection table, persistence, the Maglev hash, the sorry server, or nothing. */
  via: 'conn-table' | 'persistence' | 'hash' | 'sorry-server' | 'none';
  /** One line per step of the decision, in order. */
  steps: string[];
}

/** No level: just report the current one. */
export const LogLevelArgs = z.object({ level: z.string().min(1).max(10).optional() }).strict();
export interface LogLevelResult {
  level: string;
  previous: string;
}

/** A request line is at most 64 KiB (protocol.ts); the config text travels JSON-escaped inside one. */
export const MAX_DIFF_TEXT_BYTES = 48 * 1024;

export const ConfigDiffArgs = z
  .object({
    /** Text of the candidate config (dsrctl reads the file with the operator's own permissions). */
    text: z.string().max(MAX_DIFF_TEXT_BYTES),
    /** File name for error positions, and the base for relative paths inside it. */
    file: z.string().min(1).max(4096),
  })
  .strict();

/** What a reload did (config.reload), or what it would do (config.diff). */
export interface ConfigChangeSummary {
  /** False when the new config equals the running one (nothing to do). */
  changed: boolean;
  /** Top-level config sections that differ. */
  sections: string[];
  /** One line per change, e.g. "services.web-http.real_servers: + 198.18.200.4". */
  changes: string[];
  /** Parts the change is (or would be) handed to. */
  parts: string[];
  /** Parts that cannot apply it live (a reload would be refused). */
  needRestart: string[];
  fingerprint: string;
  /** False when the fingerprint changes, i.e. the peers must get the same change. */
  fingerprintSame: boolean;
}
