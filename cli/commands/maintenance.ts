/** `dsrctl maintenance on|off`: keep this director backup across restarts (daemon/election/maintenance.ts). */
import { usage } from '../../core/exit.ts';
import type { CommandModule } from '../program.ts';

export const maintenanceCommand: CommandModule = (program, ctx) => {
  program
    .command('maintenance')
    .description(
      "on: hand this director's VIP groups to the peer and keep it backup, across restarts; off: back to its priorities",
    )
    .argument('<on|off>', 'on or off')
    .option('--json', 'print the result as JSON')
    .action(async (state: string, opts: { json?: boolean }) => {
      if (state !== 'on' && state !== 'off') throw usage(`maintenance ${state}: say on or off`);
      const r = await ctx.call('maintenance', { on: state === 'on' });
      ctx.print(opts.json === true, r, () => {
        const head = r.on
          ? `maintenance on since ${r.since}: this director stays backup\n`
          : 'maintenance off\n';
        return head + r.groups.map((g) => `  ${g.group}: ${g.action}\n`).join('');
      });
      if (r.groups.some((g) => !g.ok)) ctx.setExit(1);
    });
};
