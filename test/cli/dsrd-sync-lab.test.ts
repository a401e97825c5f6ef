/**
 * Lab (issue 6): two real dsrd directors with the connection/persistence sync enabled, three real
 * servers, traffic running.
 *
 * 1. kill -9 of the active's dsrd: 50 long-lived TCP streams through the VIP carry on through the
 *    standby with no reset and no stall beyond the failover's bound. The killed director's XDP
 *    program and VIP stay behind in its kernel (what an operator would find); the survivor takes
 *    the clients over by gratuitous ARP. Restarted, the old active clears its leftover VIP, pulls
 *    the tables back from the new active, and preempts only once in sync.
 * 2. Link down on the active's eth0: the same streams survive the outage; when the link returns
 *    the old active pulls the tables back and preempts again, and the streams survive that too.
 * 3. Persistence: clients pinned to real servers stay on them after a real server is added (the
 *    hash would now move some of them) and the VIP moves to the other director.
 *
 * Every test ends with one master holding the VIP, traffic through it, no VIP on the other, and
 * the lab torn down.
 */
import test, { type ExecutionContext } from 'ava';
import type { ConnsResult, ExplainResult } from '../../admin/catalogue/flows.ts';
import { hashClient, hashFlow } from '../../forwarder/flow-hash.ts';
import { parseMapAddress } from '../../forwarder/layout.ts';
import { buildMaglevTable, MAGLEV_DEFAULT_SIZE } from '../../forwarder/maglev.ts';
import { DEFAULT_SETTINGS } from '../../forwarder/settings.ts';
import { dsrctl } from '../../lab/binaries.ts';
import { type LabProcess, requireRoot } from '../../lab/index.ts';
import { syncServices } from '../../lab/pair/config.ts';
import { type Director, DirectorPair } from '../../lab/pair/director-pair.ts';
import { role, syncPeer } from '../../lab/pair/status.ts';
import { type StreamsReport, streamsReport } from '../../lab/pair/traffic.ts';
import { sleep, until } from '../../lab/wait.ts';

const STREAMS = 50;

/**
 * What a stream may stall across an unplanned failover: detection (the master-down interval) and
 * the takeover, then TCP's retransmission backoff (200 ms minimum RTO, doubling), which can add up
 * to about twice the outage. 3 × master-down + 1 s covers that on a loaded machine.
 */
function stallBoundMs(pair: DirectorPair): number {
  return Math.round(3 * pair.masterDownMs + 1000);
}

function logStreams(t: ExecutionContext, what: string, r: StreamsReport): void {
  t.log(
    `${what}: ${r.alive}/${r.count} streams alive, ${r.withErrors} with errors; max stall ${r.maxDelayMs} ms ` +
      `(median of the per-stream max ${r.medianMaxDelayMs} ms); ${r.echoed}/${r.sent} lines echoed, ` +
      `${r.bytes} bytes; client event-loop delay max ${r.loopDelayMaxMs} ms`,
  );
}

function assertStreams(t: ExecutionContext, r: StreamsReport, boundMs: number): void {
  const broken = r.streams.filter((s) => s.errors.length > 0);
  t.deepEqual(
    broken.map((s) => `${s.id}@${s.server}: ${s.errors.join('; ')}`),
    [],
    'no stream was reset',
  );
  t.is(r.alive, r.count);
  t.true(r.maxDelayMs < boundMs, `max stall ${r.maxDelayMs} ms < bound ${boundMs} ms`);
}

/** Connection entries of the echo service in a director's table (through the real dsrctl). */
async function echoConns(d: Director): Promise<ConnsResult> {
  const r = await dsrctl(['-s', d.sock, 'conns', '--service', 'echo', '--json']);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as ConnsResult;
}

interface LogLine {
  time: number;
  msg: string;
  reason?: string;
}

/** A director's pino log lines matching `re`, in order, with their times. */
function logLines(d: Director, re: RegExp): LogLine[] {
  return (d.proc?.lines ?? [])
    .filter((l) => re.test(l))
    .map((l) => {
      const line = JSON.parse(l) as { time: string; msg: string; reason?: string };
      return { time: Date.parse(line.time), msg: line.msg, reason: line.reason };
    });
}

/**
 * Takeover gating, read from the director's own log: every preemption (a move to master by
 * reason "preempt") happened while its sync from the peer was in sync. The log is written in
 * the order things happened: the sync part logs a state change before the election hears of it.
 */
function preemptionsInSync(d: Director, peer: string): { preemptions: number; outOfSync: LogLine[] } {
  let state = 'waiting';
  let preemptions = 0;
  const outOfSync: LogLine[] = [];
  const syncRe = new RegExp(`^sync from ${peer}: (\\S+)$`);
  for (const l of logLines(d, /"msg":"(sync from|VIP group)/)) {
    const m = syncRe.exec(l.msg);
    if (m) state = m[1];
    else if (/-> master$/.test(l.msg) && l.reason === 'preempt') {
      preemptions++;
      if (state !== 'in-sync') outOfSync.push(l);
    }
  }
  return { preemptions, outOfSync };
}

/** When (from the log) the director last became master, ms since the epoch. */
function lastTakeover(d: Director): LogLine | undefined {
  return logLines(d, /"msg":"VIP group web: \w+ -> master"/).at(-1);
}

/** The real server the Maglev hash gives a persistence client (what a director without its entry would pick). */
function clientChoice(client: string, reals: readonly string[]): string {
  return maglevPick(hashClient(parseMapAddress(client).bytes, DEFAULT_SETTINGS.hashSeed), reals);
}

/** The real server the Maglev hash gives a TCP flow (what a director without its connection entry would pick). */
function flowChoice(
  client: string,
  sport: number,
  vip: string,
  dport: number,
  reals: readonly string[],
): string {
  const flow = {
    src: parseMapAddress(client).bytes,
    dst: parseMapAddress(vip).bytes,
    sport,
    dport,
    proto: 6,
    family: 4 as const,
  };
  return maglevPick(hashFlow(flow, DEFAULT_SETTINGS.hashSeed), reals);
}

function maglevPick(hash: number, reals: readonly string[]): string {
  const backends = [...reals].sort().map((key) => ({ key, weight: 1 }));
  const table = buildMaglevTable(backends, MAGLEV_DEFAULT_SIZE);
  return backends[table[hash % MAGLEV_DEFAULT_SIZE]].key;
}

/**
 * Adds the third real server to the echo service on both directors while the streams run: the hash
 * now gives about a third of the streams to it, so after a failover only the synced connection
 * entries keep those streams on their real servers (a stream sent elsewhere would be reset).
 * Returns how many streams the hash would move.
 */
async function addEchoRealServer(
  t: ExecutionContext,
  pair: DirectorPair,
  streams: LabProcess,
): Promise<number> {
  const { lab } = pair;
  await pair.reloadWith({ echo: 3 });
  const r = await streamsReport(streams);
  const addressOf = new Map(lab.realServers.map((h) => [h.name, h.ipv4]));
  const three = lab.realServers.map((h) => h.ipv4);
  const client = lab.clients[0].ipv4;
  const two = three.slice(0, 2);
  const agree = r.streams.filter(
    (s) => flowChoice(client, s.localPort, pair.vip, 7000, two) === addressOf.get(s.server),
  );
  t.is(agree.length, r.count, 'the hash model agrees with where the streams went');
  const moved = r.streams.filter(
    (s) => flowChoice(client, s.localPort, pair.vip, 7000, three) !== addressOf.get(s.server),
  );
  t.log(`a third real server added: the hash would now move ${moved.length}/${r.count} streams`);
  t.true(moved.length > 0);
  t.deepEqual(
    r.streams.filter((s) => s.errors.length > 0).map((s) => s.id),
    [],
    'no stream was reset by the reload',
  );
  return moved.length;
}

const skip = requireRoot();
if (skip) console.log(`dsrd sync lab tests skipped: ${skip}`);
const serial = skip ? test.skip : test.serial;

serial(
  'kill -9 of the active: 50 streams survive; restarted, the old active pulls the tables back before it preempts',
  async (t) => {
    const pair = await DirectorPair.create({ services: syncServices({ echo: 2, http: 2 }) });
    try {
      const { a, b } = pair;
      await pair.startBoth();
      await pair.settled(a, b);

      const { proc: streams, servers } = await pair.streams(STREAMS);
      t.log(`streams by real server: ${JSON.stringify(servers)}`);
      t.is(Object.keys(servers).length, 2, 'the streams spread over the two real servers');
      // The standby learnt every stream from the active's sync before anything fails.
      await pair.until(b, (s) => (syncPeer(s)?.applied ?? 0) >= STREAMS);
      const onB = await echoConns(b);
      t.true(onB.total >= STREAMS, `the standby holds ${onB.total} echo connections`);
      await addEchoRealServer(t, pair, streams);

      await sleep(1000);
      streams.write('reset');
      const killedAt = Date.now();
      await a.proc!.kill9();
      const polledMs = await pair.until(b, (s) => role(s) === 'master', 10_000);
      const took = lastTakeover(b);
      t.log(
        `master-down interval ${pair.masterDownMs.toFixed(0)} ms; b master ${took ? took.time - killedAt : '?'} ms ` +
          `after the kill (seen by polling after ${polledMs.toFixed(0)} ms)`,
      );
      t.true(await pair.holdsVip(b));
      // kill -9 leaves the dead director's VIP (and XDP program) in its kernel: nothing removed them.
      // The data plane lives on in the kernel, so the streams see no outage; b's gratuitous ARP
      // moves the clients to b all the same.
      t.true(await pair.holdsVip(a), 'the killed director still has its leftover VIP');
      await sleep(3000);
      t.is(await pair.clientVipMac(), b.host.mac, "b's gratuitous ARP moved the client to b");
      const afterKill = await streamsReport(streams);
      logStreams(t, 'kill -9 of the active', afterKill);
      assertStreams(t, afterKill, stallBoundMs(pair));
      t.true(afterKill.echoed > STREAMS * 100, 'the streams kept moving data');

      // Restart the old active while its sync cannot complete: it follows b and does not preempt.
      await pair.blockSyncTo(a);
      streams.write('reset');
      await pair.start(a);
      await pair.until(a, (s) => role(s) === 'backup' && s.groups[0].master === b.host.name);
      t.false(await pair.holdsVip(a), 'the restart removed the leftover VIP');
      const held = performance.now();
      while (performance.now() - held < 8 * pair.masterDownMs) {
        const s = await pair.status(a);
        t.false(syncPeer(s!)?.inSync ?? false, 'a cannot be in sync while the bulk is blocked');
        await sleep(100);
      }
      // (Only an unplanned takeover, b resigning on a stall of a loaded machine, could make a master here.)
      const ra = role((await pair.status(a))!);
      t.true(ra === 'backup' || lastTakeover(a)?.reason !== 'preempt', `a is ${ra}: it did not preempt`);
      t.is(preemptionsInSync(a, b.host.name).preemptions, 0, 'no preemption while not in sync');

      // Let the bulk through: a pulls b's tables, is in sync, and only then preempts.
      await pair.unblockSyncTo(a);
      const backMs = await pair.until(a, (s) => role(s) === 'master', 15_000);
      await pair.settled(a, b);
      const sa = syncPeer((await pair.status(a))!)!;
      t.log(`a master ${backMs.toFixed(0)} ms after the unblock; its sync from b: ${JSON.stringify(sa)}`);
      t.true(sa.inSync);
      t.true(sa.bulksCompleted >= 1, 'a completed a bulk from b');
      t.true(sa.applied >= STREAMS, 'the bulk carried the streams');
      const gating = preemptionsInSync(a, b.host.name);
      t.true(gating.preemptions >= 1, 'a took the VIP back by preempting');
      t.deepEqual(gating.outOfSync, [], 'every preemption happened in sync');

      await sleep(2000);
      const final = await streamsReport(streams, 'final');
      logStreams(t, 'restart and preemption by the old active', final);
      assertStreams(t, final, stallBoundMs(pair));
      await pair.settled(a, b);
      t.is(await pair.vipMac(), a.host.mac, 'the clients reach the VIP through a');
      t.true((await echoConns(a)).total >= STREAMS);
    } finally {
      await pair.destroy();
    }
  },
);

serial(
  'link down on the active: 50 streams survive; with the link back, the old active catches up and preempts',
  async (t) => {
    const pair = await DirectorPair.create({ services: syncServices({ echo: 2, http: 2 }) });
    try {
      const { a, b, lab } = pair;
      await pair.startBoth();
      await pair.settled(a, b);
      const { proc: streams, servers } = await pair.streams(STREAMS);
      t.log(`streams by real server: ${JSON.stringify(servers)}`);
      await pair.until(b, (s) => (syncPeer(s)?.applied ?? 0) >= STREAMS);
      await addEchoRealServer(t, pair, streams);

      await sleep(1000);
      streams.write('reset');
      const downAt = Date.now();
      await lab.linkDown(a.host);
      const polledMs = await pair.until(b, (s) => role(s) === 'master', 10_000);
      const took = lastTakeover(b);
      t.log(
        `master-down interval ${pair.masterDownMs.toFixed(0)} ms; b master ${took ? took.time - downAt : '?'} ms ` +
          `after the link went down (seen by polling after ${polledMs.toFixed(0)} ms)`,
      );
      // a lost its own interface: Fault, VIP released.
      await pair.until(a, (s) => role(s) === 'fault');
      t.false(await pair.holdsVip(a), 'a released the VIP on its dead link');
      await sleep(3000);
      const afterDown = await streamsReport(streams);
      logStreams(t, 'link down on the active', afterDown);
      assertStreams(t, afterDown, stallBoundMs(pair));

      // The link returns: b's updates of the outage reach a (sent again until acknowledged, or in a
      // bulk if b had to drop them), then a preempts; it needs no whole-table bulk for the group it
      // lost (sync/README.md, "Per group").
      streams.write('reset');
      const upAt = Date.now();
      await lab.linkUp(a.host);
      const backMs = await pair.until(a, (s) => role(s) === 'master', 15_000);
      await pair.settled(a, b);
      const sa = syncPeer((await pair.status(a))!)!;
      t.log(`a master again ${backMs.toFixed(0)} ms after link up; its sync from b: ${JSON.stringify(sa)}`);
      t.true(sa.inSync);
      t.is(sa.behindMessages, 0, "a holds every update of b's");
      const gating = preemptionsInSync(a, b.host.name);
      t.deepEqual(gating.outOfSync, [], 'every preemption happened in sync');
      const back = lastTakeover(a);
      t.true(
        back !== undefined && back.time >= upAt && back.reason === 'preempt',
        'a preempted after link up',
      );

      await sleep(2000);
      const final = await streamsReport(streams, 'final');
      logStreams(t, 'link back and preemption by the old active', final);
      assertStreams(t, final, stallBoundMs(pair));
      await pair.settled(a, b);
      t.is(await pair.vipMac(), a.host.mac, 'the clients reach the VIP through a');
    } finally {
      await pair.destroy();
    }
  },
);

serial(
  'persistence: pinned clients stay on their real servers across a real-server addition and a failover',
  async (t) => {
    const pair = await DirectorPair.create({ services: syncServices({ echo: 3, http: 2 }) });
    try {
      const { a, b, lab } = pair;
      const client = lab.clients[0];
      // 24 clients, each its own source address (the service's netmask is /32).
      const sources = Array.from({ length: 24 }, (_, i) => `198.18.0.${40 + i}`);
      for (const s of sources) await lab.exec(client, 'ip', ['addr', 'add', `${s}/32`, 'dev', 'eth0']);
      await pair.startBoth();
      await pair.settled(a, b);
      const addressOf = new Map(lab.realServers.map((r) => [r.name, r.ipv4]));

      // Each client is pinned to one real server (three new connections each).
      const first = await pair.pinnedClients(sources, 3);
      t.deepEqual(first.errors, []);
      const pinned = new Map<string, string>();
      for (const s of sources) {
        const answers = first.byClient[s];
        t.is(new Set(answers).size, 1, `${s} pinned: ${answers}`);
        pinned.set(s, addressOf.get(answers[0]) ?? '?');
      }
      t.is(new Set(pinned.values()).size, 2, 'both real servers have pinned clients');
      const two = lab.realServers.slice(0, 2).map((r) => r.ipv4);
      for (const s of sources) t.is(pinned.get(s), clientChoice(s, two), `the hash model agrees for ${s}`);

      // The standby holds every client's persistence entry.
      const deadline = performance.now() + 10_000;
      for (const s of sources) {
        let e: ExplainResult | undefined;
        await until(
          `b's persistence entry for ${s}`,
          async () => {
            e = await pair.explain(b, s, 80);
            return e.via === 'persistence' && e.realServer === pinned.get(s);
          },
          {
            limitMs: Math.max(0, deadline - performance.now()),
            everyMs: 100,
            detail: () => JSON.stringify(e),
          },
        );
      }

      // A third real server, by a reload on both directors: the hash now sends some clients to it.
      await pair.reloadWith({ http: 3 });
      const three = lab.realServers.map((r) => r.ipv4);
      const moved = sources.filter((s) => clientChoice(s, three) !== pinned.get(s));
      t.log(`the hash would now move ${moved.length}/${sources.length} pinned clients: ${moved.join(' ')}`);
      t.true(moved.length > 0, 'adding a real server changes the hash for some pinned clients');
      await pair.settled(a, b);
      const stillOnA = await pair.pinnedClients(sources, 2);
      t.deepEqual(stillOnA.errors, []);
      const strayedOnA = sources.filter((s) =>
        stillOnA.byClient[s].some((n) => addressOf.get(n) !== pinned.get(s)),
      );
      t.deepEqual(strayedOnA, [], 'persistence holds on the active after the reload');

      // Fail over to b (a planned handover): every pinned client stays where it was.
      const fo = await dsrctl(['-s', a.sock, 'failover', '--json']);
      t.is(fo.code, 0, fo.stderr);
      t.like(JSON.parse(fo.stdout), { from: a.host.name, to: b.host.name, ok: true });
      await pair.settled(b, a);
      const after = await pair.pinnedClients(sources, 3);
      t.deepEqual(after.errors, []);
      const strayed = sources.filter((s) =>
        after.byClient[s].some((n) => addressOf.get(n) !== pinned.get(s)),
      );
      t.deepEqual(strayed, [], 'every pinned client stays on its real server after the failover');
      for (const s of moved)
        t.like(await pair.explain(b, s, 80), { via: 'persistence', realServer: pinned.get(s) });
      t.log(
        `after the failover: ${sources.length - strayed.length}/${sources.length} clients on their real server`,
      );

      // New clients do reach the new real server through b.
      const fresh = Array.from({ length: 12 }, (_, i) => `198.18.0.${70 + i}`);
      for (const s of fresh) await lab.exec(client, 'ip', ['addr', 'add', `${s}/32`, 'dev', 'eth0']);
      const newcomers = await pair.pinnedClients(fresh, 1);
      t.deepEqual(newcomers.errors, []);
      for (const s of fresh) t.is(addressOf.get(newcomers.byClient[s][0]), clientChoice(s, three));

      await pair.settled(b, a);
      t.is(await pair.vipMac(), b.host.mac, 'the clients reach the VIP through b');
    } finally {
      await pair.destroy();
    }
  },
);
