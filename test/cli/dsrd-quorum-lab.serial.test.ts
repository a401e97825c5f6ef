/**
 * Quorum mode with real daemons (issue 22): two directors and a witness in the lab. One director
 * leads and holds the VIP, clients reach the real servers through it; the faults of the issue, each
 * with the VIP's holders sampled every few ms (never two): the leader cut off from both, the
 * witness lost and then the leader lost (no quorum: nobody holds the VIP), a planned transfer with
 * `dsrctl failover`. In the serial slot: the no-overlap samples are timed by the CPU.
 */
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { dsrctl } from '../../lab/binaries.ts';
import { answerFigures } from '../../lab/ownership/arp-answers.ts';
import { startArpWatch } from '../../lab/ownership/arp-watch.ts';
import { allForwarding } from '../../lab/pair/status.ts';
import { probe } from '../../lab/probe.ts';
import { QuorumLab, quorumView, type Voter } from '../../lab/quorum/quorum-lab.ts';
import { requireRoot } from '../../lab/require-root.ts';
import { sleep, until } from '../../lab/wait.ts';

const skip = requireRoot();
const RECEIVER = fileURLToPath(new URL('../../lab/servers/webhook-receiver.ts', import.meta.url));
const HOOK_PORT = 8099;

/** Samples the VIP's holders every 5 ms until `done` resolves: the longest time two held it, ms. */
async function overlapWhile(
  q: QuorumLab,
  done: Promise<unknown>,
): Promise<{ bothMaxMs: number; samples: number }> {
  let finished = false;
  void done.finally(() => {
    finished = true;
  });
  let bothSince: number | null = null;
  let bothMaxMs = 0;
  let samples = 0;
  while (!finished) {
    const holders = await q.holders();
    samples += 1;
    const now = performance.now();
    if (holders.length > 1) {
      bothSince ??= now;
      bothMaxMs = Math.max(bothMaxMs, now - bothSince);
    } else bothSince = null;
    await sleep(5);
  }
  return { bothMaxMs, samples };
}

const other = (q: QuorumLab, v: Voter): Voter => q.directors.find((d) => d !== v) as Voter;

test('two directors and a witness: one owner, a cut-off leader replaced without overlap, no quorum no owner, a transfer', async (t) => {
  if (skip) return t.pass(skip);
  // Three daemons, the holders' sampler and dsrctl share two cores here: T = 150 ms keeps a main
  // thread the CPU held back for tens of ms from costing its leadership (the default, 50 ms, is
  // for directors with cores of their own).
  const q = await QuorumLab.create({
    raft: { election_timeout_ms: 150, election_jitter_ms: 50, heartbeat_interval_ms: 30 },
    alertTargets: (lab) => [
      { name: 'hook', kind: 'generic', url: `http://${lab.lab.clients[0].ipv4}:${HOOK_PORT}/hook` },
    ],
  });
  const alerts: { type: string; node: string; [k: string]: unknown }[] = [];
  try {
    const client = q.lab.clients[0];
    const receiver = q.lab.node(client, RECEIVER, ['--addr', client.ipv4, '--port', String(HOOK_PORT)], {
      onLine: (l) => {
        if (l.startsWith('{')) alerts.push((JSON.parse(JSON.parse(l).body) as { data: never }).data);
      },
    });
    await receiver.waitForLine(/^READY$/, 15_000);
    await q.startAll();
    const first = await q.leader();
    const witness = q.voters[2];
    const ws = await q.status(witness);
    const wv = ws === null ? undefined : quorumView(ws);
    t.like(wv, { role: 'witness', leader: first.host.name, quorum: true });
    t.deepEqual(ws?.groups, [], 'the witness has no VIP group');
    await until('the leader forwards to every real server', async () => {
      const s = await q.status(first);
      return s !== null && allForwarding(s);
    });
    const echo = await probe(q.lab.clients[0], 'udp', q.vip, 7001);
    t.true(echo.ok, `a client reaches the real servers through the leader: ${JSON.stringify(echo)}`);

    // The leader cut off from both: its lease lapses and it lets go; the other director takes over.
    const second = other(q, first);
    const cut = (async () => {
      await q.lab.linkDown(first.host);
      return q.leader(10_000, first);
    })();
    const cutAt = performance.now();
    const cutOverlap = await overlapWhile(q, cut);
    t.log(
      `leader cut off: ${second.host.name} held the VIP alone ${Math.round(performance.now() - cutAt)} ms later (${cutOverlap.samples} samples of the holders)`,
    );
    t.is(await cut, second);
    t.is(cutOverlap.bothMaxMs, 0, `never two holders (${cutOverlap.samples} samples)`);
    await q.lab.linkUp(first.host);
    await until('the old leader back as a follower', async () => {
      const s = await q.status(first);
      return s !== null && quorumView(s)?.leader === second.host.name && s.groups[0]?.role === 'backup';
    });
    t.deepEqual(await q.holders(), [second.host.name], 'no preemption: the VIP stays');

    // Planned: dsrctl failover on the leader hands leadership (and the VIP) to the other director.
    // (Whoever leads now: on a loaded machine a main-thread stall of the leader can move it.)
    const from = await q.leader();
    const to = other(q, from);
    const moved = (async () => {
      const r = await dsrctl(['-s', from.sock, 'failover', '--to', to.host.name, '--json']);
      t.is(r.code, 0, r.stderr);
      t.like(JSON.parse(r.stdout), {
        ok: true,
        outcome: 'completed',
        from: from.host.name,
        to: to.host.name,
      });
      return q.leader(10_000, from);
    })();
    const movedAt = performance.now();
    const transferOverlap = await overlapWhile(q, moved);
    t.log(
      `transfer: ${to.host.name} held the VIP alone ${Math.round(performance.now() - movedAt)} ms after dsrctl failover (${transferOverlap.samples} samples)`,
    );
    t.is(await moved, to);
    t.is(transferOverlap.bothMaxMs, 0, 'a transfer gives the lease up before the target takes it');

    // What quorum mode does not offer yet says so, and `dsrctl status` shows the voters.
    const leader = to;
    const drill = await dsrctl(['-s', leader.sock, 'drill']);
    t.not(drill.code, 0);
    t.regex(drill.stderr, /not available in quorum mode yet: a planned handover is dsrctl failover/);
    const shown = await dsrctl(['-s', leader.sock, 'status']);
    t.is(shown.code, 0, shown.stderr);
    t.regex(
      shown.stdout,
      new RegExp(`Quorum mode: leader, term \\d+, leader ${leader.host.name}, lease \\d+ ms left`),
    );
    for (const v of ['d1 reachable', 'd2 reachable', 'd3 (witness) reachable'])
      t.true(shown.stdout.includes(v), v);
    t.regex(shown.stdout, /reachable; quorum\n/);

    // The witness lost: two of three still decide.
    await witness.proc?.kill9();
    await sleep(500);
    const survivor = await q.leader();
    t.deepEqual(
      await q.holders(),
      [survivor.host.name],
      'the two directors are a majority: one holds the VIP',
    );

    // Then the leader lost too: one voter of three is no quorum, so nobody holds the VIP.
    const lastOne = other(q, survivor);
    await survivor.proc?.stop();
    await until('nobody holds the VIP', async () => (await q.holders()).length === 0, { limitMs: 5000 });
    await sleep(1000);
    t.deepEqual(await q.holders(), [], 'a lone director never takes the VIP');
    const lone = await q.status(lastOne);
    t.like(lone === null ? undefined : quorumView(lone), { quorum: false });
    const probeLone = await dsrctl(['-s', lastOne.sock, 'status']);
    t.is(probeLone.code, 1, 'dsrctl status as a health probe: no quorum is not healthy');
    t.regex(probeLone.stderr, /no quorum/);

    // The witness back: a majority again, the remaining director leads.
    await q.start(witness);
    t.is(await q.leader(10_000), lastOne);

    // The alerts a webhook target got: each leader raised leader_changed once, the lone director
    // quorum_lost and then quorum_regained.
    const regainedBy = (name: string) => alerts.find((a) => a.type === 'quorum_regained' && a.node === name);
    await until(
      `quorum_regained from ${lastOne.host.name} delivered`,
      () => regainedBy(lastOne.host.name) !== undefined,
    );
    const lost = alerts.find((a) => a.type === 'quorum_lost' && a.node === lastOne.host.name);
    t.like(lost, { reachable: [lastOne.host.name] });
    t.deepEqual([...((lost?.voters as string[]) ?? [])].sort(), ['d1', 'd2', 'd3']);
    t.like(regainedBy(lastOne.host.name), { reachable: [lastOne.host.name, witness.host.name] });
    const leaders = alerts.filter((a) => a.type === 'leader_changed');
    t.true(leaders.length >= 4, `leader_changed ${leaders.length} times`);
    t.true(
      leaders.every((a) => a.leader === a.node),
      'raised by the new leader itself',
    );
    t.like(leaders.at(-1), { leader: lastOne.host.name });
  } finally {
    await q.destroy();
  }
});

test('three directors: a leader stopped (SIGSTOP) or killed (kill -9) past its lease stops answering ARP for the VIP on time; one stopped by SIGTERM hands over first; never two MACs answer', async (t) => {
  if (skip) return t.pass(skip);
  const q = await QuorumLab.create({
    witness: false,
    raft: { election_timeout_ms: 150, election_jitter_ms: 50, heartbeat_interval_ms: 30 },
  });
  try {
    await q.startAll();
    const client = q.lab.clients[0];
    const macOf = new Map(q.directors.map((d) => [d.host.mac, d.host.name]));
    for (const fault of ['SIGSTOP', 'kill -9'] as const) {
      const leader = await q.leader();
      const arp = await startArpWatch(q.lab, client, q.vip);
      await sleep(200);
      const faultAt = Date.now();
      if (fault === 'SIGSTOP') leader.proc?.pause();
      else await leader.proc?.kill9();
      const next = await q.leader(10_000, leader, false);
      await sleep(fault === 'SIGSTOP' ? 1500 : 500); // well past the stopped leader's lease
      const r = await arp.stop();
      if (fault === 'SIGSTOP') leader.proc?.resume();
      const f = answerFigures(r.changes, arp.slotAt(faultAt, r), r.slots, r.slotMs);
      const owners = f.ownersAtEnd.map((m) => macOf.get(m) ?? m);
      t.log(
        `${fault} of ${leader.host.name}: ${next.host.name} took over; two MACs answered ARP for ${f.overlapMs} ms, none for ${f.unansweredMaxMs} ms at most (probe stall ${r.maxSlipMs} ms)`,
      );
      t.is(f.overlapMs, 0, `${fault}: never two MACs answer ARP for the VIP`);
      t.deepEqual(owners, [next.host.name], `${fault}: only the new leader answers at the end`);
      // Continued or restarted, the old leader learns of the new term and stays a follower.
      if (fault === 'kill -9') await q.start(leader);
      await until('the old leader back as a follower', async () => {
        const s = await q.status(leader);
        return s !== null && s.groups[0]?.role === 'backup';
      });
    }

    // SIGTERM (systemctl stop, a restart for an upgrade): the leader hands leadership over first.
    const leaving = await q.leader(10_000, undefined, false);
    const arp = await startArpWatch(q.lab, client, q.vip);
    const stopAt = Date.now();
    await leaving.proc?.stop();
    const heir = await q.leader(10_000, leaving);
    const r = await arp.stop();
    const f = answerFigures(r.changes, arp.slotAt(stopAt, r), r.slots, r.slotMs);
    t.truthy(
      leaving.proc?.lines.find((l) => l.includes(`stopping: leadership handed to ${heir.host.name}`)),
      'the stopping leader handed leadership over',
    );
    t.is(f.overlapMs, 0, 'SIGTERM: never two MACs answer');
    t.log(
      `SIGTERM of ${leaving.host.name}: ${heir.host.name} leads; no MAC answered ARP for ${f.unansweredMaxMs} ms at most`,
    );
  } finally {
    await q.destroy();
  }
});
