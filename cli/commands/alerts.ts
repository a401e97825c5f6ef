import type { CommandModule } from '../program.ts';

export const alertsCommand: CommandModule = (program, ctx) => {
  const alerts = program.command('alerts').description('alert webhooks');
  alerts
    .command('test')
    .description('send a test event to one alert target and report what it answered')
    .argument('<target>', 'target name from alerts.targets in the config')
    .option('--json', 'print the result as JSON')
    .action(async (target: string, opts: { json?: boolean }) => {
      const r = await ctx.call('alerts.test', { target });
      ctx.print(opts.json === true, r, () =>
        r.ok
          ? `test event ${r.eventId} delivered to ${r.target}${r.status === undefined ? '' : ` (HTTP ${r.status})`}\n`
          : `test event ${r.eventId} NOT delivered to ${r.target}: ${r.error ?? `HTTP ${r.status}`}\n`,
      );
      if (!r.ok) ctx.setExit(1);
    });
};
