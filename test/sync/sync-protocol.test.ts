import test from 'ava';
import { syncOptions } from '../../sync/options.ts';
import { conn, prng, SyncSim, sameTable } from './harness.ts';

function churn(sim: SyncSim, rand: () => number, ops: number, ms: number): void {
  const live = [...sim.a.table.values()];
  for (let i = 0; i < ops; i++) {
    if (live.length > 10 && rand() < 0.2) {
      const victim = live.splice(Math.floor(rand() * live.length), 1)[0];
      sim.change([{ ...victim, kind: 'conn-delete', realServer: undefined, lifetimeMs: 0 }]);
    } else {
      const e = conn(rand);
      live.push(e);
      sim.change([e]);
    }
    if (i % 50 === 0) sim.run(Math.max(1, Math.floor(ms / (ops / 50))));
  }
}

test('a standby starting empty pulls the tables in bulk and follows live updates: in sync, same table', (t) => {
  const sim = new SyncSim(1);
  const rand = prng(2);
  sim.change(Array.from({ length: 3000 }, () => conn(rand)));
  t.true(sim.settle(), 'settles');
  t.is(sameTable(sim.a.table, sim.b.table), undefined);
  churn(sim, rand, 2000, 200);
  t.true(sim.settle());
  t.is(sameTable(sim.a.table, sim.b.table), undefined);
  t.is(sim.b.receiver.status(sim.now).state, 'in-sync');
  t.is(sim.b.receiver.status(sim.now).bulksCompleted, 1);
});

for (const [name, faults] of [
  ['30% loss', { loss: 0.3, dup: 0, jitterMs: 0 }],
  ['reordering (0-20 ms jitter)', { loss: 0, dup: 0, jitterMs: 20 }],
  ['duplication', { loss: 0, dup: 0.3, jitterMs: 0 }],
  ['loss, reordering and duplication together', { loss: 0.2, dup: 0.1, jitterMs: 15 }],
] as const) {
  test(`the standby converges to the active's table under ${name}`, (t) => {
    for (const seed of [11, 12, 13]) {
      const sim = new SyncSim(seed);
      const rand = prng(seed * 7);
      sim.faults = { ...faults };
      sim.change(Array.from({ length: 500 }, () => conn(rand)));
      churn(sim, rand, 3000, 300);
      sim.faults = { loss: 0, dup: 0, jitterMs: 0 };
      t.true(sim.settle(), `seed ${seed} settles`);
      t.is(sameTable(sim.a.table, sim.b.table), undefined, `seed ${seed}`);
      const s = sim.b.receiver.status(sim.now);
      // Network duplicates repeat the authentication sequence number: the replay guard drops them
      // before the protocol sees them. Retransmits that arrive twice are new datagrams: the
      // receiver counts those as duplicates.
      if (faults.dup > 0) t.true((sim.b.drops.get('replay') ?? 0) > 0, 'duplicates were dropped');
      if (faults.loss > 0) t.true(s.duplicates >= 0);
      if (faults.loss > 0) t.true(sim.a.sender.status(sim.now).retransmits > 0, 'losses were repaired');
    }
  });
}

test('forged datagrams are dropped as bad-mac and change nothing', (t) => {
  const sim = new SyncSim(3);
  const rand = prng(4);
  sim.change(Array.from({ length: 100 }, () => conn(rand)));
  t.true(sim.settle());
  const before = sim.b.receiver.status(sim.now);
  const tableBefore = sim.b.table.size;
  let forged = 0;
  for (const bytes of sim.wire.slice(-50)) {
    const copy = Buffer.from(bytes);
    copy[copy.length - 40] ^= 0x01; // flip a body bit; the MAC no longer matches
    sim.transmit(sim.b, copy);
    sim.transmit(sim.a, copy);
    forged++;
  }
  sim.run(5);
  const drops = (sim.b.drops.get('bad-mac') ?? 0) + (sim.a.drops.get('bad-mac') ?? 0);
  t.true(drops > 0 && drops <= forged * 2);
  t.is(sim.b.table.size, tableBefore);
  t.is(sim.b.receiver.status(sim.now).applied, before.applied);
});

test('replayed datagrams are dropped as replays and change nothing', (t) => {
  const sim = new SyncSim(5);
  const rand = prng(6);
  sim.change(Array.from({ length: 200 }, () => conn(rand)));
  t.true(sim.settle());
  // Delete a flow, then replay the datagram that created it: it must not come back.
  const [victim] = [...sim.a.table.values()];
  sim.change([{ ...victim, kind: 'conn-delete', realServer: undefined, lifetimeMs: 0 }]);
  t.true(sim.settle());
  const applied = sim.b.receiver.status(sim.now).applied;
  for (const bytes of sim.wire) {
    sim.transmit(sim.b, bytes);
    sim.transmit(sim.a, bytes);
  }
  sim.run(5);
  t.true((sim.b.drops.get('replay') ?? 0) > 0);
  t.is(sim.b.receiver.status(sim.now).applied, applied);
  t.is(sameTable(sim.a.table, sim.b.table), undefined);
});

test('datagrams for another node or from ourselves are dropped', (t) => {
  const sim = new SyncSim(7);
  sim.run(10);
  const toA = sim.wire.find((b) => b.readUInt32BE(12) === 1)!;
  sim.transmit(sim.b, toA); // addressed to A, delivered to B
  sim.run(2);
  t.is(sim.b.drops.get('not-for-us'), 1);
});

test('a restarted standby pulls the tables again before it is in sync', (t) => {
  const sim = new SyncSim(8);
  const rand = prng(9);
  sim.change(Array.from({ length: 1000 }, () => conn(rand)));
  t.true(sim.settle());
  sim.b.start(sim.now);
  sim.b.store.map.clear(); // worst case: its pinned maps were lost too
  t.false(sim.b.receiver.inSync);
  churn(sim, rand, 500, 50);
  t.true(sim.settle());
  t.is(sameTable(sim.a.table, sim.b.table), undefined);
});

test('a restarted active starts a new stream; the standby notices and resyncs', (t) => {
  const sim = new SyncSim(10);
  const rand = prng(11);
  sim.change(Array.from({ length: 800 }, () => conn(rand)));
  t.true(sim.settle());
  sim.a.start(sim.now);
  sim.change(Array.from({ length: 50 }, () => conn(rand)));
  sim.run(3);
  t.false(sim.b.receiver.inSync, 'out of sync as soon as the new stream is seen');
  t.true(sim.settle());
  t.is(sameTable(sim.a.table, sim.b.table), undefined);
  t.is(sim.b.receiver.status(sim.now).bulksCompleted, 2);
});

test('an idle pair with a 1 s keepalive stays in sync: a keepalive a little late does not lose the peer', (t) => {
  t.is(
    syncOptions({ keepaliveMs: 1000 }).peerDeadMs,
    3500,
    'three keepalives missing and half of one, as VRRP (RFC 5798 §6.1)',
  );
  t.is(syncOptions({ keepaliveMs: 1000, peerDeadMs: 500 }).peerDeadMs, 500, 'an explicit value is kept');
  const sim = new SyncSim(21, { keepaliveMs: 1000 });
  sim.faults = { loss: 0, dup: 0, jitterMs: 5 };
  sim.change(Array.from({ length: 50 }, () => conn(prng(22))));
  t.true(sim.settle());
  const states = new Set<string>();
  for (let i = 0; i < 10_000; i++) {
    sim.run(1);
    states.add(sim.b.receiver.status(sim.now).state);
  }
  t.deepEqual([...states], ['in-sync'], '10 s idle: never lost');
});

test('a partition makes the peer lost; after healing the stream resumes without a bulk', (t) => {
  const sim = new SyncSim(12);
  const rand = prng(13);
  sim.change(Array.from({ length: 300 }, () => conn(rand)));
  t.true(sim.settle());
  sim.partitioned = true;
  churn(sim, rand, 400, 1500);
  t.is(sim.b.receiver.status(sim.now).state, 'lost');
  sim.partitioned = false;
  t.true(sim.settle());
  t.is(sameTable(sim.a.table, sim.b.table), undefined);
  t.is(sim.b.receiver.status(sim.now).bulksCompleted, 1, 'held messages were enough');
});

test('a queue overflow while the peer is away ends in a RESET and a bulk resync', (t) => {
  const sim = new SyncSim(14, { maxQueuedBytes: 200 * 24, window: 4 });
  const rand = prng(15);
  sim.change(Array.from({ length: 50 }, () => conn(rand)));
  t.true(sim.settle());
  sim.partitioned = true;
  churn(sim, rand, 2000, 100);
  t.true(sim.a.sender.status(sim.now).droppedEntries > 0);
  sim.partitioned = false;
  t.true(sim.settle(60_000));
  t.true(sim.b.receiver.status(sim.now).resets > 0);
  t.is(sameTable(sim.a.table, sim.b.table), undefined);
});

test('each DATA datagram fits the configured size and IPv4 entries cost 24 bytes', (t) => {
  const sim = new SyncSim(16, { maxDatagram: 1400 });
  const rand = prng(17);
  sim.change(Array.from({ length: 2000 }, () => conn(rand, false)));
  t.true(sim.settle());
  const data = sim.wire.filter((b) => b[3] === 1 && b.length > 100);
  t.true(data.length > 0);
  t.true(data.every((b) => b.length <= 1400));
  const full = data.filter((b) => b.length > 1300);
  t.true(full.length > 0);
  t.is((full[0].length - 40 - 16 - 32) % 24, 0);
});
