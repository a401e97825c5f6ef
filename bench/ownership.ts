/**
 * `npm run bench -- ownership [--advert-ms 100] [--flood-rate 100000]`
 *
 * One owner per VIP at the edges (issue 21), measured from the client's side on a lab pair of
 * real dsrd directors: the client broadcasts an ARP request for the VIP every millisecond
 * (lab/ownership/arp-probe.ts) and records which MACs answered; a UDP probe through the VIP
 * (lab/failover/udp-probe.ts) gives the outage. Per case: the longest time two MACs answered
 * (overlap_ms), the longest time none did (unanswered_max_ms), who answered at the end, and the
 * outage.
 *
 * Cases, in order, on one pair (a preferred, b backing it up):
 *   preempt_after_restart  a stopped (SIGTERM), b master; measured from a's restart: a preempts b
 *   kill9_no_restart       kill -9 of the master a, then `dsrd --cleanup` at once, as the unit's
 *                          ExecStopPost= runs it; does a answer ARP 5 s after its stop?
 *   stop_of_hung_daemon    a SIGSTOPped (hung), b takes over; 2 s later SIGKILL (the end of
 *                          `systemctl stop`) and the cleanup
 *   main_hung_master       a's main thread alone frozen for 5 s (ptrace, lab/ownership/
 *                          freeze-thread.ts): its election thread goes Fault after the heartbeat
 *                          bound, b takes over, a's election thread lets the VIP go; then thawed
 *   main_hung_backup       b's main thread frozen for 5 s: nothing should move
 *   clock_back_restart     a restarted with its wall clock 2 min behind (libfaketime): b must not
 *                          drop its adverts as replays; a preempts as after any restart
 *   oneway_a_to_b          a's adverts to b dropped for 5 s, then healed
 *   oneway_b_to_a          b's adverts to a dropped for 5 s (b hears a: nothing should move)
 *   flood                  datagrams at the master's election port from the client, --flood-rate
 *                          per second for 3 s (lab/ownership/flood.ts)
 *   replayed_capture       6 s of a's adverts recorded, a killed (and cleaned up), b restarted and
 *                          the recording played to it from a's address; measured from b's start
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULTS } from '../config/index.ts';
import { clockBehind } from '../lab/clock.ts';
import { runIn } from '../lab/exec.ts';
import { type ProbeResult, RunningProbe } from '../lab/failover/probe-run.ts';
import { requireRoot } from '../lab/index.ts';
import {
  freezeMainThread,
  killAndCleanUp,
  recordAdverts,
  replayAdverts,
  thaw,
} from '../lab/ownership/adverts.ts';
import { answerFigures } from '../lab/ownership/arp-answers.ts';
import { type ArpResult, startArpWatch } from '../lab/ownership/arp-watch.ts';
import { type Director, DirectorPair } from '../lab/pair/director-pair.ts';
import { electionDrops, role } from '../lab/pair/status.ts';
import { numberArg, parseBenchArgs, printFigures, printTable } from '../lab/report.ts';
import { sleep } from '../lab/wait.ts';

const FLOOD = fileURLToPath(new URL('../lab/ownership/flood.ts', import.meta.url));
const args = parseBenchArgs(process.argv.slice(2));
const advertMs = numberArg(args, 'advert-ms', 100);
const floodRate = numberArg(args, 'flood-rate', 100_000);
const PORT = DEFAULTS.election.port;

const skip = requireRoot();
if (skip) {
  console.error(`ownership benchmark cannot run: ${skip}`);
  process.exit(1);
}

interface CaseFigures {
  overlap_ms: number;
  unanswered_max_ms: number;
  owners_at_end: number;
  outage_ms: number;
  /** The ARP probe's own longest stall: slots it did not measure (counted in neither figure). */
  probe_stall_ms: number;
}

/** Both probes around `action`, and the figures of the window from the action's start to the end. */
async function measure(
  pair: DirectorPair,
  action: (mark: () => number, startWindow: () => void) => Promise<void>,
): Promise<{ figures: CaseFigures; arp: ArpResult; from: number; udp: ProbeResult; owners: string[] }> {
  const { lab } = pair;
  const client = lab.clients[0];
  const arp = await startArpWatch(lab, client, pair.vip);
  const udp = await RunningProbe.start(lab, client, { addr: pair.vip, maxDurationMs: 120_000 });
  await sleep(300);
  let startedAtMs = Date.now();
  await action(
    () => Date.now(),
    () => {
      startedAtMs = Date.now();
    },
  );
  const udpResult = await udp.stop();
  const a = await arp.stop();
  const from = arp.slotAt(startedAtMs, a);
  const f = answerFigures(a.changes, from, a.slots, a.slotMs);
  return {
    figures: {
      overlap_ms: f.overlapMs,
      unanswered_max_ms: f.unansweredMaxMs,
      owners_at_end: f.ownersAtEnd.length,
      outage_ms: Math.round(udpResult.gap.ms),
      probe_stall_ms: a.maxSlipMs,
    },
    arp: a,
    from,
    udp: udpResult,
    owners: f.ownersAtEnd,
  };
}

async function dropAdverts(from: Director, at: Director): Promise<void> {
  const rules = `table inet dsrl_oneway {
  chain input { type filter hook input priority 0; policy accept; ip saddr ${from.host.ipv4} udp dport ${PORT} drop; }
}
`;
  await runIn(at.host.netns, 'nft', ['-f', '-'], { input: rules });
}

async function heal(at: Director): Promise<void> {
  await runIn(at.host.netns, 'nft', ['delete', 'table', 'inet', 'dsrl_oneway']);
}

/**
 * How long after the cut (the window's start) two owners became one: the end of the first run of
 * slots in which two MACs answered; 0 if there was none; null if it never ended in the window.
 * (Later overlaps, the yielding director's retries after its hold, show in overlap_ms.)
 */
function resolvedMs(a: ArpResult, from: number, to: number): number | null {
  // Slots the probe missed ('?') say nothing either way.
  const changes = a.changes.filter(([slot, macs]) => slot >= from && slot < to && macs !== '?');
  const first = changes.findIndex(([, macs]) => macs.includes(','));
  if (first === -1) return 0;
  const end = changes.slice(first + 1).find(([, macs]) => !macs.includes(','));
  return end === undefined ? null : (end[0] - from) * a.slotMs;
}

/** Freezes d's main thread for `ms` (its other threads run on). */
async function freezeMain(pair: DirectorPair, d: Director, ms: number): Promise<void> {
  const frozen = await freezeMainThread(pair, d);
  await sleep(ms);
  await thaw(frozen);
}

let clockBack = false;
const pair = await DirectorPair.create({
  advertMs,
  sync: { enabled: false },
  launch: (d) => (clockBack && d === pair.a ? clockBehind(120) : []),
});
const cases: Record<string, CaseFigures> = {};
let zombieAfterStop = true;
let onewayResolvedMs: number | null = null;
let floodFalseFailovers = -1;
let floodSent = null as { sent: number; rate: number } | null;
let replayDropped = -1;
let clockBackReplayDrops = -1;
try {
  const { a, b } = pair;
  await pair.startBoth();
  await pair.settled(a, b);
  const settleDown = () => pair.settled(a, b, 30_000);

  // Preemption after a restart (make-before-break on the way back): a stopped, b master, then a
  // restarted; measured from the restart.
  await a.proc!.stop();
  await pair.until(b, (s) => role(s) === 'master');
  const preempt = await measure(pair, async () => {
    await pair.start(a);
    await settleDown();
    await sleep(1000);
  });
  cases.preempt_after_restart = preempt.figures;

  // kill -9 with no restart: the cleanup the unit runs at once after (ExecStopPost=).
  const macA = a.host.mac.toLowerCase();
  const zombie = await measure(pair, async (mark) => {
    const killedAt = mark();
    await killAndCleanUp(pair, a);
    await sleep(Math.max(0, killedAt + 6000 - Date.now()));
  });
  cases.kill9_no_restart = zombie.figures;
  {
    // Did a's MAC answer in the second from 5 s to 6 s after its stop?
    const z = zombie.arp;
    const from5 = zombie.from + Math.floor(5000 / z.slotMs);
    const f = answerFigures(
      z.changes,
      from5,
      Math.min(z.slots, from5 + Math.floor(1000 / z.slotMs)),
      z.slotMs,
      1000,
    );
    zombieAfterStop = f.ownersAtEnd.includes(macA);
  }
  await pair.start(a);
  await settleDown();

  // A hung daemon stopped by the operator: SIGSTOP (hung), then the end of `systemctl stop`
  // (SIGKILL after TimeoutStopSec, 2 s here) and the cleanup. A stopped process's kernel still
  // answers ARP: the overlap lasts until the kill, which is what the stop timeout bounds.
  const hung = await measure(pair, async () => {
    a.proc!.signal('SIGSTOP');
    await pair.until(b, (s) => role(s) === 'master');
    await sleep(2000);
    await killAndCleanUp(pair, a);
    await sleep(1000);
  });
  cases.stop_of_hung_daemon = hung.figures;
  await pair.start(a);
  await settleDown();

  // The master's main thread hangs for 5 s, then runs again (a takes the VIP back by preemption).
  const mainHungMaster = await measure(pair, async () => {
    await freezeMain(pair, a, 5000);
    await settleDown();
    await sleep(1000);
  });
  cases.main_hung_master = mainHungMaster.figures;

  // The backup's main thread hangs for 5 s: nothing should move.
  const mainHungBackup = await measure(pair, async () => {
    await freezeMain(pair, b, 5000);
    await sleep(1000);
  });
  cases.main_hung_backup = mainHungBackup.figures;
  await settleDown();

  // a restarted with its clock 2 min behind (its last start was seconds ago: a session id taken
  // from the clock would be older than the one b holds).
  await a.proc!.stop();
  await pair.until(b, (s) => role(s) === 'master');
  const replaysBefore = electionDrops((await pair.status(b))!).replay ?? 0;
  const clockCase = await measure(pair, async () => {
    clockBack = true;
    try {
      await pair.start(a);
    } finally {
      clockBack = false;
    }
    await settleDown();
    await sleep(1000);
  });
  cases.clock_back_restart = clockCase.figures;
  clockBackReplayDrops = (electionDrops((await pair.status(b))!).replay ?? 0) - replaysBefore;
  // Back to a true clock.
  await a.proc!.stop();
  await pair.until(b, (s) => role(s) === 'master');
  await pair.start(a);
  await settleDown();

  // One-way cut a → b, healed after 5 s; a takes the VIP back after its hold.
  const oneway = await measure(pair, async () => {
    await dropAdverts(a, b);
    await sleep(5000);
    await heal(b);
    await settleDown();
    await sleep(500);
  });
  cases.oneway_a_to_b = oneway.figures;
  {
    const o = oneway.arp;
    // Resolution within the cut (the first 5 s).
    onewayResolvedMs = resolvedMs(o, oneway.from, oneway.from + Math.floor(5000 / o.slotMs));
  }

  // One-way cut b → a: b still hears a, nothing should move.
  const reverse = await measure(pair, async () => {
    await dropAdverts(b, a);
    await sleep(5000);
    await heal(a);
    await sleep(500);
  });
  cases.oneway_b_to_a = reverse.figures;

  // A flood at the master's election port, from a non-peer.
  const takeovers = () => pair.logs(b).filter((l) => l.includes('"to":"master"')).length;
  const before = takeovers();
  const flood = await measure(pair, async () => {
    const out = await pair.lab.exec(
      pair.lab.clients[0],
      process.execPath,
      [
        FLOOD,
        '--to',
        a.host.ipv4,
        '--port',
        String(PORT),
        '--rate',
        String(floodRate),
        '--count',
        String(floodRate * 3),
      ],
      { timeoutMs: 60_000 },
    );
    floodSent = JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}') as { sent: number; rate: number };
    console.log(`flood: ${JSON.stringify(floodSent)}`);
    await sleep(1000);
  });
  cases.flood = flood.figures;
  floodFalseFailovers = takeovers() - before;

  // A replayed capture: 6 s of a's adverts recorded on b, a killed and cleaned up, b restarted,
  // the recording played to b from a's address. Measured from b's start.
  const pcap = join(pair.dir, 'adverts.pcap');
  const recorded = await recordAdverts(pair, a, b, pcap, 6);
  await killAndCleanUp(pair, a);
  await pair.until(b, (s) => role(s) === 'master');
  await b.proc!.stop();
  const replayed = await measure(pair, async (_mark, startWindow) => {
    const replay = await replayAdverts(pair, a, b, pcap);
    await pair.start(b);
    // From b's election start: before it, b's absence is a restart, not the replay's doing.
    startWindow();
    await replay.waitForLine(/^\{/, 20_000);
    await sleep(500);
  });
  cases.replayed_capture = replayed.figures;
  replayDropped = electionDrops((await pair.status(b))!).replay ?? 0;
  console.log(`replayed capture: ${recorded} adverts recorded, ${replayDropped} dropped by b as replays`);
} finally {
  await pair.destroy();
}

printTable(
  `one owner per VIP, adverts every ${advertMs} ms`,
  ['case', 'overlap ms', 'unanswered max ms', 'owners at end', 'outage ms', 'probe stall ms'],
  Object.entries(cases).map(([name, c]) => [
    name,
    String(c.overlap_ms),
    String(c.unanswered_max_ms),
    String(c.owners_at_end),
    String(c.outage_ms),
    String(c.probe_stall_ms),
  ]),
);
printFigures('ownership', {
  advert_ms: advertMs,
  cases,
  max_overlap_ms: Math.max(...Object.values(cases).map((c) => c.overlap_ms)),
  zombie_after_stop: zombieAfterStop,
  oneway_resolved_ms: onewayResolvedMs,
  flood_false_failovers: floodFalseFailovers,
  flood_sent_per_s: floodSent?.rate ?? null,
  clock_back_replay_drops: clockBackReplayDrops,
  replayed_capture_drops: replayDropped,
});
