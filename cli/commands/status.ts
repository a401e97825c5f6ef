import { formatStatus } from '../format/status.ts';
import type { CommandModule } from '../program.ts';

export const statusCommand: CommandModule = (program, ctx) => {
  program
    .command('status')
    .description('node, role per VIP group, peers, services and real servers (like ipvsadm -L -n)')
    .option('--json', 'print the full status as JSON')
    .action(async (opts: { json?: boolean }) => {
      const status = await ctx.call('status', {});
      ctx.print(opts.json === true, status, () => formatStatus(status));
    });
};
