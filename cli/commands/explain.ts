import { InvalidArgumentError } from 'commander';
import type { ExplainResult } from '../../admin/catalogue/flows.ts';
import { type Endpoint, parseEndpoint } from '../../core/net/endpoint.ts';
import type { CommandModule } from '../program.ts';

interface ServiceEndpoint extends Endpoint {
  protocol: 'tcp' | 'udp';
}

/** VIP:PORT/PROTO: "198.18.0.200:80/tcp", "[2001:2::10]:53/udp". */
function parseServiceEndpoint(text: string): ServiceEndpoint | string {
  const slash = text.lastIndexOf('/');
  if (slash === -1) return `"${text}" needs a protocol: ADDRESS:PORT/tcp or ADDRESS:PORT/udp`;
  const protocol = text.slice(slash + 1).toLowerCase();
  if (protocol !== 'tcp' && protocol !== 'udp')
    return `protocol "${text.slice(slash + 1)}" is not tcp or udp`;
  const ep = parseEndpoint(text.slice(0, slash));
  return typeof ep === 'string' ? ep : { ...ep, protocol };
}

function endpointArg(value: string): Endpoint {
  const ep = parseEndpoint(value);
  if (typeof ep === 'string') throw new InvalidArgumentError(ep);
  return ep;
}

function serviceArg(value: string): ServiceEndpoint {
  const ep = parseServiceEndpoint(value);
  if (typeof ep === 'string') throw new InvalidArgumentError(ep);
  return ep;
}

export function formatExplain(r: ExplainResult): string {
  const head =
    r.realServer === null
      ? `no real server: ${r.service === null ? 'no service matches' : `service ${r.service} has none available`}\n`
      : `-> ${r.realServer} (service ${r.service}, via ${r.via})\n`;
  return head + r.steps.map((s, i) => `  ${i + 1}. ${s}\n`).join('');
}

export const explainCommand: CommandModule = (program, ctx) => {
  program
    .command('explain')
    .description('which real server a flow goes to, and why (connection table, persistence or hash)')
    .argument('<client>', 'CLIENT:PORT, e.g. 198.18.0.10:40000 or [2001:2::10]:40000', endpointArg)
    .argument('<service>', 'VIP:PORT/PROTO, e.g. 198.18.0.200:80/tcp', serviceArg)
    .option('--json', 'print as JSON')
    .action(async (client: Endpoint, service: ServiceEndpoint, opts: { json?: boolean }) => {
      const result = await ctx.call('explain', {
        client: client.address,
        clientPort: client.port,
        vip: service.address,
        vipPort: service.port,
        protocol: service.protocol,
      });
      ctx.print(opts.json === true, result, () => formatExplain(result));
    });
};
