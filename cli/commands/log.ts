import { Argument } from 'commander';
import { LOG_LEVELS } from '../../core/log.ts';
import type { CommandModule } from '../program.ts';

export const logCommand: CommandModule = (program, ctx) => {
  const log = program.command('log').description('logging of the daemon');
  log
    .command('level')
    .description(
      'show or change the log level at runtime (until the next restart or a reload that sets log.level)',
    )
    .addArgument(new Argument('[level]', 'new level').choices([...LOG_LEVELS]))
    .option('--json', 'print the result as JSON')
    .action(async (level: string | undefined, opts: { json?: boolean }) => {
      const result = await ctx.call('log.level', { level });
      ctx.print(opts.json === true, result, () =>
        result.level === result.previous
          ? `log level: ${result.level}\n`
          : `log level: ${result.level} (was ${result.previous})\n`,
      );
    });
};
