/**
 * Admin command names and the results dsrctl expects; the argument schemas are in
 * contract-args.ts. A part that answers one of these commands registers it with that schema
 * (ctx.admin.register({ name: CMD.conns, args: ConnsArgs, ... })), so the CLI and the daemon
 * cannot drift apart. This file has no runtime imports: dsrctl loads it on every run.
 */

export const CMD = {
  status: 'status',
  commands: 'commands',
  configReload: 'config.reload',
  configDiff: 'config.diff',
  logLevel: 'log.level',
  conns: 'conns',
  explain: 'explain',
} as const;

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

export interface LogLevelResult {
  level: string;
  previous: string;
}

/** A request line is at most 64 KiB (protocol.ts); the config text travels JSON-escaped inside one. */
export const MAX_DIFF_TEXT_BYTES = 48 * 1024;

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
