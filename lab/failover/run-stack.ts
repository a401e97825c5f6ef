/**
 * Runs every case of the failover benchmark against one director stack in a
 * lab of its own (2 directors, 1 client, 3 real servers): start, N trials per
 * case with a settle between trials (and a restart of the stack if it does not
 * settle), then the optional soak. The lab and the stack are torn down
 * whatever happens.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DsrError } from '../../core/errors.ts';
import { createLab, type Lab, probe, run } from '../index.ts';
import { sleep } from '../wait.ts';
import { runSoak, type SoakOptions, type SoakOutcome } from './soak.ts';
import type { CaseKind, DirectorStack } from './stack.ts';
import { failedTrial, runTrial, type TrialEnv, type TrialOutcome } from './trial.ts';

const PORT = 7001;
/** The probe's priority (probe-run.ts): below dsrd's, above every normal process. */
const ECHO_RT_PRIORITY = 5;

export interface StackRunOptions {
  cases: readonly CaseKind[];
  trials: number;
  soak: SoakOptions | null;
  workDir: string;
  log: (line: string) => void;
}

export interface StackRun {
  stack: string;
  outcomes: TrialOutcome[];
  soak: SoakOutcome | null;
  /** Why the stack could not be measured at all (null when it ran). */
  unavailable: string | null;
  /** DirectorStack.electionThread once started. */
  electionThread: string | null;
}

/** Resolves once the VIP answers the client through the stack's forwarding. */
async function awaitForwarding(env: TrialEnv, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    const r = await probe(env.client, 'udp', env.vip, env.port, 1000);
    if (r.ok) return;
    last = r.error ?? String(r.answer);
    await sleep(200);
  }
  throw new DsrError('E_BENCH', `the VIP ${env.vip} does not answer through the directors`, { last });
}

async function bringUp(lab: Lab, env: TrialEnv, stack: DirectorStack, workDir: string): Promise<void> {
  await stack.start(lab, { advertMs: stack.advertMs, vip: env.vip, port: env.port, workDir });
  await stack.settle(10 * stack.masterDownMs() + 15_000);
  await awaitForwarding(env, 30_000);
}

/**
 * A real NIC drops unicast frames for other MACs in hardware; a veth hands every frame to XDP. When
 * the master's link goes down the bridge forgets its MAC and floods the clients' frames for it, and
 * a backup's XDP forwarder (which does not look at the destination MAC) would serve them: the
 * link-down outage would measure the lab's flooding, not the takeover. So the bridge does not flood
 * unknown unicast to the directors, as a switch in front of real NICs effectively does not.
 * Broadcast (ARP, gratuitous ARP) still reaches them.
 */
async function directorsLikeNics(lab: Lab): Promise<void> {
  for (const d of lab.directors) {
    await lab.exec(lab.bridgeNs, 'bridge', ['link', 'set', 'dev', d.port, 'flood', 'off']);
  }
}

/**
 * The real servers' UDP echo is part of the instrument: its main thread (the one that answers) runs
 * real-time like the probe's (probe-run.ts), so a busy host does not show as reply gaps. Only that
 * thread (`chrt -p` sets one thread), the processes are the lab's own.
 */
async function echoRealtime(lab: Lab): Promise<void> {
  for (const r of lab.realServers) {
    const { stdout } = await run('ip', ['netns', 'pids', r.netns]);
    for (const pid of stdout.split('\n').filter((l) => /^\d+$/.test(l.trim()))) {
      await run('chrt', ['--fifo', '--pid', String(ECHO_RT_PRIORITY), pid.trim()], { allowFailure: true });
    }
  }
}

export async function runStack(stack: DirectorStack, o: StackRunOptions): Promise<StackRun> {
  const run: StackRun = {
    stack: stack.name,
    outcomes: [],
    soak: null,
    unavailable: null,
    electionThread: null,
  };
  const workDir = join(o.workDir, stack.name.replace(/[^a-z0-9.-]+/gi, '_'));
  mkdirSync(workDir, { recursive: true, mode: 0o700 });
  const lab = await createLab({ directors: 2, clients: 1, realServers: 3 });
  const env: TrialEnv = { lab, client: lab.clients[0], vip: lab.vip4, port: PORT };
  try {
    try {
      await directorsLikeNics(lab);
      await echoRealtime(lab);
      await bringUp(lab, env, stack, workDir);
      run.electionThread = stack.electionThread ?? null;
    } catch (e) {
      run.unavailable = e instanceof Error ? e.message : String(e);
      o.log(`${stack.name}: cannot run: ${run.unavailable}`);
      return run;
    }
    for (const kind of o.cases) {
      for (let t = 1; t <= o.trials; t++) {
        let outcome: TrialOutcome;
        try {
          outcome = await runTrial(env, stack, kind);
        } catch (e) {
          outcome = failedTrial(stack.name, kind, e);
        }
        run.outcomes.push(outcome);
        o.log(
          `${stack.name} ${kind} ${t}/${o.trials}: ` +
            (outcome.error
              ? `failed: ${outcome.error}`
              : `outage ${outcome.outageMs?.toFixed(1)} ms, lost ${outcome.lost}, ` +
                `master ${outcome.oldMaster}, VIP taken by ${outcome.acquired.join(', ') || 'nobody'}, ` +
                `master after ${outcome.newMaster}${outcome.recovered ? '' : ' (not recovered)'}`),
        );
        try {
          await stack.settle(10 * stack.masterDownMs() + 10_000);
          await awaitForwarding(env, 10_000);
        } catch (e) {
          o.log(`${stack.name}: did not settle (${e instanceof Error ? e.message : e}); restarting it`);
          await stack.stop();
          await bringUp(lab, env, stack, workDir);
        }
      }
    }
    if (o.soak) {
      o.log(
        `${stack.name}: soak ${o.soak.seconds} s, cores saturated, ${o.soak.lossPercent}% control-path loss`,
      );
      run.soak = await runSoak(env, stack, o.soak);
      o.log(`${stack.name}: soak done, ${run.soak.falseFailovers} master change(s)`);
    }
    return run;
  } finally {
    await stack
      .stop()
      .catch((e) => o.log(`${stack.name}: stop failed: ${e instanceof Error ? e.message : e}`));
    await lab.destroy();
  }
}
