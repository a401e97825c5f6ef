import type { CommandModule } from '../program.ts';

interface FailoverResult {
  group: string;
  from: string;
  to: string;
  ok: boolean;
  outcome: string;
  ms: number;
}

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
      const args: Record<string, unknown> = { force: opts.force === true };
      if (opts.group !== undefined) args.group = opts.group;
      if (opts.to !== undefined) args.to = opts.to;
      const r = (await ctx.call('failover', args)) as FailoverResult;
      ctx.print(opts.json === true, r, () =>
        r.ok
          ? `VIP group ${r.group} handed over from ${r.from} to ${r.to} in ${r.ms} ms\n`
          : `handover of VIP group ${r.group} to ${r.to} FAILED: ${r.outcome}\n`,
      );
      if (!r.ok) ctx.setExit(1);
    });
};
