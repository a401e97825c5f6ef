import type { CommandModule } from '../program.ts';

export const failoverCommand: CommandModule = (program, ctx) => {
  program
    .command('failover')
    .description(
      'planned handover of a VIP group from this director (its master) to a peer, make-before-break',
    )
    .option('--group <name>', 'VIP group (needed when there are several)')
    .option('--to <node>', 'peer that takes over (needed when there are several)')
    .option('--force', 'hand over even to a peer running another config (fingerprint differs)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { group?: string; to?: string; force?: boolean; json?: boolean }) => {
      const { group, to } = opts;
      const r = await ctx.call('failover', { group, to, force: opts.force === true });
      ctx.print(opts.json === true, r, () =>
        r.ok
          ? `VIP group ${r.group} handed over from ${r.from} to ${r.to} in ${r.ms} ms\n`
          : `handover of VIP group ${r.group} to ${r.to} FAILED: ${r.outcome}\n`,
      );
      if (!r.ok) ctx.setExit(1);
    });
};
