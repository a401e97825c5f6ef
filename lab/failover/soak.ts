/**
 * The false-failover soak: a running director stack is left alone for S
 * seconds while busy loops saturate every core and the control path between
 * the first two directors drops 5% of frames at random (nftables numgen in the
 * lab bridge, lab.loss). No fault is injected, so every master change seen in
 * that window (a director acquiring the VIP) is a false failover. The probe
 * runs meanwhile, so the table also shows what the clients lost.
 */
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { LabProcess } from '../index.ts';
import { sleep } from '../wait.ts';
import { type ProbeResult, RunningProbe } from './probe-run.ts';
import type { DirectorStack, StallCounts } from './stack.ts';
import type { WitnessResult } from './timer-witness.ts';
import type { TrialEnv } from './trial.ts';

const WITNESS = fileURLToPath(new URL('./timer-witness.ts', import.meta.url));
/** The witness runs real-time like dsrd (systemd/dsrd.service), main thread only. */
const WITNESS_CHRT = ['--reset-on-fork', '--fifo', '10'];

export interface SoakOptions {
  seconds: number;
  lossPercent: number;
  /** Busy-loop processes; default one per core. */
  burners?: number;
}

export interface SoakOutcome {
  stack: string;
  seconds: number;
  /** Epoch ms at the start (the origin of `changes` and of the "+s" in `explained`). */
  startedAt: number;
  lossPercent: number;
  burners: number;
  /** Master changes: the VIP taken by another director than the one that held it. */
  falseFailovers: number;
  /** The VIP dropped and taken back by the same director (dsrd fencing itself after a stall). */
  retaken: number;
  /** Each master change: ms into the soak, and who took the VIP. */
  changes: { atMs: number; host: string }[];
  /**
   * Per director, the stalls it counted itself during the soak (the stack's counters after minus
   * before); null when the stack keeps none or a director restarted meanwhile.
   */
  stalls: Map<string, StallCounts> | null;
  /** The stack's account of its transitions and stalls in the soak (dsrd's log), if it gives one. */
  explained: string[];
  /**
   * A bare real-time timer loop run through the soak (timer-witness.ts): how late the host let a
   * timer be, with nothing of the daemon's in it. Null if it failed to run.
   */
  witness: WitnessResult | null;
  probe: ProbeResult | null;
  error: string | null;
}

export async function runSoak(env: TrialEnv, stack: DirectorStack, o: SoakOptions): Promise<SoakOutcome> {
  const { lab } = env;
  const [d1, d2] = lab.directors;
  const burners = o.burners ?? availableParallelism();
  const procs: LabProcess[] = [];
  let probe: RunningProbe | null = null;
  let result: ProbeResult | null = null;
  let witness: LabProcess | null = null;
  let witnessResult: WitnessResult | null = null;
  let error: string | null = null;
  const t0 = Date.now();
  const stallsBefore = await stack.stallCounts?.();
  try {
    probe = await RunningProbe.start(lab, env.client, {
      addr: env.vip,
      port: env.port,
      maxDurationMs: o.seconds * 1000 + 60_000,
    });
    witness = lab.spawn(env.client, 'chrt', [
      ...WITNESS_CHRT,
      process.execPath,
      WITNESS,
      '--interval-ms',
      '5',
      '--duration-ms',
      String(o.seconds * 1000 + 60_000),
    ]);
    await witness.waitForLine(/^READY$/, 30_000);
    await lab.loss(d1, d2, o.lossPercent);
    for (let i = 0; i < burners; i++) {
      // A shell loop burns a core without allocating; it lives in the lab so destroy() ends it.
      procs.push(lab.spawn(env.client, 'sh', ['-c', 'while :; do :; done']));
    }
    await sleep(o.seconds * 1000);
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  } finally {
    await Promise.all(procs.map((p) => p.kill9()));
    if (witness) {
      witness.signal('SIGTERM');
      const line = await witness.waitForLine(/^RESULT /, 10_000).catch(() => null);
      witnessResult = line ? (JSON.parse(line.slice('RESULT '.length)) as WitnessResult) : null;
      await witness.kill9();
    }
    await lab.clearLoss(d1, d2).catch(() => undefined);
    if (probe) {
      try {
        result = await probe.stop();
      } catch (e) {
        error ??= `probe: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
  }
  const stallsAfter = await stack.stallCounts?.();
  const holders = stack.holders();
  const changes = holders.movesSince(t0).map((c) => ({ atMs: c.at - t0, host: c.host }));
  const retaken = holders.acquisitionsSince(t0).length - changes.length;
  return {
    stack: stack.name,
    seconds: o.seconds,
    startedAt: t0,
    lossPercent: o.lossPercent,
    burners,
    falseFailovers: changes.length,
    retaken,
    changes,
    stalls: stallsDuring(stallsBefore, stallsAfter),
    explained: stack.explainChanges?.(t0) ?? [],
    witness: witnessResult,
    probe: result,
    error,
  };
}

export function stallsDuring(
  before: Map<string, StallCounts> | undefined,
  after: Map<string, StallCounts> | undefined,
): Map<string, StallCounts> | null {
  if (before === undefined || after === undefined || before.size === 0) return null;
  const out = new Map<string, StallCounts>();
  for (const [host, b] of before) {
    const a = after.get(host);
    if (a === undefined) return null;
    const d = {
      relearned: a.relearned - b.relearned,
      covered: a.covered - b.covered,
      keeperLimit: a.keeperLimit - b.keeperLimit,
    };
    // Counters start at zero with the daemon: a negative difference means it restarted.
    if (d.relearned < 0 || d.covered < 0 || d.keeperLimit < 0) return null;
    out.set(host, d);
  }
  return out;
}
