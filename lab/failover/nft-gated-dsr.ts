/**
 * The keepalived directors' data plane. IPVS is not in this kernel, so each
 * director gets one nftables netdev ingress rule that does what IPVS in DR mode
 * would do for the probe's UDP service: a frame for the VIP gets the
 * director's source MAC and a real server's destination MAC and leaves by the
 * same interface (`fwd`).
 *
 * Two matches keep it as honest as IPVS about *who* forwards:
 * - `ether daddr <own MAC>`: ingress sees frames the bridge floods to every
 *   port (e.g. for a MAC whose port just went down); the IP stack would drop
 *   those as PACKET_OTHERHOST, and so must we, or a backup would "forward"
 *   during an outage.
 * - `fib daddr type local`: IPVS only handles packets to an address the host
 *   holds, so only the VIP owner forwards. A backup that still receives VIP
 *   frames (stale client ARP) drops them, exactly like a real LVS-DR backup.
 *
 * The real server is a jhash of the client address and port with a fixed seed,
 * so every director picks the same one for the probe's flow (as Maglev would).
 */
import type { Host } from '../index.ts';
import { runIn } from '../index.ts';

export const GATED_DSR_TABLE = 'dsrbench_failover';
const SEED = '0xd5d5';

export interface GatedDsrOptions {
  director: Pick<Host, 'ifname' | 'mac'>;
  reals: readonly Pick<Host, 'mac'>[];
  vip: string;
  port: number;
}

export function gatedDsrRuleset(o: GatedDsrOptions): string {
  const map = o.reals.map((r, i) => `${i} : ${r.mac}`).join(', ');
  const dev = o.director.ifname;
  return [
    `table netdev ${GATED_DSR_TABLE} {`,
    '  chain ingress {',
    `    type filter hook ingress device "${dev}" priority 0; policy accept;`,
    `    ether daddr ${o.director.mac} ip daddr ${o.vip} udp dport ${o.port} fib daddr type local ` +
      `ether saddr set ${o.director.mac} ` +
      `ether daddr set jhash ip saddr . udp sport mod ${o.reals.length} seed ${SEED} map { ${map} } ` +
      `fwd to "${dev}"`,
    '  }',
    '}',
    '',
  ].join('\n');
}

/** Installs the rule in the director's namespace; the returned function removes it. */
export async function installGatedDsr(
  director: Host,
  opts: Omit<GatedDsrOptions, 'director'>,
): Promise<() => Promise<void>> {
  await runIn(director.netns, 'nft', ['-f', '-'], { input: gatedDsrRuleset({ director, ...opts }) });
  return async () => {
    await runIn(director.netns, 'nft', ['delete', 'table', 'netdev', GATED_DSR_TABLE], {
      allowFailure: true,
    });
  };
}
