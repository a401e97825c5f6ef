/**
 * Our director stack: dsrd on each lab director, started the way an operator
 * would (`dsrd --config FILE`), with the config from dsrd-conf.ts. Faults hit
 * the dsrd process (one process: kill -9, SIGSTOP/SIGCONT); the planned
 * handover is `dsrctl failover --group bench` on the master.
 *
 * Before it is measured, the stack checks that the running daemon has the
 * parts a failover needs (election, vip, forwarder) through its admin socket
 * (`status`), and fails with the list of parts it does run otherwise, so the
 * benchmark reports exactly what is missing rather than a timeout.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DaemonStatus } from '../../admin/catalogue/status.ts';
import { callDaemon } from '../../admin/client.ts';
import { checkConfigFile } from '../../config/index.ts';
import { DsrError } from '../../core/errors.ts';
import { masterDownIntervalMs } from '../../failover/index.ts';
import { removePins } from '../../forwarder/loader.ts';
import { DSRCTL, DSRD } from '../binaries.ts';
import { type Host, type Lab, type LabProcess, run } from '../index.ts';
import { sleep } from '../wait.ts';
import { BENCH_GROUP, dsrdConf } from './dsrd-conf.ts';
import type { DirectorStack, FaultKind, InjectedFault, StackOptions, StallCounts } from './stack.ts';
import { Directors } from './stack-common.ts';
import { type Scheduling, schedulingPrefix } from './unit-scheduling.ts';
import type { VipHolders } from './vip-holders.ts';

/** The daemon parts a measured failover needs (names from core/daemon/parts DOMAIN_ORDER). */
export const REQUIRED_PARTS = ['forwarder', 'vip', 'election'] as const;

const PRIORITIES = [150, 100, 90, 80, 70, 60, 50, 40];

/** The election thread's scheduling from a `status` answer, if the election part reports it. */
export function electionThreadOf(status: Pick<DaemonStatus, 'parts'>): string | null {
  const part = status.parts.find((p) => p.name === 'election')?.status as
    | { election?: { thread?: { scheduling?: unknown } } }
    | undefined;
  const s = part?.election?.thread?.scheduling;
  return typeof s === 'string' ? s : null;
}

/** The election part's stall and keeper counts from a `status` answer, if it reports them. */
export function stallCountsOf(status: Pick<DaemonStatus, 'parts'>): StallCounts | null {
  const part = status.parts.find((p) => p.name === 'election')?.status as
    | {
        election?: {
          stalls?: { relearned?: unknown; covered?: unknown };
          keeper?: { gaveUp?: unknown } | null;
        };
      }
    | undefined;
  const e = part?.election;
  const relearned = e?.stalls?.relearned;
  const covered = e?.stalls?.covered;
  if (typeof relearned !== 'number' || typeof covered !== 'number') return null;
  const limit = e?.keeper?.gaveUp;
  return { relearned, covered, keeperLimit: typeof limit === 'number' ? limit : 0 };
}

/** Parts of `status` that are missing or not running, for the error message. */
export function missingParts(status: Pick<DaemonStatus, 'parts'>): string[] {
  return REQUIRED_PARTS.filter((name) => !status.parts.some((p) => p.name === name && p.state === 'running'));
}

/**
 * From dsrd's JSON log lines ("<host>: {json}"), the election's account of what happened since
 * `since` (epoch ms): each VIP group transition with its reason (master-down, stall,
 * split-brain-lost, ...) and each stall the election detected (pure).
 */
export function explainDsrdLog(lines: readonly string[], since: number): string[] {
  const out: string[] = [];
  for (const line of lines) {
    const sep = line.indexOf(': ');
    if (sep <= 0) continue;
    const host = line.slice(0, sep);
    let rec: { time?: string; msg?: string; reason?: string; alert?: { kind?: string; gapMs?: number } };
    try {
      rec = JSON.parse(line.slice(sep + 2));
    } catch {
      continue;
    }
    const at = Date.parse(rec.time ?? '');
    if (!(at >= since)) continue;
    const when = `+${((at - since) / 1000).toFixed(1)} s`;
    if (rec.msg?.startsWith('VIP group ') && rec.reason)
      out.push(`${when} ${host} ${rec.msg.slice('VIP group '.length)} (${rec.reason})`);
    else if (rec.alert?.kind === 'stall-detected')
      out.push(`${when} ${host} stall ${Math.round(rec.alert.gapMs ?? 0)} ms`);
  }
  return out;
}

export class DsrdStack implements DirectorStack {
  readonly name: string;
  readonly advertMs: number;
  private lab: Lab | null = null;
  private opts: StackOptions | null = null;
  private dirs: Directors | null = null;
  private readonly procs = new Map<string, LabProcess>();
  private readonly pinDirs: string[] = [];
  private bpffs: string | null = null;
  private readonly logTail: string[] = [];

  /** CPU scheduling dsrd runs with (the unit file's, see unit-scheduling.ts); null: inherited. */
  readonly scheduling: Scheduling | null;

  /** How the election thread runs as dsrd reported it (`status`), e.g. "fifo 11, reset on fork". */
  electionThread: string | null = null;

  /** Node options before the script (the unit's ExecStart has the same). */
  readonly nodeArgs: readonly string[];

  constructor(
    advertMs: number,
    name = `dsrd ${advertMs} ms`,
    scheduling: Scheduling | null = null,
    nodeArgs: readonly string[] = [],
  ) {
    this.advertMs = advertMs;
    this.name = name;
    this.scheduling = scheduling;
    this.nodeArgs = nodeArgs;
  }

  private socket(d: Host): string {
    return join(this.opts!.workDir, `dsrd-${d.name}.sock`);
  }

  private confPath(d: Host): string {
    return join(this.opts!.workDir, `dsrd-${d.name}.yaml`);
  }

  async start(lab: Lab, opts: StackOptions): Promise<void> {
    this.lab = lab;
    this.opts = opts;
    const keyFile = join(opts.workDir, 'election.key');
    writeFileSync(keyFile, randomBytes(32).toString('hex'), { mode: 0o600 });
    // `ip netns exec` remounts /sys without /sys/fs/bpf: the forwarders pin on a bpffs of their own,
    // mounted in the scratch directory (outside /sys) and unmounted by stop().
    const bpffs = join(opts.workDir, 'bpffs');
    mkdirSync(bpffs, { recursive: true, mode: 0o700 });
    await run('mount', ['-t', 'bpf', 'bpf', bpffs]);
    this.bpffs = bpffs;
    lab.directors.forEach((d, i) => {
      const pinDir = join(bpffs, d.name);
      this.pinDirs.push(pinDir);
      const alertsDir = join(opts.workDir, `alerts-${d.name}`);
      mkdirSync(alertsDir, { recursive: true, mode: 0o700 });
      writeFileSync(
        this.confPath(d),
        dsrdConf({
          self: { id: d.name, address: d.ipv4, priority: PRIORITIES[i] ?? 30 },
          peers: lab.directors.filter((x) => x !== d).map((x) => ({ id: x.name, address: x.ipv4 })),
          vip: opts.vip,
          port: opts.port,
          reals: lab.realServers.map((r) => r.ipv4),
          advertMs: this.advertMs,
          keyFile,
          adminSocket: this.socket(d),
          pinDir,
          alertsDir,
          stateDir: join(opts.workDir, `state-${d.name}`),
        }),
      );
    });
    for (const d of lab.directors) {
      const check = await checkConfigFile(this.confPath(d));
      if (!check.ok) {
        throw new DsrError('E_BENCH', `the generated dsrd config for ${d.name} is invalid`, {
          errors: check.lines,
        });
      }
    }
    this.dirs = await Directors.watch(lab, opts.vip);
    await Promise.all(lab.directors.map((d) => this.launch(d)));
    await this.dirs.watch.waitFor((h) => h.length >= 1, 10 * this.masterDownMs() + 10_000, 'a master');
  }

  private async launch(d: Host): Promise<void> {
    const keep = (line: string): void => {
      this.logTail.push(`${d.name}: ${line}`);
      if (this.logTail.length > 20000) this.logTail.shift();
    };
    const cmd = [process.execPath, ...this.nodeArgs, DSRD, '--config', this.confPath(d)];
    // Started the way the unit starts it: the same scheduling policy, priority and nice value.
    const [head, ...rest] = [...(this.scheduling ? schedulingPrefix(this.scheduling) : []), ...cmd];
    const proc = this.lab!.spawn(d, head, rest, { onLine: keep, onErrLine: keep });
    this.procs.set(d.name, proc);
    const status = await this.awaitStatus(d, proc, 60_000);
    this.electionThread = electionThreadOf(status) ?? this.electionThread;
    const missing = missingParts(status);
    if (missing.length > 0) {
      throw new DsrError(
        'E_BENCH',
        `dsrd on ${d.name} runs without the parts a failover needs: missing ${missing.join(', ')} ` +
          `(running: ${status.parts.map((p) => `${p.name}=${p.state}`).join(', ')}); ` +
          'they are added in daemon/parts.ts buildParts()',
        { missing },
      );
    }
  }

  private async awaitStatus(d: Host, proc: LabProcess, timeoutMs: number): Promise<DaemonStatus> {
    const deadline = Date.now() + timeoutMs;
    let last: unknown = null;
    while (Date.now() < deadline) {
      if (!proc.running) {
        throw new DsrError('E_BENCH', `dsrd on ${d.name} exited during start-up: ${this.lastError(d)}`, {
          log: this.logTail.slice(-15),
        });
      }
      try {
        const s = (await callDaemon(this.socket(d), 'status')) as DaemonStatus;
        if (s.state === 'running') return s;
        last = s.state;
      } catch (e) {
        last = e instanceof Error ? e.message : String(e);
      }
      await sleep(100);
    }
    throw new DsrError('E_BENCH', `dsrd on ${d.name} did not report running in ${timeoutMs} ms`, {
      last,
      log: this.logTail.slice(-15),
    });
  }

  /** The last error-looking line dsrd on `d` logged (for start-up failures). */
  private lastError(d: Host): string {
    const mine = this.logTail.filter((l) => l.startsWith(`${d.name}: `));
    const err = mine.filter((l) => /"level":(50|60)|error|E_[A-Z_]+/i.test(l)).at(-1) ?? mine.at(-1);
    return err?.slice(d.name.length + 2, d.name.length + 2 + 400) ?? 'no output';
  }

  master(): Host | null {
    return this.dirs?.master() ?? null;
  }

  masterDownMs(): number {
    const lowest = PRIORITIES[(this.lab?.directors.length ?? 2) - 1] ?? 30;
    return masterDownIntervalMs(lowest, this.advertMs);
  }

  holders(): VipHolders {
    if (!this.dirs) throw new DsrError('E_BENCH', `${this.name} is not started`);
    return this.dirs.holders;
  }

  private proc(d: Host): LabProcess {
    const p = this.procs.get(d.name);
    if (!p?.running) throw new DsrError('E_BENCH', `dsrd is not running on ${d.name}`);
    return p;
  }

  async fault(kind: FaultKind): Promise<InjectedFault> {
    const dirs = this.dirs!;
    const m = dirs.requireMaster();
    if (kind === 'link-down') return dirs.linkDown(m);
    const p = this.proc(m);
    const at = Date.now();
    if (kind === 'kill9') {
      await p.kill9();
      return { kind, host: m, at, restore: () => this.launch(m) };
    }
    p.pause();
    return { kind, host: m, at, restore: async () => p.resume() };
  }

  /**
   * Waits (bounded) until every backup says it is in sync, as an operator checks `dsrctl status`
   * before a planned handover: the master refuses to hand over to a director that is not (a
   * restarted one pulls the tables first).
   */
  private async awaitBackupsInSync(master: Host, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (const d of this.lab!.directors.filter((x) => x !== master)) {
      while (Date.now() < deadline) {
        const s = (await callDaemon(this.socket(d), 'status').catch(() => null)) as DaemonStatus | null;
        if (s?.groups?.every((g) => !(g.reason ?? '').includes('not in sync'))) break;
        await sleep(100);
      }
    }
  }

  async planned(): Promise<InjectedFault> {
    const m = this.dirs!.requireMaster();
    await this.awaitBackupsInSync(m, 15_000);
    const at = Date.now();
    const r = await this.lab!.exec(
      m,
      process.execPath,
      [DSRCTL, '--socket', this.socket(m), 'failover', '--group', BENCH_GROUP],
      { allowFailure: true, timeoutMs: 15_000 },
    );
    if (r.code !== 0) {
      const why = r.stderr.trim().split('\n').at(-1) ?? '';
      throw new DsrError('E_BENCH', `dsrctl failover on ${m.name} failed (exit ${r.code}): ${why}`, {
        stderr: r.stderr.trim().split('\n').slice(-5),
      });
    }
    // The old master stays up as a backup: nothing to repair.
    return { kind: 'planned', host: m, at, restore: async () => undefined };
  }

  settle(timeoutMs: number): Promise<Host> {
    return this.dirs!.settle(timeoutMs, this.masterDownMs() * 1.5 + 200);
  }

  log(): string[] {
    return [...this.logTail];
  }

  /** The election's own account of master changes since `since` (see explainDsrdLog). */
  async stallCounts(): Promise<Map<string, StallCounts>> {
    const out = new Map<string, StallCounts>();
    for (const d of this.dirs?.hosts ?? []) {
      const s = (await callDaemon(this.socket(d), 'status', {}, { timeoutMs: 2000 }).catch(
        () => null,
      )) as DaemonStatus | null;
      const counts = s === null ? null : stallCountsOf(s);
      if (counts !== null) out.set(d.name, counts);
    }
    return out;
  }

  explainChanges(since: number): string[] {
    return explainDsrdLog(this.logTail, since);
  }

  async stop(): Promise<void> {
    await Promise.all([...this.procs.values()].map((p) => p.stop(5000)));
    this.procs.clear();
    await this.dirs?.stop();
    this.dirs = null;
    for (const dir of this.pinDirs.splice(0)) removePins(dir);
    if (this.bpffs) {
      await run('umount', [this.bpffs]);
      rmdirSync(this.bpffs);
      this.bpffs = null;
    }
  }
}
