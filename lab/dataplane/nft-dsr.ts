/**
 * The nftables peer of the forwarder benchmark: a DSR director made of one
 * netdev ingress rule. Frames for the VIP's UDP service get the director's
 * source MAC and a real server's destination MAC, picked by a jhash of the
 * client address and port, and leave by the same interface (`fwd`). No
 * connection table and no persistence: this is the cheapest job nftables can
 * do for DSR, which is what our program is compared with.
 */
import type { Host } from '../index.ts';
import { runIn } from '../index.ts';

const TABLE = 'dsrbench';

export function nftDsrRuleset(opts: {
  director: Host;
  reals: readonly Host[];
  vip: string;
  port: number;
}): string {
  const map = opts.reals.map((r, i) => `${i} : ${r.mac}`).join(', ');
  return [
    `table netdev ${TABLE} {`,
    '  chain ingress {',
    `    type filter hook ingress device "${opts.director.ifname}" priority 0; policy accept;`,
    `    ip daddr ${opts.vip} udp dport ${opts.port} ether saddr set ${opts.director.mac} ` +
      `ether daddr set jhash ip saddr . udp sport mod ${opts.reals.length} map { ${map} } ` +
      `fwd to "${opts.director.ifname}"`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Installs the rule on the director; the returned function removes it. */
export async function installNftDsr(opts: {
  director: Host;
  reals: readonly Host[];
  vip: string;
  port: number;
}): Promise<() => Promise<void>> {
  await runIn(opts.director.netns, 'nft', ['-f', '-'], { input: nftDsrRuleset(opts) });
  return async () => {
    await runIn(opts.director.netns, 'nft', ['delete', 'table', 'netdev', TABLE], { allowFailure: true });
  };
}
