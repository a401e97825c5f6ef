/**
 * `npm run bench -- quorum [--trials 5] [--sim 20000] [--raft-timeout-ms 50] [--advert-ms 10]`
 *
 * Quorum mode (issue 22) against VRRP mode, side by side in one run: two labs of real dsrd
 * daemons, quorum mode as two directors and a witness, VRRP mode as a pair (advert interval
 * --advert-ms), trials interleaved (raft, vrrp, raft, vrrp, ...). Per trial, from the client: a UDP
 * probe through the VIP every 1 ms (the outage: the longest gap between replies; probes lost) and
 * an ARP request for the VIP every 1 ms (lab/ownership/arp-probe.ts: the longest time two MACs
 * answered, the overlap).
 *
 * Cases, each on whichever director leads at the time:
 *   link-down   the leader's link down (cut off from every other voter); up again after
 *   sigstop     the leader SIGSTOPped for 1.5 s, far past its lease (VRRP: its master-down
 *               interval), then continued
 *   kill9       kill -9 of the leader, then `dsrd --cleanup` at once, as the unit's ExecStopPost=
 *               runs it; restarted after
 *   planned     `dsrctl failover` on the leader (quorum mode: a leadership transfer)
 *
 * Then the deterministic simulation (lab/quorum/simulation.ts): --sim seeded schedules, each
 * checked for two lease holders at any instant. Last line one JSON object: max_overlap_ms,
 * unplanned_p95_ms, planned_lost, sim_schedules, sim_violations, the same with a vrrp_ prefix, and
 * per case p95 and max for both.
 */
import { DEFAULTS } from '../config/index.ts';
import { DSRD, dsrctl } from '../lab/binaries.ts';
import { RunningProbe } from '../lab/failover/probe-run.ts';
import type { LabProcess } from '../lab/index.ts';
import { answerFigures } from '../lab/ownership/arp-answers.ts';
import { startArpWatch } from '../lab/ownership/arp-watch.ts';
import { type Director, DirectorPair } from '../lab/pair/director-pair.ts';
import { role } from '../lab/pair/status.ts';
import { QuorumLab, type Voter } from '../lab/quorum/quorum-lab.ts';
import { runSchedule } from '../lab/quorum/simulation.ts';
import { numberArg, parseBenchArgs, printFigures, printTable, summarize } from '../lab/report.ts';
import { requireRoot } from '../lab/require-root.ts';
import type { Host, Lab } from '../lab/topology.ts';
import { sleep, until } from '../lab/wait.ts';

const args = parseBenchArgs(process.argv.slice(2));
const trials = numberArg(args, 'trials', 5);
const simSchedules = numberArg(args, 'sim', 20_000);
const raftTimeoutMs = numberArg(args, 'raft-timeout-ms', DEFAULTS.election.raft.election_timeout_ms);
const advertMs = numberArg(args, 'advert-ms', 10);
const CASES = ['link-down', 'sigstop', 'kill9', 'planned'] as const;
type Case = (typeof CASES)[number];
const SIGSTOP_MS = 1500;

const skip = requireRoot();
if (skip) {
  console.error(`quorum benchmark cannot run: ${skip}`);
  process.exit(1);
}

/** A director as both labs have it. */
interface Node {
  readonly host: Host;
  readonly sock: string;
  readonly configPath: string;
  proc: LabProcess | null;
}

/** What a case needs of a stack: its lab, who leads, how to restart one. */
interface Stack<N extends Node> {
  readonly name: 'raft' | 'vrrp';
  readonly lab: Lab;
  readonly vip: string;
  readonly directors: readonly N[];
  /** The director that leads and alone holds the VIP, once the stack is settled. */
  leader(limitMs: number): Promise<N>;
  /** Whether `d` answers as leader (master) now. */
  leads(d: N): Promise<boolean>;
  start(d: N): Promise<unknown>;
  failoverArgs(to: N): string[];
  destroy(): Promise<void>;
}

/** A stack's trial of one case, and its teardown: what the interleaved loop needs. */
interface Runner {
  readonly name: 'raft' | 'vrrp';
  trial(kase: Case): Promise<TrialFigures>;
  destroy(): Promise<void>;
}

const runner = <N extends Node>(stack: Stack<N>): Runner => ({
  name: stack.name,
  trial: (kase) => trial(stack, kase),
  destroy: () => stack.destroy(),
});

function raftStack(q: QuorumLab): Stack<Voter> {
  return {
    name: 'raft',
    lab: q.lab,
    vip: q.vip,
    directors: q.directors,
    leader: (limitMs) => q.leader(limitMs),
    leads: async (d) => (await q.status(d))?.groups[0]?.role === 'master',
    start: (d) => q.start(d),
    failoverArgs: (to) => ['failover', '--to', to.host.name, '--json'],
    destroy: () => q.destroy(),
  };
}

function vrrpStack(pair: DirectorPair): Stack<Director> {
  return {
    name: 'vrrp',
    lab: pair.lab,
    vip: pair.vip,
    directors: pair.directors,
    async leader(limitMs) {
      let found: Director | undefined;
      await until(
        'one master holding the VIP alone',
        async () => {
          const held = await Promise.all(pair.directors.map((d) => pair.holdsVip(d)));
          const states = await Promise.all(pair.directors.map((d) => pair.status(d)));
          const masters = pair.directors.filter(
            (_, i) => states[i] !== null && role(states[i]!) === 'master',
          );
          found = masters.length === 1 ? masters[0] : undefined;
          const holders = pair.directors.filter((_, i) => held[i]);
          return found !== undefined && holders.length === 1 && holders[0] === found;
        },
        { limitMs, everyMs: 20 },
      );
      return found as Director;
    },
    leads: async (d) => {
      const s = await pair.status(d);
      return s !== null && role(s) === 'master';
    },
    start: (d) => pair.start(d),
    failoverArgs: (to) => ['failover', '--group', 'web', '--to', to.host.name, '--json'],
    destroy: () => pair.destroy(),
  };
}

interface TrialFigures {
  outage_ms: number;
  lost: number;
  overlap_ms: number;
  probe_stall_ms: number;
}

async function trial<N extends Node>(stack: Stack<N>, kase: Case): Promise<TrialFigures> {
  const { lab, vip } = stack;
  const client = lab.clients[0] as Host;
  const leader = await stack.leader(30_000);
  const next = stack.directors.find((d) => d !== leader) as N;
  const arp = await startArpWatch(lab, client, vip);
  const udp = await RunningProbe.start(lab, client, { addr: vip, maxDurationMs: 60_000 });
  await sleep(300);
  const faultAt = Date.now();
  switch (kase) {
    case 'link-down':
      await lab.linkDown(leader.host);
      break;
    case 'sigstop':
      leader.proc?.pause();
      break;
    case 'kill9':
      await leader.proc?.kill9();
      await lab.exec(leader.host, process.execPath, [DSRD, '--cleanup', '--config', leader.configPath], {
        timeoutMs: 20_000,
      });
      break;
    case 'planned': {
      const r = await dsrctl(['-s', leader.sock, ...stack.failoverArgs(next)]);
      if (r.code !== 0) throw new Error(`${stack.name}: dsrctl failover failed: ${r.stderr}`);
      break;
    }
  }
  await until(`${stack.name}: ${next.host.name} leads after ${kase}`, () => stack.leads(next), {
    limitMs: 15_000,
    everyMs: 10,
  });
  await sleep(kase === 'sigstop' ? Math.max(0, faultAt + SIGSTOP_MS - Date.now()) : 500);
  const probe = await udp.stop();
  const answers = await arp.stop();
  // Repair, so the next trial starts from two healthy directors.
  if (kase === 'link-down') await lab.linkUp(leader.host);
  if (kase === 'sigstop') leader.proc?.resume();
  if (kase === 'kill9') await stack.start(leader);
  await sleep(1000);
  const f = answerFigures(answers.changes, arp.slotAt(faultAt, answers), answers.slots, answers.slotMs);
  return {
    outage_ms: Math.round(probe.gap.ms),
    lost: probe.lost,
    overlap_ms: f.overlapMs,
    probe_stall_ms: answers.maxSlipMs,
  };
}

const raftTiming = {
  election_timeout_ms: raftTimeoutMs,
  election_jitter_ms: Math.round(raftTimeoutMs / 2),
  heartbeat_interval_ms: Math.max(1, Math.round(raftTimeoutMs / 5)),
};
const stacks: Runner[] = [];
const results = new Map<string, TrialFigures[]>();
try {
  const quorum = await QuorumLab.create({ raft: raftTiming });
  stacks.push(runner(raftStack(quorum)));
  await quorum.startAll();
  const pair = await DirectorPair.create({ advertMs, realServers: 2, vipGroup: { preempt: false } });
  stacks.push(runner(vrrpStack(pair)));
  await pair.startBoth();
  for (let i = 0; i < trials; i++) {
    for (const kase of CASES) {
      for (const stack of stacks) {
        const key = `${stack.name} ${kase}`;
        const figures = await stack.trial(kase);
        results.set(key, [...(results.get(key) ?? []), figures]);
        console.error(`${key} #${i + 1}: ${JSON.stringify(figures)}`);
      }
    }
  }
} finally {
  for (const stack of stacks) await stack.destroy();
}

// The simulation, after the labs are gone (it wants the CPU to itself).
let violations = 0;
let notLive = 0;
const simStart = performance.now();
for (let seed = 1; seed <= simSchedules; seed++) {
  const r = runSchedule(seed);
  if (r.violations.length > 0) violations += 1;
  if (!r.live) notLive += 1;
}
const simSeconds = (performance.now() - simStart) / 1000;

const of = (stack: string, kase: Case, field: keyof TrialFigures) =>
  (results.get(`${stack} ${kase}`) ?? []).map((f) => f[field]);
const rows = stacks.flatMap((s) =>
  CASES.map((kase) => {
    const outage = summarize(of(s.name, kase, 'outage_ms'));
    return [
      s.name,
      kase,
      String(outage.median),
      String(outage.p95),
      String(Math.max(...of(s.name, kase, 'lost'))),
      String(Math.max(...of(s.name, kase, 'overlap_ms'))),
    ];
  }),
);
printTable(
  'Quorum mode and VRRP mode, side by side',
  ['stack', 'case', 'outage p50 ms', 'outage p95 ms', 'lost max', 'overlap max ms'],
  rows,
);
console.log(
  `simulation: ${simSchedules} schedules in ${simSeconds.toFixed(1)} s, ${violations} with a violation, ${notLive} without a leader after the heal`,
);

const UNPLANNED: Case[] = ['link-down', 'sigstop', 'kill9'];
const figures = (stack: 'raft' | 'vrrp') => {
  const all = (field: keyof TrialFigures, cases: readonly Case[]) =>
    cases.flatMap((k) => of(stack, k, field));
  return {
    max_overlap_ms: Math.max(...all('overlap_ms', CASES)),
    unplanned_p95_ms: summarize(all('outage_ms', UNPLANNED)).p95,
    planned_lost: Math.max(...of(stack, 'planned', 'lost')),
    ...Object.fromEntries(
      CASES.flatMap((k) => [
        [`${k.replace('-', '_')}_outage_p95_ms`, summarize(of(stack, k, 'outage_ms')).p95],
        [`${k.replace('-', '_')}_overlap_max_ms`, Math.max(...of(stack, k, 'overlap_ms'))],
      ]),
    ),
  };
};
const raft = figures('raft');
const vrrp = figures('vrrp');
printFigures('quorum', {
  ...raft,
  sim_schedules: simSchedules,
  sim_violations: violations,
  sim_not_live: notLive,
  ...Object.fromEntries(Object.entries(vrrp).map(([k, v]) => [`vrrp_${k}`, v])),
  trials,
  raft_election_timeout_ms: raftTimeoutMs,
  vrrp_advert_ms: advertMs,
  probe_stall_max_ms: Math.max(...[...results.values()].flat().map((f) => f.probe_stall_ms)),
});
