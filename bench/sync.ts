/**
 * `npm run bench -- sync [--rates 20000,40000,60000,80000,100000,120000] [--seconds 3] [--loss 1] [--bulk 1000000]
 *   [--present-seconds 60] [--drill-streams 50] [--flood 1000000]`
 *
 * The sync on its real path, with two real dsrd directors in the lab: the active's XDP program
 * makes the entries (a second copy of it over the daemon's pinned maps, fed frames by
 * BPF_PROG_TEST_RUN: lab/sync/traffic-worker.ts) and reports them through the daemon's own ring;
 * the daemon's sync thread sends them over authenticated UDP, with `--loss`% random loss on the
 * link between the directors (nftables); the standby's sync thread writes them into its BPF maps,
 * and every figure is read back from those maps.
 *
 * Rates, bulk and drill run on a pair with the shipped defaults; presence on a pair of its own
 * with short timeouts and refresh period.
 *
 * 1. rates: new TCP connections per second, each a SYN, an ACK and a FIN as the program reports
 *    them (three events; played by the kernel, forwarder/bpf/flow_gen.c, after a warm-up); the lag
 *    from SYN to the entry in the standby's map (sampled), and events the ring lost. flows_per_s
 *    is the highest rate with lag p99 <= 50 ms and none lost.
 * 2. bulk: `--bulk` established entries in the active's table, an empty standby started: the time
 *    to in sync, the active's slowest status answer (its main thread) while the bulk ran and,
 *    apart, while the standby started (on this shared host its map allocation holds the active
 *    up), its memory.
 * 3. drill: `dsrctl drill --back` with live TCP streams through the VIP, on those tables.
 * 4. presence: UDP flows and persistence clients kept alive for 3x their timeout (packets and new
 *    connections through the program every refresh period), then at a random instant every live
 *    entry of the active is looked up on the standby.
 * 5. flood: a spoofed ACK flood from `--flood` sources against a forwarder of its own whose table
 *    holds live long-lived flows, with and without SYN-only entries side by side.
 */
import { readFileSync } from 'node:fs';
import { callDaemon } from '../admin/client.ts';
import { setThreadScheduling } from '../core/kernel/sched.ts';
import { createForwarderInstance, type ForwarderInstance } from '../forwarder/harness.ts';
import { removePins } from '../forwarder/loader.ts';
import { dsrctl } from '../lab/binaries.ts';
import { dsrdUnitScheduling, schedulingPrefix } from '../lab/failover/unit-scheduling.ts';
import { requireRoot } from '../lab/index.ts';
import { HTTP_PERSISTENT, TCP_ECHO, UDP_ECHO } from '../lab/pair/config.ts';
import { type Director, DirectorPair, type PairOptions } from '../lab/pair/director-pair.ts';
import { role, syncPeer } from '../lab/pair/status.ts';
import { streamsReport } from '../lab/pair/traffic.ts';
import { numberArg, parseBenchArgs, printFigures, printTable, summarize } from '../lab/report.ts';
import { ackFlood, type FloodResult } from '../lab/sync/flood.ts';
import { flowOf } from '../lab/sync/flows.ts';
import { LagProbe, type Presence, presence } from '../lab/sync/presence.ts';
import { Traffic } from '../lab/sync/traffic.ts';
import { sleep } from '../lab/wait.ts';

const args = parseBenchArgs(process.argv.slice(2));
const rates = (args.get('rates') ?? '20000,40000,60000,80000,100000,120000').split(',').map(Number);
const seconds = numberArg(args, 'seconds', 3);
const loss = numberArg(args, 'loss', 1);
const bulkFlows = Math.round(numberArg(args, 'bulk', 1_000_000));
const presentSeconds = numberArg(args, 'present-seconds', 60);
const drillStreams = Math.round(numberArg(args, 'drill-streams', 50));
const floodSources = Math.round(numberArg(args, 'flood', 1_000_000));
const skip = requireRoot();
if (skip) {
  console.error(`sync benchmark cannot run: ${skip}`);
  process.exit(1);
}

/**
 * Short timeouts for the presence phase (a pair of its own): three of them pass in presentSeconds,
 * so its UDP flows and persistence entries outlive their timeout several times over and are on the
 * standby only through the refresh.
 */
const TIMEOUT_S = Math.max(20, Math.round(presentSeconds / 3));
const REFRESH_S = Math.max(5, Math.round(TIMEOUT_S / 2));
const UDP_FLOWS = 2000;
/** Flow indexes of the warm-up connections: apart from the measured ones (lab/sync/flows.ts). */
const WARMUP_FROM = 30_000_000;
const PERSIST_CLIENTS = 500;
const VIP_BYTES = Uint8Array.of(198, 18, 0, 200);

interface RateResult {
  rate: number;
  achieved: number;
  lag: ReturnType<typeof summarize>;
  unseen: number;
  ringLost: number;
}

const rssMb = (pid: number): number =>
  Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

function openPins(pair: DirectorPair, d: Director): ForwarderInstance {
  return createForwarderInstance({ load: pair.pins(d) });
}

async function measureRate(
  traffic: Traffic,
  active: ForwarderInstance,
  standby: ForwarderInstance,
  rate: number,
  from: number,
): Promise<RateResult> {
  const probe = new LagProbe(standby, (i) => flowOf(i, VIP_BYTES, TCP_ECHO.port, 6));
  const lost0 = active.stats.reasons().event_lost.packets;
  let stragglersUntil = Number.POSITIVE_INFINITY; // set when the traffic ends: 5 s more for the last samples
  const polling = (async () => {
    while (
      performance.now() < stragglersUntil &&
      (stragglersUntil === Number.POSITIVE_INFINITY || probe.pending > 0)
    ) {
      probe.poll();
      await sleep(2);
    }
  })();
  const count = Math.round(rate * seconds);
  const done = await traffic.run(
    { op: 'tcp', from, count, rate, sampleEvery: Math.max(1, Math.round(rate / 500)) },
    (s) => probe.add(s),
  );
  stragglersUntil = performance.now() + 5000;
  await polling;
  return {
    rate,
    achieved: count / done.seconds,
    lag: summarize(probe.lagsMs),
    unseen: probe.pending,
    ringLost: Number(active.stats.reasons().event_lost.packets - lost0),
  };
}

async function measurePresence(
  traffic: Traffic,
  active: ForwarderInstance,
  standby: ForwarderInstance,
): Promise<Presence> {
  const udpFrom = 20_000_000;
  const persistFrom = 21_000_000;
  const rounds = Math.ceil(presentSeconds / REFRESH_S);
  for (let round = 0; round < rounds; round++) {
    const t0 = performance.now();
    await traffic.run({ op: 'udp', from: udpFrom, count: UDP_FLOWS });
    await traffic.run({ op: 'syn', from: persistFrom, count: PERSIST_CLIENTS, round });
    await sleep(Math.max(0, REFRESH_S * 1000 - (performance.now() - t0)));
  }
  // A random instant within the next refresh period.
  await sleep(Math.random() * REFRESH_S * 1000);
  return presence(active, standby);
}

interface BulkResult {
  inSyncS: number;
  carried: number;
  /** The active's slowest status answer while the bulk ran (the standby's sync started to in sync). */
  stallMaxMs: number;
  /** ... and while the standby started, before its sync did (its maps being made). */
  standbyStartStallMaxMs: number;
  rssGrowthMb: number;
}

/** When a director's dsrd logged `msg` (its log line's wall-clock time, ms), or null if not yet. */
function loggedAt(d: Director, msg: string): number | null {
  const line = d.proc?.lines.find((l) => l.includes(`"msg":"${msg}"`));
  const time = line === undefined ? undefined : /"time":"([^"]+)"/.exec(line)?.[1];
  return time === undefined ? null : Date.parse(time);
}

async function measureBulk(pair: DirectorPair): Promise<BulkResult> {
  const { a, b } = pair;
  const fill = openPins(pair, a);
  try {
    fill.fillConnTable(bulkFlows, {
      service: `tcp/${pair.vip}:${TCP_ECHO.port}`,
      real: pair.lab.realServers[0].ipv4,
    });
  } finally {
    fill.close();
  }
  await b.proc?.stop();
  removePins(pair.pinDir(b)); // an empty standby
  const rss0 = rssMb(a.proc!.pid);
  const answers: { at: number; ms: number }[] = [];
  let rssMax = rss0;
  let watching = true;
  // The client that times the active's answers runs real-time below the daemon's main thread, so
  // an answer's time is the daemon's and not this process's wait for a CPU that two directors
  // saturate here. Reset on fork: the standby it starts gets its unit's scheduling, no more.
  setThreadScheduling({ policy: 'fifo', priority: 5, resetOnFork: true });
  const watch = (async () => {
    while (watching) {
      const at = Date.now();
      const t0 = performance.now();
      await callDaemon(a.sock, 'status', {}, { timeoutMs: 5000 });
      answers.push({ at, ms: performance.now() - t0 });
      rssMax = Math.max(rssMax, rssMb(a.proc!.pid));
      await sleep(20);
    }
  })();
  const t0 = performance.now();
  let carried = 0;
  let inSyncS = 0;
  try {
    await pair.start(b);
    await pair.until(
      b,
      (s) => {
        carried = syncPeer(s)?.bulkEntries ?? 0;
        return syncPeer(s)?.inSync === true && carried >= bulkFlows;
      },
      120_000,
    );
    inSyncS = (performance.now() - t0) / 1000;
  } finally {
    watching = false;
    await watch;
    setThreadScheduling({ policy: 'other', priority: 0, resetOnFork: false });
  }
  // Two directors share this host: the standby's start (its 2M-entry maps made by the kernel,
  // which does not preempt that work here: PREEMPT_NONE) holds up even a real-time thread of the
  // active for tens of ms. A director's peer starts on a machine of its own; both are reported.
  const syncStarted = loggedAt(b, 'sync started') ?? Number.POSITIVE_INFINITY;
  const max = (xs: { ms: number }[]) => xs.reduce((m, x) => Math.max(m, x.ms), 0);
  return {
    inSyncS,
    carried,
    stallMaxMs: max(answers.filter((x) => x.at >= syncStarted)),
    standbyStartStallMaxMs: max(answers.filter((x) => x.at < syncStarted)),
    rssGrowthMb: rssMax - rss0,
  };
}

async function measureDrill(
  pair: DirectorPair,
): Promise<{ conns: number; lost: number; passed: boolean; summary: string }> {
  const { proc } = await pair.streams(drillStreams);
  await pair.until(pair.b, (s) => role(s) === 'backup');
  await sleep(1000); // the standby holds every stream's entry
  const run = await dsrctl(['-s', pair.a.sock, 'drill', '--back', '--json']);
  const report = JSON.parse(run.stdout) as { ok: boolean; summary: string };
  await sleep(500);
  const r = await streamsReport(proc, 'final');
  // A stream is lost if it died or saw any error (reset, broken echo): both are counted.
  return {
    conns: r.count,
    lost: Math.max(r.count - r.alive, r.withErrors),
    passed: report.ok && run.code === 0,
    summary: report.summary,
  };
}

// dsrd runs as its unit runs it (its main thread SCHED_FIFO): the active's main thread is measured
// as it would be on a director, not as an ordinary process on a saturated host.
const scheduling = dsrdUnitScheduling();

interface Bench {
  pair: DirectorPair;
  traffic: Traffic;
  /** The directors' own maps, through their pins. */
  active: ForwarderInstance;
  standby: ForwarderInstance;
}

/** A started pair with `loss`% loss between the directors, its views and the traffic thread, for `run`. */
async function withPair<T>(
  config: Pick<PairOptions, 'services' | 'timers' | 'sync' | 'tables'>,
  run: (b: Bench) => Promise<T>,
): Promise<T> {
  const pair = await DirectorPair.create({ ...config, launch: () => schedulingPrefix(scheduling) });
  try {
    await pair.startBoth();
    const traffic = await Traffic.start({
      ...pair.pins(pair.a),
      dispatcherNetns: pair.lab.clients[0].netns,
      directorMac: pair.a.host.mac,
      vip: pair.vip,
      tcpPort: TCP_ECHO.port,
      udpPort: UDP_ECHO.port,
      persistPort: HTTP_PERSISTENT.port,
    });
    const b = { pair, traffic, active: openPins(pair, pair.a), standby: openPins(pair, pair.b) };
    try {
      if (loss > 0) await pair.lab.loss(pair.a.host, pair.b.host, loss);
      return await run(b);
    } finally {
      await traffic.stop();
      b.active.close();
      b.standby.close();
    }
  } finally {
    await pair.destroy();
  }
}

// Rates, then bulk and drill, each on a pair with the shipped defaults (timers, refresh period, table
// size): what a director runs. A pair of their own each, so the rates' million connections (alive
// for the closing timeout) do not share the table with the bulk's million.
const SERVICES = [TCP_ECHO, HTTP_PERSISTENT, UDP_ECHO];
const results = await withPair({ services: SERVICES }, async (b) => {
  // Warm-up, not measured: a second of the first rate (the daemons' code paths compiled, the
  // standby's first writes done), then a pause for the sync to drain it.
  await b.traffic.run({
    op: 'tcp',
    from: WARMUP_FROM,
    count: rates[0],
    rate: rates[0],
    sampleEvery: rates[0],
  });
  await sleep(2000);
  const out: RateResult[] = [];
  let from = 0;
  for (const rate of rates) {
    out.push(await measureRate(b.traffic, b.active, b.standby, rate, from));
    from += Math.round(rate * seconds);
  }
  return out;
});
// Room for the bulk: an LRU table nearly full evicts entries even on updates (a new element is
// taken before the old one is freed), and the drill counts every flow it carries.
const BULK_TABLE = 2 ** Math.ceil(Math.log2(bulkFlows * 1.5));
const { bulk, drill } = await withPair(
  { services: SERVICES, tables: { conn_table_size: BULK_TABLE } },
  async (b) => {
    // The loss is part of the live figures; the bulk is measured on a clean link.
    if (loss > 0) await b.pair.lab.clearLoss(b.pair.a.host, b.pair.b.host);
    b.standby.close(); // the standby's maps go with its pins
    const bulk = await measureBulk(b.pair);
    b.standby = openPins(b.pair, b.pair.b);
    return { bulk, drill: await measureDrill(b.pair) };
  },
);
// Presence with short timeouts and refresh period, so that entries outlive theirs several times
// within the run: a pair of its own.
const present = await withPair(
  {
    services: [TCP_ECHO, { ...HTTP_PERSISTENT, persistence: { timeout_s: TIMEOUT_S } }, UDP_ECHO],
    timers: { udp_s: TIMEOUT_S, tcp_closing_s: TIMEOUT_S },
    sync: { refresh_s: REFRESH_S },
  },
  (b) => measurePresence(b.traffic, b.active, b.standby),
);
const floods: FloodResult[] = [true, false].map((synOnly) =>
  ackFlood({ synOnly, live: 20_000, flood: floodSources, tableSize: 65_536 }),
);

printTable(
  `new TCP connections through the active's program (SYN, ACK, FIN each), ${seconds} s per rate, ${loss}% loss between the directors`,
  [
    'target conns/s',
    'achieved',
    'lag p50 ms',
    'lag p99 ms',
    'lag max ms',
    'samples',
    'never seen',
    'ring lost',
  ],
  results.map((r) => [
    r.rate,
    Math.round(r.achieved),
    r.lag.median,
    r.lag.p99,
    r.lag.max,
    r.lag.n,
    r.unseen,
    r.ringLost,
  ]),
);
printTable(
  `presence at a random instant, after ${presentSeconds} s of UDP flows and persistence clients kept alive (timeouts ${TIMEOUT_S} s, refresh ${REFRESH_S} s)`,
  [
    'live on the active',
    'conns',
    'persistence',
    'held by the standby',
    'missing conns',
    'missing persistence',
  ],
  [
    [
      present.live,
      present.liveConns,
      present.livePersist,
      present.present,
      present.missingConns,
      present.missingPersist,
    ],
  ],
);
printTable(
  `bulk: ${bulkFlows} entries on the active, an empty standby started`,
  [
    'in sync after s',
    'entries carried',
    "active's slowest status answer ms: during the bulk",
    'while the standby started',
    'active RSS growth MB',
  ],
  [[bulk.inSyncS, bulk.carried, bulk.stallMaxMs, bulk.standbyStartStallMaxMs, bulk.rssGrowthMb]],
);
printTable(
  `drill (dsrctl drill --back) with ${bulkFlows} entries in the tables`,
  ['streams', 'lost or reset', 'drill'],
  [[drill.conns, drill.lost, drill.summary]],
);
printTable(
  `spoofed ACK flood from ${floodSources} sources, 20000 live flows, a 65536-entry table`,
  ['SYN-only', 'live flows evicted', 'entries the flood made', 'sent statelessly', 'flood s'],
  floods.map((f) => [f.synOnly ? 'on' : 'off', f.evicted, f.floodEntries, f.stateless, f.seconds]),
);

const ok = results.filter((r) => r.lag.n > 0 && r.lag.p99 <= 50 && r.ringLost === 0 && r.unseen === 0);
const best = ok.sort((x, y) => y.achieved - x.achieved)[0];
const at = (r: RateResult | undefined) => (r === undefined ? null : Number(r.lag.p99.toFixed(2)));
printFigures('sync', {
  flows_per_s: best ? Math.round(best.achieved) : 0,
  lag_p50_ms: best ? Number(best.lag.median.toFixed(2)) : null,
  lag_p99_ms: at(best),
  ring_lost: best ? best.ringLost : null,
  rates: results.map((r) => ({
    target: r.rate,
    achieved: Math.round(r.achieved),
    lag_p99_ms: at(r),
    ring_lost: r.ringLost,
    unseen: r.unseen,
  })),
  loss_percent: loss,
  present_ratio: present.live > 0 ? Number((present.present / present.live).toFixed(5)) : null,
  present_live: present.live,
  bulk_flows: bulkFlows,
  bulk_in_sync_s: Number(bulk.inSyncS.toFixed(2)),
  active_stall_max_ms: Number(bulk.stallMaxMs.toFixed(1)),
  active_stall_max_standby_start_ms: Number(bulk.standbyStartStallMaxMs.toFixed(1)),
  active_rss_growth_mb: Math.round(bulk.rssGrowthMb),
  drill_conns: drill.conns,
  drill_conns_lost: drill.lost,
  drill_passed: drill.passed,
  flood_evicted_live: floods[0].evicted,
  flood_evicted_live_without_hardening: floods[1].evicted,
  flood_sources: floodSources,
});
