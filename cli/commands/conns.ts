import { InvalidArgumentError } from 'commander';
import type { ConnsResult } from '../../admin/catalogue/flows.ts';
import { hostPort, table } from '../format/table.ts';
import type { CommandModule } from '../program.ts';

function positiveInt(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 1_000_000)
    throw new InvalidArgumentError('expected an integer from 1 to 1000000');
  return n;
}

export function formatConns(r: ConnsResult): string {
  if (r.entries.length === 0) return 'no connections\n';
  const rows = [
    ['Prot', 'Client', 'VIP', 'Real server', 'Service', 'State', 'Expires'],
    ...r.entries.map((e) => [
      e.protocol.toUpperCase(),
      hostPort(e.client, e.clientPort),
      hostPort(e.vip, e.vipPort),
      e.realServer,
      e.service,
      e.state,
      `${e.expiresS}s`,
    ]),
  ];
  const more = r.total > r.entries.length ? `(${r.total - r.entries.length} more; raise --limit)\n` : '';
  return table(rows) + more;
}

export const connsCommand: CommandModule = (program, ctx) => {
  program
    .command('conns')
    .description('list entries of the connection table')
    .option('--service <name>', 'only this service')
    .option('--client <address>', 'only this client address or prefix (198.18.0.0/24)')
    .option('--limit <n>', 'at most this many entries', positiveInt, 1000)
    .option('--json', 'print as JSON')
    .action(async (opts: { service?: string; client?: string; limit: number; json?: boolean }) => {
      const { service, client, limit } = opts;
      const result = await ctx.call('conns', { service, client, limit });
      ctx.print(opts.json === true, result, () => formatConns(result));
    });
};
