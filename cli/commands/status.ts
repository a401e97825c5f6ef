import { EXIT_FAILED } from '../../core/exit.ts';
import { formatStatus } from '../format/status.ts';
import type { CommandModule } from '../program.ts';
import { statusProblems } from '../status-health.ts';

export const statusCommand: CommandModule = (program, ctx) => {
  program
    .command('status')
    .description(
      'node, role per VIP group, peers, services and real servers (like ipvsadm -L -n); exits 1 when a part is not running or a group is in Fault',
    )
    .option('--json', 'print the full status as JSON')
    .action(async (opts: { json?: boolean }) => {
      const status = await ctx.call('status', {});
      ctx.print(opts.json === true, status, () => formatStatus(status));
      const problems = statusProblems(status);
      if (problems.length > 0) {
        ctx.io.err(`dsrctl: not healthy: ${problems.join('; ')}\n`);
        ctx.setExit(EXIT_FAILED);
      }
    });
};
