/**
 * Lab (issue 5, no false failovers): the master's election thread loses its CPU while the rest of
 * the host runs on, as when a hypervisor deschedules one vCPU (docs/failover.md, "The advert
 * keeper"). A real-time busy loop at priority 99, pinned to the CPU the master's election thread
 * is pinned to, takes that CPU away for a while; the backup runs on the other CPU only (taskset),
 * so it sees the master's silence as it would a dead master's.
 *
 * - 250 ms (3.5 × the backup's master-down interval): the master's advert keeper, on the other
 *   CPU, speaks for it; the backup stays backup, the VIP never moves, the master does not fence.
 * - 700 ms (past the keeper's 500 ms limit): the keeper stops and the backup takes over, as from a
 *   broken master; the old master, back, steps down (stall) and then preempts back.
 */
import { availableParallelism } from 'node:os';
import type { ExecutionContext } from 'ava';
import test from 'ava';
import type { DaemonStatus } from '../../admin/catalogue/status.ts';
import type { KeeperStatus } from '../../failover/index.ts';
import { dsrctl } from '../../lab/binaries.ts';
import { stallCountsOf } from '../../lab/failover/dsrd-stack.ts';
import { VipWatch } from '../../lab/failover/vip-watch.ts';
import { requireRoot, run } from '../../lab/index.ts';
import { DirectorPair } from '../../lab/pair/director-pair.ts';
import { role } from '../../lab/pair/status.ts';
import { sleep } from '../../lab/wait.ts';

const ADVERT_MS = 20;

const skip = requireRoot() ?? (availableParallelism() < 2 ? 'needs two CPUs' : null);
if (skip) console.log(`dsrd keeper lab test skipped: ${skip}`);

function keeperOf(s: DaemonStatus | null): KeeperStatus | null {
  const part = s?.parts.find((p) => p.name === 'election')?.status as
    | { election?: { keeper?: KeeperStatus | null } }
    | undefined;
  return part?.election?.keeper ?? null;
}

/** Takes `cpu` away from everything below real-time priority 99 for `ms`. */
async function hogCpu(cpu: number, ms: number): Promise<void> {
  // timeout itself stays unpinned at the default policy: a fifo 99 timer on the hogged CPU would
  // never get to end the loop.
  const loop = ['taskset', '-c', String(cpu), 'chrt', '-f', '99', 'sh', '-c', 'while :; do :; done'];
  await run('timeout', [`${ms / 1000}`, ...loop], { allowFailure: true, timeoutMs: ms + 5000 });
}

/** The unit's scheduling (systemd/dsrd.service); the backup confined to CPU 0. */
function keeperPair(): Promise<DirectorPair> {
  return DirectorPair.create({
    advertMs: ADVERT_MS,
    noUnicastFlood: true,
    launch: (d) => ['chrt', '-f', '-R', '10', ...(d.host.name === 'd2' ? ['taskset', '-c', '0'] : [])],
  });
}

/** Both started; the master runs a keeper on another CPU, the backup none. Returns the election CPU. */
async function startKeeperPair(t: ExecutionContext, pair: DirectorPair): Promise<number> {
  await pair.startBoth();
  const ka = keeperOf(await pair.status(pair.a));
  const kb = keeperOf(await pair.status(pair.b));
  t.log(`master keeper: ${JSON.stringify(ka)}; backup keeper: ${JSON.stringify(kb)}`);
  t.true(ka?.running, 'the master runs a keeper');
  t.not(ka?.electionCpu, ka?.keeperCpu, 'on another CPU than its election thread');
  t.false(kb?.running, 'a director confined to one CPU runs none');
  t.regex(kb?.problems.join(' ') ?? '', /one CPU/);
  const electionCpu = ka!.electionCpu!;
  t.not(electionCpu, 0, 'the backup (CPU 0) keeps running while the hog holds the master CPU');
  return electionCpu;
}

/** 250 ms without the election CPU: the keeper speaks, nothing moves, the master does not fence. */
async function coveredStall(
  t: ExecutionContext,
  pair: DirectorPair,
  watch: VipWatch,
  cpu: number,
): Promise<void> {
  const { a, b } = pair;
  await sleep(500);
  const changesBefore = watch.holders.changes.length;
  await hogCpu(cpu, 250);
  await sleep(3 * pair.masterDownMs + 200);
  const [sa, sb] = await Promise.all([pair.status(a), pair.status(b)]);
  const covered = keeperOf(sa);
  t.log(`after 250 ms: ${JSON.stringify(covered)}`);
  t.is(role(sa!), 'master');
  t.is(role(sb!), 'backup');
  t.is(watch.holders.changes.length, changesBefore, 'the VIP never moved or dropped');
  t.true((covered?.covers ?? 0) >= 1 && (covered?.advertsSent ?? 0) >= 5, 'the keeper spoke');
  t.true((covered?.longestSilenceMs ?? 0) > pair.masterDownMs, 'through a silence a backup acts on');
  t.false(
    pair.logs(a).some((l) => l.includes('"reason":"stall"')),
    'the master did not fence itself: its peers heard it throughout',
  );
  const stalls = stallCountsOf(sa!);
  t.true((stalls?.covered ?? 0) >= 1, `the master counted the stall as covered: ${JSON.stringify(stalls)}`);
  t.is(stalls?.relearned, 0);
  const text = await dsrctl(['-s', a.sock, 'status']);
  t.regex(text.stdout, /keeper on CPU \d+: [1-9]\d* covers, [1-9]\d* adverts, longest silence [\d.]+ ms/);
  t.regex(text.stdout, /stalls 0 relearned, [1-9]\d* covered/);
}

/** Runs `body` on a started keeper pair, with its VIP watched; logs the daemons' tails on failure. */
async function withKeeperPair(
  t: ExecutionContext,
  body: (pair: DirectorPair, watch: VipWatch, cpu: number) => Promise<void>,
): Promise<void> {
  t.timeout(120_000);
  const pair = await keeperPair();
  let watch: VipWatch | undefined;
  try {
    const cpu = await startKeeperPair(t, pair);
    watch = await VipWatch.start(pair.lab, pair.lab.directors, pair.vip);
    await body(pair, watch, cpu);
  } catch (e) {
    for (const d of pair.directors) t.log(`${d.host.name}:\n${pair.logTail(d, 15).join('\n')}`);
    throw e;
  } finally {
    await watch?.stop();
    await pair.destroy();
  }
}

const labTest = skip ? test.skip : test.serial;

labTest('a master whose election thread loses its CPU: the keeper holds the VIP, within its limit', (t) =>
  withKeeperPair(t, async (pair, watch, cpu) => {
    const { a, b } = pair;
    await coveredStall(t, pair, watch, cpu);
    // Past the limit: a broken master is taken over from.
    await hogCpu(cpu, 700);
    await pair.until(b, (s) => role(s) === 'master' || s.groups[0].master === a.host.name, 5000);
    const gaveUp = keeperOf(await pair.status(a));
    t.log(`after 700 ms: ${JSON.stringify(gaveUp)}`);
    t.true((gaveUp?.gaveUp ?? 0) >= 1, 'the keeper stopped at its limit');
    t.true(
      watch.holders.acquisitionsSince(0).some((c) => c.host === b.host.name),
      'the backup took the VIP over',
    );
    t.true(
      pair.logs(a).some((l) => l.includes('"reason":"stall"')),
      'the old master fenced itself on resume',
    );
    // preempt is on: the preferred director comes back as master.
    await pair.until(a, (s) => role(s) === 'master', 10_000);
  }),
);
