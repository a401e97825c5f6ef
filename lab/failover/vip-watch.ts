/**
 * Live VIP holder tracking for the lab directors: one `ip -o monitor address`
 * per director namespace feeds a VipHolders (vip-holders.ts). The monitor is
 * started before the snapshot, so no change between the two is missed.
 */
import { DsrError } from '../../core/errors.ts';
import type { Host, Lab, LabProcess } from '../index.ts';
import { sleep } from '../wait.ts';
import { parseAddrLine, VipHolders } from './vip-holders.ts';

export class VipWatch {
  readonly holders: VipHolders;
  private readonly procs: LabProcess[] = [];
  private readonly waiters = new Set<() => void>();

  private constructor(vip: string) {
    this.holders = new VipHolders(vip);
  }

  static async start(lab: Lab, directors: readonly Host[], vip: string): Promise<VipWatch> {
    const w = new VipWatch(vip);
    for (const d of directors) {
      const p = lab.spawn(d, 'ip', ['-o', 'monitor', 'address'], {
        onLine: (line) => w.feed(d.name, line),
      });
      w.procs.push(p);
    }
    // `ip monitor` has subscribed once it runs; a short settle covers process start-up.
    await sleep(100);
    for (const d of directors) {
      const { stdout } = await lab.exec(d, 'ip', ['-o', 'addr', 'show', 'dev', d.ifname]);
      for (const line of stdout.split('\n')) w.feed(d.name, line);
    }
    return w;
  }

  private feed(host: string, line: string): void {
    if (this.holders.apply(host, parseAddrLine(line), Date.now())) {
      for (const wake of [...this.waiters]) wake();
    }
  }

  holderList(): string[] {
    return this.holders.holders();
  }

  /** Resolves once `pred(holders)` holds; rejects after `timeoutMs`. */
  waitFor(pred: (holders: string[]) => boolean, timeoutMs: number, what: string): Promise<string[]> {
    const now = this.holderList();
    if (pred(now)) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const h = this.holderList();
        if (!pred(h)) return;
        done();
        resolve(h);
      };
      const timer = setTimeout(() => {
        done();
        reject(
          new DsrError('E_TIMEOUT', `VIP holders never reached "${what}" in ${timeoutMs} ms`, {
            holders: this.holderList(),
          }),
        );
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
    });
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.kill9()));
  }
}
