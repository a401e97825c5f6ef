/**
 * Starts the sequenced UDP probe (udp-probe.ts) in a lab client and collects
 * its result. The probe runs in its own process so the benchmark's own work
 * (spawning `ip`, signalling daemons) does not stall its 1 ms pacing.
 */
import { fileURLToPath } from 'node:url';
import { DsrError } from '../../core/errors.ts';
import type { Host, Lab, LabProcess } from '../index.ts';
import { sleep } from '../wait.ts';
import type { ProbeSummary } from './probe-analysis.ts';

const SCRIPT = fileURLToPath(new URL('./udp-probe.ts', import.meta.url));
/** Below dsrd's (systemd/dsrd.service), above every normal process. */
const PROBE_RT_PRIORITY = 5;

export interface ProbeResult extends ProbeSummary {
  badReplies: number;
  sendErrors: number;
  intervalMs: number;
}

export interface ProbeOptions {
  addr: string;
  port?: number;
  intervalMs?: number;
  /** Hard bound on the probe's run time (it stops itself). */
  maxDurationMs: number;
  /** How long to wait for the first reply before giving up. */
  readyTimeoutMs?: number;
}

export class RunningProbe {
  private proc!: LabProcess;
  private readonly statusWaiters: ((ageMs: number) => void)[] = [];

  private onLine(line: string): void {
    if (!line.startsWith('STATUS ')) return;
    const age = Number(line.split(' ')[1]);
    for (const w of this.statusWaiters.splice(0)) w(age);
  }

  /** Starts the probe in `client` and resolves once a first reply came back through `addr`. */
  static async start(lab: Lab, client: Host, o: ProbeOptions): Promise<RunningProbe> {
    const probe = new RunningProbe();
    probe.proc = lab.spawn(
      client,
      'chrt',
      [
        // The instrument must not be what stalls: its sending and receiving thread runs real-time
        // (below the directors' daemons, and only that thread: reset on fork), so a busy host shows
        // as the stacks' outage, not the probe's (its own pauses are still reported, maxSendGapMs).
        '--reset-on-fork',
        '--fifo',
        String(PROBE_RT_PRIORITY),
        process.execPath,
        SCRIPT,
        '--addr',
        o.addr,
        '--port',
        String(o.port ?? 7001),
        '--interval-ms',
        String(o.intervalMs ?? 1),
        '--duration-ms',
        String(Math.ceil(o.maxDurationMs)),
      ],
      { onLine: (l) => probe.onLine(l) },
    );
    try {
      await probe.proc.waitForLine(/^READY /, o.readyTimeoutMs ?? 10_000);
    } catch (e) {
      await probe.proc.kill9();
      throw new DsrError('E_BENCH', `the probe got no reply from ${o.addr}: no director forwards the VIP`, {
        cause: String(e),
      });
    }
    return probe;
  }

  /** Milliseconds since the last reply (-1: none yet; null: the probe did not answer). */
  async lastReplyAge(timeoutMs = 1000): Promise<number | null> {
    if (!this.proc.running) return null;
    const answer = new Promise<number>((resolve) => this.statusWaiters.push(resolve));
    this.proc.signal('SIGUSR2');
    return Promise.race([answer, sleep(timeoutMs).then(() => null)]);
  }

  /**
   * Resolves true once replies are flowing (the last one is under `freshMs` old),
   * false if they are not by `timeoutMs`.
   */
  async awaitFlowing(timeoutMs: number, freshMs = 20): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const age = await this.lastReplyAge();
      if (age !== null && age >= 0 && age < freshMs) return true;
      await sleep(20);
    }
    return false;
  }

  /** Stops sending and returns the analysis. */
  async stop(): Promise<ProbeResult> {
    this.proc.signal('SIGTERM');
    let line: string;
    try {
      line = await this.proc.waitForLine(/^RESULT /, 20_000);
    } finally {
      await this.proc.kill9();
    }
    return JSON.parse(line.slice('RESULT '.length)) as ProbeResult;
  }

  /** Kills the probe without a result (teardown after an error). */
  async kill(): Promise<void> {
    await this.proc.kill9();
  }
}
