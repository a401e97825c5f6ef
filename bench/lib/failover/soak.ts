/**
 * The false-failover soak: a running director stack is left alone for S
 * seconds while busy loops saturate every core and the control path between
 * the first two directors drops 5% of frames at random (nftables numgen in the
 * lab bridge, lab.loss). No fault is injected, so every master change seen in
 * that window (a director acquiring the VIP) is a false failover. The probe
 * runs meanwhile, so the table also shows what the clients lost.
 */
import { availableParallelism } from 'node:os';
import type { LabProcess } from '../../../test/lab/index.ts';
import { type ProbeResult, RunningProbe } from './probe-run.ts';
import type { DirectorStack } from './stack.ts';
import type { TrialEnv } from './trial.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface SoakOptions {
  seconds: number;
  lossPercent: number;
  /** Busy-loop processes; default one per core. */
  burners?: number;
}

export interface SoakOutcome {
  stack: string;
  seconds: number;
  lossPercent: number;
  burners: number;
  falseFailovers: number;
  /** Each master change: ms into the soak, and who took the VIP. */
  changes: { atMs: number; host: string }[];
  /** The stack's account of its transitions and stalls in the soak (dsrd's log), if it gives one. */
  explained: string[];
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
  let error: string | null = null;
  const t0 = Date.now();
  try {
    probe = await RunningProbe.start(lab, env.client, {
      addr: env.vip,
      port: env.port,
      maxDurationMs: o.seconds * 1000 + 60_000,
    });
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
    await lab.clearLoss(d1, d2).catch(() => undefined);
    if (probe) {
      try {
        result = await probe.stop();
      } catch (e) {
        error ??= `probe: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
  }
  const changes = stack
    .holders()
    .acquisitionsSince(t0)
    .map((c) => ({ atMs: c.at - t0, host: c.host }));
  return {
    stack: stack.name,
    seconds: o.seconds,
    lossPercent: o.lossPercent,
    burners,
    falseFailovers: changes.length,
    changes,
    explained: stack.explainChanges?.(t0) ?? [],
    probe: result,
    error,
  };
}
