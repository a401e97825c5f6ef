/**
 * The admin commands the daemon core answers itself: status, commands, config.reload,
 * config.diff and log.level. Other parts register theirs (conns, explain, failover, drain...).
 */
import { dirname } from 'node:path';
import { z } from 'zod';
import { ConfigDiffArgs, LogLevelArgs } from '../admin/contract-args.ts';
import { CMD, type ConfigChangeSummary, type LogLevelResult } from '../admin/contracts.ts';
import type { CommandInfo, CommandRegistry } from '../admin/registry.ts';
import { formatConfigIssues, parseConfigText } from '../config/index.ts';
import { DsrError } from '../core/errors.ts';
import type { LogRoot } from '../core/log.ts';
import type { Reloader } from './reload.ts';
import type { DaemonStatus } from './status.ts';

export interface CoreCommandDeps {
  registry: CommandRegistry;
  status: () => DaemonStatus;
  reloader: Reloader;
  logRoot: LogRoot;
}

export function registerCoreCommands(d: CoreCommandDeps): () => void {
  const offs = [
    d.registry.register({
      name: CMD.status,
      summary: 'node, roles, peers, services and real servers',
      args: z.object({}).strict(),
      run: () => d.status(),
    }),
    d.registry.register({
      name: CMD.commands,
      summary: 'the admin commands this daemon answers',
      args: z.object({}).strict(),
      run: (): CommandInfo[] => d.registry.list(),
    }),
    d.registry.register({
      name: CMD.configReload,
      summary: 'reload the config file (as SIGHUP does)',
      args: z.object({}).strict(),
      run: (): Promise<ConfigChangeSummary> => d.reloader.reload('admin'),
    }),
    d.registry.register({
      name: CMD.configDiff,
      summary: 'what running the given config text would change',
      args: ConfigDiffArgs,
      run: ({ text, file }): ConfigChangeSummary => {
        const parsed = parseConfigText(text, file, { baseDir: dirname(file) });
        if (!parsed.ok) {
          const lines = [
            `${file}: ${parsed.issues.length} error(s) in the config`,
            ...formatConfigIssues(parsed.issues),
          ];
          throw new DsrError(parsed.code, lines.join('\n'), { file, errors: parsed.issues });
        }
        return d.reloader.preview(parsed.config);
      },
    }),
    d.registry.register({
      name: CMD.logLevel,
      summary: 'show or set the log level at runtime',
      args: LogLevelArgs,
      run: ({ level }): LogLevelResult => {
        const previous = d.logRoot.level;
        if (level === undefined) return { level: previous, previous };
        return { level: d.logRoot.setLevel(level), previous };
      },
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}
