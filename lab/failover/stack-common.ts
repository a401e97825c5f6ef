/**
 * What every director stack shares: the VIP watch over the directors, the
 * current master, waiting for a stable single master, and the link-down fault
 * (the same `ip link set eth0 down` whatever runs on the director).
 */
import { DsrError } from '../../core/errors.ts';
import type { Host, Lab } from '../index.ts';
import { sleep } from '../wait.ts';
import type { InjectedFault } from './stack.ts';
import type { VipHolders } from './vip-holders.ts';
import { VipWatch } from './vip-watch.ts';

export class Directors {
  readonly lab: Lab;
  readonly hosts: readonly Host[];
  readonly watch: VipWatch;

  private constructor(lab: Lab, hosts: readonly Host[], watch: VipWatch) {
    this.lab = lab;
    this.hosts = hosts;
    this.watch = watch;
  }

  static async watch(lab: Lab, vip: string): Promise<Directors> {
    return new Directors(lab, lab.directors, await VipWatch.start(lab, lab.directors, vip));
  }

  get holders(): VipHolders {
    return this.watch.holders;
  }

  host(name: string): Host {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new DsrError('E_BENCH', `no director named ${name}`);
    return h;
  }

  master(): Host | null {
    const h = this.watch.holderList();
    return h.length === 1 ? this.host(h[0]) : null;
  }

  requireMaster(): Host {
    const m = this.master();
    if (!m) {
      throw new DsrError('E_BENCH', 'no single director holds the VIP; cannot inject a fault on the master', {
        holders: this.watch.holderList(),
      });
    }
    return m;
  }

  /**
   * Resolves with the master once exactly one director holds the VIP and the
   * holder set has not changed for `quietMs` (a restarted backup that would
   * take over does so within its master-down interval, so `quietMs` should
   * exceed that).
   */
  async settle(timeoutMs: number, quietMs: number): Promise<Host> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) break;
      await this.watch.waitFor((h) => h.length === 1, left, 'exactly one holder').catch(() => undefined);
      const seen = this.holders.changes.length;
      await sleep(Math.min(quietMs, Math.max(0, deadline - Date.now())));
      const m = this.master();
      if (m && this.holders.changes.length === seen) return m;
    }
    throw new DsrError('E_TIMEOUT', `the directors did not settle on one master in ${timeoutMs} ms`, {
      holders: this.watch.holderList(),
    });
  }

  /** Takes the master's eth0 down; restore() brings it up and runs `afterUp` (if any). */
  async linkDown(host: Host, afterUp?: () => Promise<void>): Promise<InjectedFault> {
    const at = Date.now();
    await this.lab.linkDown(host);
    return {
      kind: 'link-down',
      host,
      at,
      restore: async () => {
        await this.lab.linkUp(host);
        await afterUp?.();
      },
    };
  }

  async stop(): Promise<void> {
    await this.watch.stop();
  }
}
