/**
 * The baseline director stack: keepalived 2.2.7 (Debian) running VRRPv3 in
 * each director namespace, with the nftables gated DSR rule (nft-gated-dsr.ts)
 * as its data plane, since IPVS is not in this kernel.
 *
 * keepalived is started in the foreground (-n), VRRP only (-P), logging to
 * the console only (-l -D -G: never to the host's syslog), with its pid files
 * in the benchmark's scratch directory (-p/-r: never /run), and without
 * respawning its VRRP child (-R) so a killed child stays dead. Nothing here
 * touches the host outside the lab namespaces and that directory.
 *
 * Faults: kill -9 and SIGSTOP hit both keepalived processes (the parent and
 * its VRRP child, which runs the protocol); a planned handover is what an
 * operator does with keepalived: stop it on the master (SIGTERM), which makes
 * it send a priority-0 advert so the backup takes over at once (RFC 5798 §6.4.3).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DsrError } from '../../core/errors.ts';
import type { Host, Lab, LabProcess } from '../index.ts';
import { sleep } from '../wait.ts';
import { advertIntText, keepalivedConf, vrrpMasterDownMs } from './keepalived-conf.ts';
import { installGatedDsr } from './nft-gated-dsr.ts';
import type { DirectorStack, FaultKind, InjectedFault, StackOptions } from './stack.ts';
import { Directors } from './stack-common.ts';
import type { VipHolders } from './vip-holders.ts';

/** Priorities of d1, d2, ...: distinct, so the first election is deterministic. */
const PRIORITIES = [150, 100, 90, 80, 70, 60, 50, 40];

interface Running {
  proc: LabProcess;
  vrrpPid: number;
}

export class KeepalivedStack implements DirectorStack {
  readonly name: string;
  readonly advertMs: number;
  private lab: Lab | null = null;
  private opts: StackOptions | null = null;
  private dirs: Directors | null = null;
  private readonly running = new Map<string, Running>();
  private readonly cleanups: (() => Promise<void>)[] = [];
  private readonly logTail: string[] = [];

  constructor(advertMs: number, name = `keepalived ${advertIntText(advertMs)} s`) {
    this.advertMs = advertMs;
    this.name = name;
    advertIntText(advertMs); // validates the interval up front
  }

  async start(lab: Lab, opts: StackOptions): Promise<void> {
    this.lab = lab;
    this.opts = opts;
    this.dirs = await Directors.watch(lab, opts.vip);
    for (const d of lab.directors) {
      this.cleanups.push(
        await installGatedDsr(d, { reals: lab.realServers, vip: opts.vip, port: opts.port }),
      );
    }
    await Promise.all(lab.directors.map((d) => this.launch(d)));
    await this.dirs.watch.waitFor((h) => h.length >= 1, 10 * this.masterDownMs() + 10_000, 'a master');
  }

  private confPath(d: Host): string {
    return join(this.opts!.workDir, `keepalived-${d.name}.conf`);
  }

  private async launch(d: Host): Promise<void> {
    const lab = this.lab!;
    const o = this.opts!;
    const i = lab.directors.indexOf(d);
    const conf = this.confPath(d);
    writeFileSync(
      conf,
      keepalivedConf({
        self: { name: d.name, address: d.ipv4, priority: PRIORITIES[i] ?? 30 },
        peers: lab.directors
          .filter((x) => x !== d)
          .map((x) => ({ name: x.name, address: x.ipv4, priority: 1 })),
        vip: o.vip,
        advertMs: this.advertMs,
      }),
    );
    const pid = join(o.workDir, `keepalived-${d.name}.pid`);
    const vrrpPidFile = join(o.workDir, `keepalived-${d.name}-vrrp.pid`);
    // A killed run leaves its pid files; a stale one must not be taken for the new child.
    rmSync(pid, { force: true });
    rmSync(vrrpPidFile, { force: true });
    const keep = (line: string): void => {
      this.logTail.push(`${d.name}: ${line}`);
      if (this.logTail.length > 200) this.logTail.shift();
    };
    const proc = lab.spawn(
      d,
      'keepalived',
      ['-n', '-P', '-l', '-D', '-G', '-R', '-f', conf, '-p', pid, '-r', vrrpPidFile],
      { onLine: keep, onErrLine: keep },
    );
    // The VRRP child writes its pid file once it runs; the parent's log says so first.
    const deadline = Date.now() + 10_000;
    for (;;) {
      const vrrpPid = readPid(vrrpPidFile);
      if (vrrpPid !== null && vrrpPid !== proc.pid) {
        this.running.set(d.name, { proc, vrrpPid });
        return;
      }
      if (!proc.running || Date.now() > deadline) {
        await proc.kill9();
        throw new DsrError('E_BENCH', `keepalived did not start on ${d.name}`, {
          log: this.logTail.slice(-10),
          stderr: proc.stderrTail.slice(-10),
        });
      }
      await sleep(20);
    }
  }

  private signalBoth(d: Host, sig: NodeJS.Signals): void {
    const r = this.running.get(d.name);
    if (!r) throw new DsrError('E_BENCH', `keepalived is not running on ${d.name}`);
    try {
      process.kill(r.vrrpPid, sig);
    } catch {
      // already gone
    }
    r.proc.signal(sig);
  }

  private async killBoth(d: Host): Promise<void> {
    const r = this.running.get(d.name);
    if (!r) return;
    // Freeze the parent first so it cannot react to its child's death (respawn or cleanup).
    r.proc.signal('SIGSTOP');
    try {
      process.kill(r.vrrpPid, 'SIGKILL');
    } catch {
      // already gone
    }
    await r.proc.kill9();
    this.running.delete(d.name);
  }

  master(): Host | null {
    return this.dirs?.master() ?? null;
  }

  masterDownMs(): number {
    // The backup's priority sets its skew; the lowest configured priority gives the longest wait.
    return vrrpMasterDownMs(this.advertMs, PRIORITIES[(this.lab?.directors.length ?? 2) - 1] ?? 30);
  }

  holders(): VipHolders {
    if (!this.dirs) throw new DsrError('E_BENCH', `${this.name} is not started`);
    return this.dirs.holders;
  }

  async fault(kind: FaultKind): Promise<InjectedFault> {
    const dirs = this.dirs!;
    const m = dirs.requireMaster();
    if (kind === 'link-down') return dirs.linkDown(m);
    const at = Date.now();
    if (kind === 'kill9') {
      await this.killBoth(m);
      return { kind, host: m, at, restore: () => this.launch(m) };
    }
    this.signalBoth(m, 'SIGSTOP');
    return { kind, host: m, at, restore: async () => this.signalBoth(m, 'SIGCONT') };
  }

  async planned(): Promise<InjectedFault> {
    const m = this.dirs!.requireMaster();
    const r = this.running.get(m.name);
    if (!r) throw new DsrError('E_BENCH', `keepalived is not running on ${m.name}`);
    const at = Date.now();
    await r.proc.stop(5000);
    this.running.delete(m.name);
    return { kind: 'planned', host: m, at, restore: () => this.launch(m) };
  }

  settle(timeoutMs: number): Promise<Host> {
    // A restarted backup takes over after one master-down interval if it hears nothing.
    return this.dirs!.settle(timeoutMs, this.masterDownMs() * 1.5 + 200);
  }

  /** The last lines keepalived logged (for error reports). */
  log(): string[] {
    return [...this.logTail];
  }

  async stop(): Promise<void> {
    for (const d of this.lab?.directors ?? []) {
      const r = this.running.get(d.name);
      if (!r) continue;
      this.signalBoth(d, 'SIGCONT');
      await r.proc.stop(3000);
      this.running.delete(d.name);
    }
    for (const c of this.cleanups.splice(0)) await c();
    await this.dirs?.stop();
    this.dirs = null;
  }
}

function readPid(file: string): number | null {
  try {
    const n = Number(readFileSync(file, 'utf8').trim());
    return Number.isInteger(n) && n > 0 ? n : null;
  } catch {
    return null;
  }
}
