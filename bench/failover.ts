/**
 * `npm run bench -- failover [--trials N] [--soak-s S] [--advert-ms MS] [--cases LIST] [--stacks LIST] [--sched S]`
 *
 * Client-visible failover time (issue 5). A client in the lab sends a
 * sequenced UDP probe through the VIP every 1 ms to the real servers' echo;
 * the outage of a trial is the longest gap in replies. Per director stack and
 * per case (master link down, master kill -9, master SIGSTOP held 2x the
 * master-down interval then SIGCONT, planned handover) N trials (default 20),
 * each on whichever director is master at the time; min/median/p95 per case.
 *
 * Stacks, each in a lab of its own, side by side in one run:
 *   dsrd                      ours, at --advert-ms (default: dsrd's default advert interval)
 *   keepalived-same           keepalived 2.2.7 VRRPv3 at the same advert interval
 *   keepalived-default        keepalived at its default advert interval (1 s)
 * keepalived forwards with an nftables netdev DSR rule gated on VIP ownership
 * (IPVS is not in this kernel). Then the soak: S seconds (default 600) with
 * every core saturated and 5% loss between the directors, counting master
 * changes with no fault injected (run for dsrd and keepalived-same).
 *
 * dsrd is started with the CPU scheduling of its systemd unit (chrt, read from
 * systemd/dsrd.service); --sched other|fifo:P|rr:P|nice:N|reset measures an alternative.
 *
 * Prints progress on stderr, tables on stdout, and last the figures as one JSON line.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_ADVERT_INTERVAL_MS } from '../config/index.ts';
import { DsrError } from '../core/errors.ts';
import { DsrdStack } from '../lab/failover/dsrd-stack.ts';
import { type CaseStats, caseStats, failoverFigures } from '../lab/failover/figures.ts';
import { KeepalivedStack } from '../lab/failover/keepalived-stack.ts';
import { runStack, type StackRun } from '../lab/failover/run-stack.ts';
import type { SoakOutcome } from '../lab/failover/soak.ts';
import { CASE_KINDS, type CaseKind, type DirectorStack, type StallCounts } from '../lab/failover/stack.ts';
import { describeScheduling, parseSchedulingArg } from '../lab/failover/unit-scheduling.ts';
import { requireRoot } from '../lab/index.ts';
import { numberArg, parseBenchArgs, printFigures, printTable } from '../lab/report.ts';

const STACKS = ['dsrd', 'keepalived-same', 'keepalived-default'] as const;
type StackId = (typeof STACKS)[number];
const KEEPALIVED_DEFAULT_ADVERT_MS = 1000;
const SOAK_LOSS_PERCENT = 5;

const args = parseBenchArgs(process.argv.slice(2));
const trials = Math.round(numberArg(args, 'trials', 20));
const soakS = args.get('soak-s') === '0' ? 0 : numberArg(args, 'soak-s', 600);
const advertMs = Math.round(numberArg(args, 'advert-ms', DEFAULT_ADVERT_INTERVAL_MS));
const cases = listArg('cases', CASE_KINDS);
const stacks = listArg('stacks', STACKS);
const sched = parseSchedulingArg(args.get('sched') ?? 'unit');

function listArg<T extends string>(name: string, all: readonly T[]): T[] {
  const v = args.get(name);
  if (v === undefined) return [...all];
  const picked = v.split(',').map((s) => s.trim());
  const bad = picked.filter((p) => !all.includes(p as T));
  if (bad.length > 0)
    throw new DsrError('E_USAGE', `--${name}: unknown ${bad.join(', ')} (known: ${all.join(', ')})`);
  return picked as T[];
}

const skip = requireRoot();
if (skip) throw new DsrError('E_NOT_ROOT', `the failover benchmark needs root: ${skip}`);
if (stacks.some((s) => s.startsWith('keepalived'))) {
  const v = spawnSync('keepalived', ['--version'], { encoding: 'utf8' });
  if (v.error)
    throw new DsrError('E_MISSING_TOOL', 'keepalived is not installed (apt-get install keepalived)');
}

function makeStack(id: StackId): DirectorStack {
  if (id === 'dsrd') return new DsrdStack(advertMs, `dsrd ${advertMs} ms`, sched);
  return new KeepalivedStack(id === 'keepalived-same' ? advertMs : KEEPALIVED_DEFAULT_ADVERT_MS);
}

const log = (line: string): void => {
  process.stderr.write(`[failover] ${line}\n`);
};

const workDir = mkdtempSync(join(tmpdir(), 'dsrl-failover-'));
process.on('exit', () => rmSync(workDir, { recursive: true, force: true }));

const runs = new Map<StackId, StackRun>();
for (const id of stacks) {
  const soak =
    soakS > 0 && id !== 'keepalived-default' ? { seconds: soakS, lossPercent: SOAK_LOSS_PERCENT } : null;
  runs.set(id, await runStack(makeStack(id), { cases, trials, soak, workDir, log }));
}

const statsOf = (id: StackId): CaseStats[] | null => {
  const r = runs.get(id);
  if (!r || r.unavailable) return null;
  return cases.map((k: CaseKind) => caseStats(r.stack, k, r.outcomes));
};

const rows = [...runs.entries()].flatMap(([id, r]) =>
  r.unavailable
    ? [[r.stack, 'not run', 0, 0, 0, null, null, null, null, null, null, null, null, null]]
    : (statsOf(id) ?? []).map((s) => [
        s.stack,
        s.kind,
        s.trials,
        s.measured,
        s.unrecovered,
        s.min,
        s.median,
        s.p95,
        s.max,
        s.lostSpanP95,
        s.lostMedian,
        s.lostMax,
        s.rateMinHz,
        s.probeMaxSendGapMs,
      ]),
);
printTable(
  `failover outage seen by a 1 ms UDP probe through the VIP (ms; longest gap in replies), ${trials} trials per case`,
  [
    'stack',
    'case',
    'trials',
    'measured',
    'unrecov.',
    'min',
    'median',
    'p95',
    'max',
    'lost-run p95',
    'lost med',
    'lost max',
    'probe Hz',
    'probe stall',
  ],
  rows,
);

const soakRows = [...runs.values()]
  .filter((r) => r.soak)
  .map((r) => {
    const s = r.soak!;
    return [
      r.stack,
      s.seconds,
      s.burners,
      s.lossPercent,
      s.error ? null : s.falseFailovers,
      s.error ? null : s.retaken,
      s.probe?.lost ?? null,
      s.probe ? Number(s.probe.gap.ms.toFixed(1)) : null,
      s.stalls === null
        ? null
        : [...s.stalls].map(([h, c]) => `${h} ${c.covered}/${c.relearned}/${c.keeperLimit}`).join(' '),
      s.witness?.maxLateMs ?? null,
      s.witness
        ? `${s.witness.lateOver['30']}/${s.witness.lateOver['50']}/${s.witness.lateOver['70']}`
        : null,
      s.error ?? '',
    ];
  });
if (soakRows.length > 0) {
  printTable(
    'soak: no fault injected, every core busy, loss on the control path',
    [
      'stack',
      'seconds',
      'burners',
      'loss %',
      'false failovers',
      'VIP re-taken',
      'probe lost',
      'longest gap ms',
      'stalls covered/relearned/limit',
      'host max late ms',
      'host late >30/50/70',
      'error',
    ],
    soakRows,
  );
}

const notes: string[] = [
  'host late = a bare real-time timer loop run through the soak (timer-witness.ts): how late the host itself ' +
    'let a timer be (VM pauses, non-preemptible kernel work), i.e. stalls no daemon setting can avoid.',
  'false failovers = the VIP taken by another director than the one holding it; VIP re-taken = dropped and ' +
    'taken back by the same director (dsrd fencing itself after a stall and finding no one took over: ' +
    "clients' ARP caches and forwarding stay on it).",
  'stalls covered/relearned/limit = what each director counted itself in the soak: stalls of a master its ' +
    'advert keeper spoke through / stalls after which it re-learned its peers (a master steps down first) / ' +
    "covers the keeper ended at its 500 ms limit (keepalived keeps no such count: '-').",
  'outage = longest gap between replies (issue 5); lost-run = send-time span of the longest run of unanswered ' +
    'probes (free of receive-side jitter); probe Hz = lowest achieved send rate; probe stall = longest pause of ' +
    "the probe's own sending (its resolution on this loaded host); unrecov. = replies had not resumed " +
    'within the recovery bound (the gap is then a lower bound).',
];
for (const r of runs.values()) {
  if (r.unavailable) notes.push(`${r.stack} not measured: ${r.unavailable}`);
  if (r.soak && r.soak.explained.length > 0)
    notes.push(`${r.stack} soak, from its log: ${r.soak.explained.slice(0, 40).join('; ')}`);
  const hostLate = r.soak?.witness?.stalls ?? [];
  if (r.soak && hostLate.length > 0) {
    const t0 = r.soak.startedAt;
    const at = (ms: number) => `+${((ms - t0) / 1000).toFixed(1)} s`;
    notes.push(
      `${r.stack} soak, host witness late > 30 ms: ${hostLate.map((s) => `${at(s.at)} ${s.lateMs} ms`).join('; ')}`,
    );
  }
  for (const s of cases.map((k) => caseStats(r.stack, k, r.outcomes))) {
    for (const e of s.errors) notes.push(`${r.stack} ${s.kind}: ${e}`);
  }
}
const ours = runs.get('dsrd');
const oursReason = !stacks.includes('dsrd') ? 'not selected (--stacks)' : (ours?.unavailable ?? null);
if (oursReason) notes.push(`figures for our stack are null: dsrd ${oursReason}`);
else if (stacks.includes('dsrd'))
  notes.push(
    `dsrd ran with CPU scheduling "${describeScheduling(sched)}" (--sched ${args.get('sched') ?? 'unit'}; ` +
      `the unit is systemd/dsrd.service), its election thread "${ours?.electionThread ?? 'not reported'}", ` +
      'and sends 2 adverts per interval (failover/election/timing.ts).',
  );
notes.push(
  'keepalived: VRRPv3, unicast, nopreempt; forwarding by an nftables netdev rule that only the VIP owner applies ' +
    '(IPVS is not in this kernel). kill -9/SIGSTOP leave the VIP and the kernel rule in place, so clients keep ' +
    'being served until the takeover moves them: those outages measure disruption, not detection.',
);
process.stdout.write(`\nnotes:\n${notes.map((n) => `- ${n}`).join('\n')}\n`);

printFigures('failover', {
  ...failoverFigures({
    advertMs,
    trials,
    ours: statsOf('dsrd'),
    oursReason,
    keepalivedDefault: statsOf('keepalived-default') ?? [],
    keepalivedSame: statsOf('keepalived-same') ?? [],
    soakOurs: runs.get('dsrd')?.soak ?? null,
    soakKeepalived: runs.get('keepalived-same')?.soak ?? null,
    soakSeconds: soakS,
  }),
  dsrd_scheduling: describeScheduling(sched),
  dsrd_election_thread: ours?.electionThread ?? null,
  // How late the host let a bare real-time timer be during our soak (timer-witness.ts).
  soak_host_max_late_ms: runs.get('dsrd')?.soak?.witness?.maxLateMs ?? null,
  soak_host_late_over_ms: runs.get('dsrd')?.soak?.witness?.lateOver ?? null,
  // What our directors counted themselves in the soak, per director (covered/relearned/limit).
  soak_stalls: soakStalls(runs.get('dsrd')?.soak?.stalls ?? null),
});

function soakStalls(stalls: SoakOutcome['stalls']): Record<string, StallCounts> | null {
  return stalls === null ? null : Object.fromEntries(stalls);
}
