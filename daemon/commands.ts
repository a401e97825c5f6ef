/**
 * The admin commands the daemon core answers itself: status, commands, config.reload,
 * config.diff and log.level. Other parts answer theirs (conns, explain, failover, drain...).
 */
import { dirname } from 'node:path';
import { CATALOGUE } from '../admin/catalogue/commands.ts';
import type { DaemonStatus } from '../admin/catalogue/status.ts';
import type { CommandRegistry } from '../admin/registry.ts';
import { formatConfigIssues, parseConfigText } from '../config/index.ts';
import { DsrError } from '../core/errors.ts';
import type { LogRoot } from '../core/log.ts';
import type { Reloader } from './reload.ts';

export interface CoreCommandDeps {
  registry: CommandRegistry;
  status: () => DaemonStatus;
  reloader: Reloader;
  logRoot: LogRoot;
}

export function registerCoreCommands(d: CoreCommandDeps): () => void {
  const offs = [
    d.registry.handle(CATALOGUE.status, () => d.status()),
    d.registry.handle(CATALOGUE.commands, () => d.registry.list()),
    d.registry.handle(CATALOGUE.configReload, () => d.reloader.reload('admin')),
    d.registry.handle(CATALOGUE.configDiff, ({ text, file }) => {
      const parsed = parseConfigText(text, file, { baseDir: dirname(file) });
      if (!parsed.ok) {
        const lines = [
          `${file}: ${parsed.issues.length} error(s) in the config`,
          ...formatConfigIssues(parsed.issues),
        ];
        throw new DsrError(parsed.code, lines.join('\n'), { file, errors: parsed.issues });
      }
      return d.reloader.preview(parsed.config);
    }),
    d.registry.handle(CATALOGUE.logLevel, ({ level }) => {
      const previous = d.logRoot.level;
      if (level === undefined) return { level: previous, previous };
      return { level: d.logRoot.setLevel(level), previous };
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}
