/**
 * dsrctl drain / enable / weight: the operator's side of the health part's commands
 * (daemon/health/commands.ts). `drain --wait` shows the remaining flows counting down.
 */
import { isIP } from 'node:net';
import { InvalidArgumentError } from 'commander';
import type { DrainEntry } from '../../admin/catalogue/health.ts';
import { EXIT_FAILED } from '../../core/exit.ts';
import type { CommandModule } from '../program.ts';

function address(value: string): string {
  if (isIP(value) === 0) throw new InvalidArgumentError('expected the real server address (IPv4 or IPv6)');
  return value;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n > 604_800)
    throw new InvalidArgumentError('expected seconds, 0 to 604800');
  return n;
}

function weightArg(value: string): number | null {
  if (value === 'config') return null;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new InvalidArgumentError('expected 0-65535, or "config"');
  return n;
}

function scope(service: string | null): string {
  return service === null ? 'every service' : `service ${service}`;
}

/** ", 3 closing" when closing flows remain: forwarded until they time out, not waited for. */
function closingNote(closing: number | null): string {
  return closing === null || closing === 0 ? '' : `, ${closing} closing`;
}

export function formatDrain(e: DrainEntry): string {
  if (e.state === 'draining') {
    const left =
      e.remaining === null ? 'counting flows' : `${e.remaining} flow(s) left${closingNote(e.closing)}`;
    return `draining ${e.rs} (${scope(e.service)}): ${left}\n`;
  }
  return e.outcome === 'timeout'
    ? `drain of ${e.rs} (${scope(e.service)}) TIMED OUT with ${e.remaining ?? '?'} flow(s) left${closingNote(e.closing)}\n`
    : `drain of ${e.rs} (${scope(e.service)}) complete: no flows left${closingNote(e.closing)}\n`;
}

export const drainCommands: CommandModule = (program, ctx) => {
  program
    .command('drain')
    .description(
      'stop new flows to a real server; with --wait, until no open flow is left (closing ones are counted apart)',
    )
    .argument('<rs>', 'real server address', address)
    .option('--service <name>', 'only in this service (default: every service it is in)')
    .option(
      '--timeout <seconds>',
      'give up waiting after this long (default: the service drain.timeout_s)',
      seconds,
    )
    .option('--wait', 'wait for completion, showing the flows left')
    .option('--json', 'print the result as JSON')
    .action(
      async (rs: string, opts: { service?: string; timeout?: number; wait?: boolean; json?: boolean }) => {
        const args = { rs, service: opts.service, timeoutS: opts.timeout, wait: opts.wait === true };
        const entry = await ctx.call('drain', args, (p) => {
          if (opts.json === true) return;
          const t = p.secondsLeft === null ? '' : `, ${p.secondsLeft}s before the timeout`;
          ctx.io.out(`  ${p.remaining} flow(s) left${closingNote(p.closing)}${t}\n`);
        });
        ctx.print(opts.json === true, entry, () => formatDrain(entry));
        if (entry.outcome === 'timeout') ctx.setExit(EXIT_FAILED);
      },
    );

  program
    .command('enable')
    .description('end the drain of a real server: it takes new flows again')
    .argument('<rs>', 'real server address', address)
    .option('--service <name>', 'only in this service')
    .option('--json', 'print the result as JSON')
    .action(async (rs: string, opts: { service?: string; json?: boolean }) => {
      const r = await ctx.call('enable', { rs, service: opts.service });
      ctx.print(
        opts.json === true,
        r,
        () => `${rs} takes new flows again (${scope(opts.service ?? null)})\n`,
      );
    });

  program
    .command('weight')
    .description('set the weight of a real server at runtime ("config": back to the configured weight)')
    .argument('<rs>', 'real server address', address)
    .argument('<weight>', '0-65535, or "config"', weightArg)
    .option('--service <name>', 'only in this service')
    .option('--json', 'print the result as JSON')
    .action(async (rs: string, weight: number | null, opts: { service?: string; json?: boolean }) => {
      const r = await ctx.call('weight', { rs, weight, service: opts.service });
      ctx.print(opts.json === true, r, () =>
        weight === null
          ? `${rs} is back to its configured weight (${scope(opts.service ?? null)})\n`
          : `${rs} weight ${weight} (${scope(opts.service ?? null)})\n`,
      );
    });
};
