/**
 * `dsrd --check` and `dsrctl config check FILE`: validate a file completely (schema, cross-field
 * rules, the files it names) and say so in a form a person or a script can use, like
 * `keepalived -t` or `haproxy -c`. Exit status is the caller's: 0 when `ok`, else 1.
 */

import { isDsrError } from '../core/errors.ts';
import { configFingerprint } from './fingerprint.ts';
import { type ConfigIssue, formatConfigIssues } from './issues.ts';
import { loadConfig, type ParseOptions } from './load.ts';
import type { Config } from './types.ts';

export interface CheckResult {
  ok: boolean;
  file: string;
  /** Every issue found; empty when ok. */
  issues: ConfigIssue[];
  /** One line for people: what the file configures (ok), or how many errors it has. */
  summary: string;
  /** `file:line:col: path: message` lines, sorted by position. */
  lines: string[];
  /** Present when ok. */
  fingerprint?: string;
  config?: Config;
}

export function summarizeConfig(config: Config): string {
  const vips = config.vipGroups.reduce((n, g) => n + g.vips.length, 0);
  const rs = config.services.reduce((n, s) => n + s.realServers.length, 0);
  const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  return [
    `node ${config.node.id}`,
    plural(config.peers.length, 'peer'),
    `${plural(config.vipGroups.length, 'VIP group')} (${plural(vips, 'VIP')})`,
    `${plural(config.services.length, 'service')} (${plural(rs, 'real server')})`,
    `fingerprint ${configFingerprint(config).slice(0, 16)}`,
  ].join(', ');
}

export async function checkConfigFile(file: string, opts: ParseOptions = {}): Promise<CheckResult> {
  try {
    const config = await loadConfig(file, opts);
    return {
      ok: true,
      file,
      issues: [],
      summary: `${file}: configuration is valid: ${summarizeConfig(config)}`,
      lines: [],
      fingerprint: configFingerprint(config),
      config,
    };
  } catch (e) {
    if (!isDsrError(e)) throw e;
    const issues = (e.context.errors as ConfigIssue[] | undefined) ?? [];
    return {
      ok: false,
      file,
      issues,
      summary: `${file}: ${issues.length} error${issues.length === 1 ? '' : 's'} (${e.code})`,
      lines: formatConfigIssues(issues),
    };
  }
}
