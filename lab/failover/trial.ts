/**
 * One failover trial against a running director stack: the probe runs through
 * the VIP, a fault (or a planned handover) hits the current master, the
 * benchmark waits for the takeover and for replies to flow again, stops the
 * probe, repairs the fault and waits for a single stable master. Timing comes
 * from trial-plan.ts.
 */
import { DsrError } from '../../core/errors.ts';
import type { Host, Lab } from '../index.ts';
import { sleep } from '../wait.ts';
import { type ProbeResult, RunningProbe } from './probe-run.ts';
import type { CaseKind, DirectorStack, InjectedFault } from './stack.ts';
import { trialPlan } from './trial-plan.ts';

export interface TrialOutcome {
  stack: string;
  kind: CaseKind;
  /** Takeover seen and replies flowed again. */
  ok: boolean;
  /** Why the trial could not be measured (no takeover, a tool failed); null when it was. */
  error: string | null;
  /** Longest reply gap (ms); with `recovered` false it is a lower bound. */
  outageMs: number | null;
  recovered: boolean;
  lost: number | null;
  /** Send-time span of the longest run of unanswered probes (ms): the outage without receive-side jitter. */
  lostSpanMs: number | null;
  sent: number | null;
  rateHz: number | null;
  maxSendGapMs: number | null;
  /** Fault time to the start of the longest gap (ms): negative if the gap began before the fault. */
  gapStartAfterFaultMs: number | null;
  oldMaster: string | null;
  newMaster: string | null;
  /** Directors that took the VIP during the trial, in order (a SIGSTOP trial may show two). */
  acquired: string[];
  serverBefore: string | null;
  serverAfter: string | null;
}

export interface TrialEnv {
  lab: Lab;
  client: Host;
  vip: string;
  port: number;
}

export async function runTrial(env: TrialEnv, stack: DirectorStack, kind: CaseKind): Promise<TrialOutcome> {
  const oldMaster = stack.master();
  if (!oldMaster) throw new DsrError('E_BENCH', `${stack.name}: no single master before the trial`);
  const plan = trialPlan(kind, stack.advertMs, stack.masterDownMs());
  const probe = await RunningProbe.start(env.lab, env.client, {
    addr: env.vip,
    port: env.port,
    maxDurationMs: plan.maxDurationMs,
  });
  let fault: InjectedFault | null = null;
  let restored = false;
  let result: ProbeResult | null = null;
  let recovered = false;
  let newMaster: string | null = null;
  let error: string | null = null;
  try {
    await sleep(plan.preMs);
    fault = kind === 'planned' ? await stack.planned() : await stack.fault(kind);
    const faulted = fault.host.name;
    const holders = stack.holders();
    if (kind === 'sigstop') {
      await sleep(plan.holdMs);
      newMaster = holders.holders().find((h) => h !== faulted) ?? null;
      restored = true;
      await fault.restore();
    } else {
      const deadline = Date.now() + plan.takeoverTimeoutMs;
      while (Date.now() < deadline && !holders.holders().some((h) => h !== faulted)) await sleep(5);
      newMaster = holders.holders().find((h) => h !== faulted) ?? null;
      if (!newMaster) throw new DsrError('E_TIMEOUT', `no takeover in ${plan.takeoverTimeoutMs} ms`);
    }
    await sleep(plan.settleMs);
    recovered = await probe.awaitFlowing(plan.recoveryTimeoutMs);
    if (recovered) await sleep(plan.tailMs);
    if (kind === 'sigstop') newMaster = stack.master()?.name ?? newMaster;
  } catch (e) {
    error = e instanceof Error ? e.message : String(e);
  } finally {
    try {
      result = await probe.stop();
    } catch (e) {
      error ??= `probe: ${e instanceof Error ? e.message : String(e)}`;
    }
    if (fault && !restored) {
      try {
        await fault.restore();
      } catch (e) {
        error ??= `restore: ${e instanceof Error ? e.message : String(e)}`;
      }
    }
  }
  const ok = error === null && result !== null && recovered;
  return {
    stack: stack.name,
    kind,
    ok,
    error,
    outageMs: result?.gap.ms ?? null,
    recovered,
    lost: result?.lost ?? null,
    lostSpanMs: result ? result.longestLostRun.spanMs : null,
    sent: result?.sent ?? null,
    rateHz: result?.rateHz ?? null,
    maxSendGapMs: result?.maxSendGapMs ?? null,
    gapStartAfterFaultMs: result && fault ? result.gap.fromAt - fault.at : null,
    oldMaster: oldMaster.name,
    newMaster,
    acquired: fault
      ? stack
          .holders()
          .acquisitionsSince(fault.at - 1)
          .map((c) => c.host)
      : [],
    serverBefore: result?.gap.before ?? null,
    serverAfter: result?.gap.after ?? null,
  };
}

/** The record of a trial that could not even start (no master, no probe path). */
export function failedTrial(stack: string, kind: CaseKind, err: unknown): TrialOutcome {
  return {
    stack,
    kind,
    ok: false,
    error: err instanceof Error ? err.message : String(err),
    outageMs: null,
    recovered: false,
    lost: null,
    lostSpanMs: null,
    sent: null,
    rateHz: null,
    maxSendGapMs: null,
    gapStartAfterFaultMs: null,
    oldMaster: null,
    newMaster: null,
    acquired: [],
    serverBefore: null,
    serverAfter: null,
  };
}
