/**
 * The bulk resync at scale, on the simulated network: one bulk per request however often it is
 * asked again, at most one bulk read at a time whatever the standby does, live updates that keep
 * flowing during a bulk, an in-sync that means no gap and no bulk pending, a bulk that replaces the
 * table (stale entries swept by epoch), and two directors each the master of one group.
 */
import test from 'ava';
import { EntryPacker, type SyncEntry } from '../../sync/entries.ts';
import { BULK_BEGIN, type SyncMessage } from '../../sync/messages.ts';
import { syncOptions } from '../../sync/options.ts';
import { SyncReceiver } from '../../sync/receiver.ts';
import { SyncSender } from '../../sync/sender.ts';
import { conn, prng, SyncSim, sameTable } from './harness.ts';

const ENTRIES = 3000;

function table(n: number, seed: number): SyncEntry[] {
  const rand = prng(seed);
  return Array.from({ length: n }, () => conn(rand, false));
}

test('a bulk asked for again with the same id is the same request; another id replaces it', (t) => {
  const sender = new SyncSender(syncOptions(), 1n, 0);
  const opened: number[] = [];
  const closed: number[] = [];
  const source = (id: number) => () => {
    opened.push(id);
    return { next: () => Buffer.alloc(0), close: () => closed.push(id) };
  };
  t.true(sender.bulk(7, source(7)));
  t.false(sender.bulk(7, source(7)), 'a retry of the bulk being sent opens nothing');
  t.deepEqual(opened, [7]);
  t.true(sender.bulk(8, source(8)), 'another id: the standby restarted or lost its table');
  t.deepEqual(opened, [7, 8]);
  t.deepEqual(closed, [7], 'the bulk it replaced was released');
});

test('updates not sent yet when a bulk begins are left to the bulk, not sent twice', (t) => {
  const sender = new SyncSender(syncOptions(), 1n, 0);
  const packer = new EntryPacker();
  for (const e of table(100, 23)) packer.add(e);
  sender.enqueue(packer.take(), 100, 0);
  t.is(sender.status(0).queued, 100);
  sender.bulk(7, () => ({ next: () => null, close: () => {} }));
  t.is(sender.status(0).queued, 0, 'the bulk reads the tables these updates are in');
  t.is(sender.status(0).droppedEntries, 0, 'nothing was lost: no RESET is owed');
});

test('a receiver that asked before hearing the peer waits for that bulk rather than ask a second one', (t) => {
  const opts = syncOptions({ bulkRetryMs: 100 });
  const requests = (out: { send: SyncMessage[] }) =>
    out.send.flatMap((m) => (m.type === 'bulk-request' ? [m.bulkId] : []));
  const r = new SyncReceiver(opts, 0, 500);
  const [first] = requests(r.tick(0));
  t.is(first, 500, 'asked at once, before any word from the peer');
  // The peer's keepalive, sent before our request reached it, is the first we hear of its stream.
  t.deepEqual(requests(r.step(1, 9n, { type: 'keepalive', highest: 4 })), [], 'no second request');
  const begun = r.step(2, 9n, {
    type: 'data',
    seq: 5,
    flags: BULK_BEGIN,
    bulkId: first,
    entries: Buffer.alloc(0),
  });
  t.deepEqual(begun.apply, [{ op: 'bulk-begin' }], 'our bulk begins in the stream we follow');

  // Had the stream begun our bulk before the first message we saw, its retry asks anew.
  const late = new SyncReceiver(opts, 0, 600);
  requests(late.tick(0));
  late.step(1, 9n, { type: 'keepalive', highest: 40 });
  t.deepEqual(requests(late.tick(50)), [], 'within the retry interval: waiting');
  t.deepEqual(requests(late.tick(150)), [601], 'then a new id: a repeated one would be ignored');
  // A message of our bulk past its beginning: we missed the beginning, a new bulk at once.
  const mid = new SyncReceiver(opts, 0, 700);
  requests(mid.tick(0));
  t.deepEqual(
    requests(mid.step(1, 9n, { type: 'data', seq: 8, flags: 0, bulkId: 700, entries: Buffer.alloc(0) })),
    [701],
  );
});

test('an unanswered bulk request is repeated with the same id', (t) => {
  const sim = new SyncSim(21, { bulkRetryMs: 20 });
  sim.a.store.load(table(ENTRIES, 22));
  sim.run(20); // the standby hears the active's stream
  const asked: number[] = [];
  const transmit = sim.transmit.bind(sim);
  sim.transmit = (to, bytes) => {
    if (to === sim.a && bytes[3] === 5) asked.push(bytes.readUInt32BE(40)); // bulk-request: its id
    // The active's answers are lost for a while.
    if (to === sim.b && sim.now < 300) return;
    transmit(to, bytes);
  };
  sim.b.start(sim.now);
  sim.run(300);
  t.true(asked.length >= 5, `requests: ${asked.length}`);
  t.is(new Set(asked.slice(1)).size, 1, 'every retry repeats one id');
  sim.transmit = transmit;
  t.true(sim.settle());
  t.is(sameTable(sim.a.table, sim.b.table), undefined);
});

test('a standby restarting again and again during a bulk never has the active read two bulks at once', (t) => {
  const sim = new SyncSim(23, { window: 8 });
  sim.change(table(ENTRIES, 24));
  let mostOpen = 0;
  for (let restart = 0; restart < 6; restart++) {
    sim.run(40);
    mostOpen = Math.max(mostOpen, sim.a.store.bulksOpen);
    sim.b.start(sim.now);
  }
  t.true(sim.settle(60_000));
  t.true(mostOpen <= 1, `bulks open at once: ${mostOpen}`);
  t.is(sim.a.store.bulksOpen, 0, 'every bulk source was released');
  t.true(sim.a.store.bulksOpened >= 6, 'each restart asked for a bulk of its own');
  t.is(sameTable(sim.a.table, sim.b.table), undefined);
});

test('live updates keep flowing while a bulk is sent, and the bulk still completes', (t) => {
  // One message in flight, acknowledged every 5 ms: a bulk of 3000 entries takes a few hundred ms.
  const sim = new SyncSim(25, { window: 1, ackEvery: 1000, ackDelayMs: 5 });
  const rand = prng(26);
  sim.a.store.load(table(ENTRIES, 27)); // flows that were there before the standby started
  sim.run(5); // the standby asked; the bulk is under way
  const late = conn(rand, false);
  sim.change([late]);
  let seenAt: number | null = null;
  const key = keyOf(sim, late);
  for (let ms = 0; ms < 20_000 && !sim.b.receiver.inSync; ms += 5) {
    sim.run(5);
    if (seenAt === null && sim.b.store.map.has(key)) seenAt = sim.now;
    // The active keeps making flows all along.
    sim.change([conn(rand, false)]);
  }
  t.true(sim.b.receiver.inSync, 'the bulk completed under a steady stream of updates');
  t.not(seenAt, null);
  const bulkEnd = sim.now;
  t.true(
    seenAt! < bulkEnd - 100,
    `the update arrived ${seenAt} ms, long before the bulk's end at ${bulkEnd} ms`,
  );
  t.true(sim.settle());
  t.is(sameTable(sim.a.table, sim.b.table), undefined);
});

test('in sync means no gap open: a lost datagram suspends it until repaired', (t) => {
  const sim = new SyncSim(28);
  const rand = prng(29);
  sim.change(table(100, 30));
  t.true(sim.settle());
  t.true(sim.b.receiver.inSync);
  // Lose exactly the next DATA datagram, let the following ones through.
  let dropped = false;
  const transmit = sim.transmit.bind(sim);
  sim.transmit = (to, bytes) => {
    if (!dropped && to === sim.b && bytes[3] === 1) {
      dropped = true;
      return;
    }
    transmit(to, bytes);
  };
  sim.change([conn(rand, false)]);
  sim.run(3);
  t.true(dropped);
  sim.change([conn(rand, false)]);
  const seen = new Set<string | null>();
  for (let ms = 0; ms < 200; ms++) {
    sim.run(1);
    seen.add(sim.b.receiver.notInSync);
  }
  t.true(seen.has('gap'), 'not in sync while the gap was open');
  t.true(sim.settle());
  t.true(sim.b.receiver.inSync, 'in sync again once the gap was repaired');
  t.is(sameTable(sim.a.table, sim.b.table), undefined);
});

test('after a silent spell, the first datagram heard does not make it in sync while updates are missing', (t) => {
  const sim = new SyncSim(31);
  const rand = prng(32);
  sim.change(table(50, 33));
  t.true(sim.settle());
  sim.partitioned = true;
  for (let i = 0; i < 30; i++) {
    sim.change([conn(rand, false)]);
    sim.run(100);
  }
  t.is(sim.b.receiver.notInSync, 'lost');
  sim.partitioned = false;
  // Let exactly one datagram through: a keepalive or a retransmit naming messages B lacks.
  sim.run(25);
  const s = sim.b.receiver.status(sim.now);
  if (s.behindMessages > 0) t.false(sim.b.receiver.inSync, 'not in sync with messages missing');
  t.true(sim.settle());
  t.true(sim.b.receiver.inSync);
  t.is(sameTable(sim.a.table, sim.b.table), undefined);
});

test('a bulk replaces the table: entries gone on the active are swept, by epoch', (t) => {
  const sim = new SyncSim(34);
  const rand = prng(35);
  const live = table(200, 36);
  sim.change(live);
  t.true(sim.settle());
  // B restarts and misses the deletion of half the flows (no conn-delete reaches it).
  sim.partitioned = true;
  sim.b.start(sim.now);
  for (const e of live.slice(0, 100)) sim.a.store.map.delete(keyOf(sim, e));
  sim.partitioned = false;
  sim.change([conn(rand, false)]);
  t.true(sim.settle());
  t.is(sim.b.table.size, sim.a.table.size, 'the entries B held that A no longer has were swept');
  t.is(sameTable(sim.a.table, sim.b.table), undefined);
});

test('two directors, each the master of one group, keep each other’s flows (sync per group)', (t) => {
  const sim = new SyncSim(37);
  const rand = prng(38);
  const vipA = Uint8Array.of(198, 18, 0, 200);
  const vipB = Uint8Array.of(198, 18, 0, 201);
  const owns = (vip: Uint8Array) => (v: Uint8Array) => Buffer.compare(Buffer.from(v), Buffer.from(vip)) === 0;
  sim.a.owns = owns(vipA);
  sim.b.owns = owns(vipB);
  const ofA = Array.from({ length: 300 }, () => ({ ...conn(rand, false), vip: vipA }));
  const ofB = Array.from({ length: 300 }, () => ({ ...conn(rand, false), vip: vipB }));
  sim.a.change(ofA, sim.now);
  sim.b.change(ofB, sim.now);
  t.true(sim.settle());
  for (let i = 0; i < 200; i++) sim.run(5);
  t.is(sim.a.table.size, 600, "A holds its own flows and B's");
  t.is(sim.b.table.size, 600, "B holds its own flows and A's");
  t.is(sameTable(sim.a.table, sim.b.table), undefined);
  t.true(sim.a.receiver.inSync && sim.b.receiver.inSync, 'each in sync with the other');
});

function keyOf(sim: SyncSim, e: SyncEntry): string {
  const k = [...sim.a.store.map].find(([, v]) => v.entry === e)?.[0];
  if (k === undefined) throw new Error('entry not in the table');
  return k;
}
