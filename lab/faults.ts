/**
 * Faults between lab hosts, made with nftables in the bridge namespace so they
 * act on frames of every kind (ARP and ND included): a full drop both ways
 * (partition) or random loss (numgen random). Rules are keyed by the pair and
 * removed by handle, so several faults can coexist and be healed one by one.
 */
import { run, systemTool } from './exec.ts';

const TABLE = 'dsrlab_faults';

export interface FaultPort {
  name: string;
  /** The bridge-side veth of this host. */
  port: string;
}

export class FaultTable {
  private readonly bridgeNs: string;
  private ready = false;

  constructor(bridgeNs: string) {
    this.bridgeNs = bridgeNs;
  }

  private nft(args: string[]) {
    return run('ip', ['netns', 'exec', this.bridgeNs, systemTool('nft'), ...args]);
  }

  private async ensure(): Promise<void> {
    if (this.ready) return;
    await this.nft(['add', 'table', 'bridge', TABLE]);
    await this.nft([
      'add chain bridge',
      TABLE,
      'forward { type filter hook forward priority 0; policy accept; }',
    ]);
    this.ready = true;
  }

  private comment(a: FaultPort, b: FaultPort, kind: string): string {
    return `${kind}:${a.name}<->${b.name}`;
  }

  /** `percent` = 100 is a partition; less is random loss on each frame between the two. */
  async add(a: FaultPort, b: FaultPort, percent: number): Promise<void> {
    await this.remove(a, b);
    await this.ensure();
    const kind = percent >= 100 ? 'drop' : 'loss';
    const match = percent >= 100 ? '' : `numgen random mod 100 < ${Math.max(0, Math.round(percent))} `;
    for (const [x, y] of [
      [a, b],
      [b, a],
    ]) {
      await this.nft([
        `add rule bridge ${TABLE} forward iifname "${x.port}" oifname "${y.port}" ${match}counter drop comment "${this.comment(a, b, kind)}"`,
      ]);
    }
  }

  async remove(a: FaultPort, b: FaultPort): Promise<void> {
    if (!this.ready) return;
    const { stdout } = await this.nft(['-a', 'list', 'chain', 'bridge', TABLE, 'forward']);
    const names = new Set([`${a.name}<->${b.name}`, `${b.name}<->${a.name}`]);
    for (const line of stdout.split('\n')) {
      const m = /comment "(?:drop|loss):([^"]+)".*# handle (\d+)/.exec(line);
      if (m && names.has(m[1]))
        await this.nft(['delete', 'rule', 'bridge', TABLE, 'forward', 'handle', m[2]]);
    }
  }
}
