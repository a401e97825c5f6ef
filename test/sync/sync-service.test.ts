/**
 * The sync driver over real UDP sockets on loopback: two services converge, forged datagrams and
 * datagrams from no peer's address are dropped and counted (the source before the MAC), a
 * restarted standby pulls the tables back, and the refresh walk sends every entry of ours again.
 */
import { createSocket } from 'node:dgram';
import test from 'ava';
import { Keyring } from '../../core/auth/keyring.ts';
import { sleep, until } from '../../lab/wait.ts';
import { type PeerSyncState, SyncService } from '../../sync/service.ts';
import { conn, prng, SECRET, sameTable } from './harness.ts';
import { MemoryTables } from './memory-tables.ts';

/** Both services run in this process: poll often, bounded. */
const WAIT = { limitMs: 10_000, everyMs: 10 };

const keyring = new Keyring([{ id: 1, secret: SECRET }], 1);
let nextPort = 23000 + Math.floor(Math.random() * 2000) * 2;

/** A is the active (it masters every VIP), B the standby; `refreshMs` 0: no refresh walk. */
function pair(refreshMs = 0) {
  const [pa, pb] = [nextPort++, nextPort++];
  const ta = new MemoryTables({ ours: () => true });
  const tb = new MemoryTables();
  const states = { a: [] as PeerSyncState[], b: [] as PeerSyncState[] };
  const make = (
    id: number,
    port: number,
    peer: number,
    peerPort: number,
    tables: MemoryTables,
    active: boolean,
  ) =>
    new SyncService({
      nodeId: id,
      bindAddress: '127.0.0.1',
      port,
      peers: [{ id: peer, address: '127.0.0.1', port: peerPort }],
      keyring,
      tables,
      refreshMs,
      onPeerState: (_p, st) => (active ? states.a : states.b).push(st),
    });
  return { a: make(1, pa, 2, pb, ta, true), b: () => make(2, pb, 1, pa, tb, false), ta, tb, pa, pb, states };
}

const inSync = (s: SyncService) => s.status().peers[0].receiving.inSync;

test('two services on loopback converge and stay in sync under live updates', async (t) => {
  const { a, b: makeB, ta, tb } = pair();
  const b = makeB();
  await a.start();
  await b.start();
  try {
    const rand = prng(21);
    ta.load(Array.from({ length: 5000 }, () => conn(rand)));
    await until('in sync after the bulk', () => inSync(b), WAIT);
    for (let i = 0; i < 20; i++) {
      ta.change(Array.from({ length: 100 }, () => conn(rand)));
      await sleep(2);
    }
    await until('b holds every entry of a', () => tb.map.size === ta.map.size, WAIT);
    t.is(sameTable(ta.entries(), tb.entries()), undefined);
    t.true(inSync(b));
    await until('everything acknowledged', () => a.status().peers[0].sending.inFlight === 0, WAIT);
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('a key rotation in three steps, taken on each side in turn, keeps the stream: no drop, no bulk', async (t) => {
  const { a, b: makeB, ta, tb } = pair();
  const b = makeB();
  await a.start();
  await b.start();
  try {
    const rand = prng(23);
    ta.load(Array.from({ length: 2000 }, () => conn(rand)));
    await until('in sync after the bulk', () => inSync(b), WAIT);
    const NEW = Buffer.alloc(32, 0x6b);
    const both = (send: number) =>
      new Keyring(
        [
          { id: 1, secret: SECRET },
          { id: 2, secret: NEW },
        ],
        send,
      );
    // Each step on a, updates, then on b, updates: at every moment each side accepts the key the
    // other signs with (core/auth/README.md, Key rotation).
    const steps = [both(1), both(2), new Keyring([{ id: 2, secret: NEW }], 2)];
    for (const ring of steps) {
      for (const side of [a, b]) {
        side.setKeys(ring);
        ta.change(Array.from({ length: 200 }, () => conn(rand)));
        await sleep(20);
      }
    }
    await until('b holds every entry of a', () => tb.map.size === ta.map.size, WAIT);
    t.is(sameTable(ta.entries(), tb.entries()), undefined);
    for (const side of [a, b]) {
      const d = side.status().drops;
      t.is(d['unknown-key'] + d['bad-mac'], 0, 'no datagram was refused on the way');
    }
    t.is(b.status().peers[0].receiving.bulksCompleted, 1, 'no second bulk: the stream carried on');
    t.true(inSync(b));
    // The old key is gone for good: a datagram signed with it is refused.
    a.setKeys(keyring);
    ta.change([conn(rand)]);
    await until('b refuses the old key', () => b.status().drops['unknown-key'] > 0, WAIT);
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('forged datagrams and datagrams from an unknown sender are dropped and counted', async (t) => {
  const { a, b: makeB, pb } = pair();
  const b = makeB();
  await a.start();
  await b.start();
  const raw = createSocket('udp4');
  try {
    await until('in sync', () => inSync(b), WAIT);
    const applied = b.status().peers[0].receiving.applied;
    const junk = [
      Buffer.alloc(10),
      Buffer.alloc(200, 0xd5),
      Buffer.from('not a sync message at all, really not'),
    ];
    const forged = Buffer.alloc(120);
    forged.writeUInt16BE(0xd5e3, 0);
    forged[2] = 1;
    forged[3] = 1;
    forged.writeUInt16BE(120, 4);
    forged[6] = 1;
    forged.writeUInt32BE(1, 8);
    forged.writeUInt32BE(2, 12);
    for (const j of [...junk, forged]) await new Promise((r) => raw.send(j, pb, '127.0.0.1', r));
    await until('the forged message dropped (bad-mac)', () => b.status().drops['bad-mac'] === 1, WAIT);
    const d = b.status().drops;
    t.is(d['too-short'] + d['bad-magic'], 3);
    t.is(b.status().peers[0].receiving.applied, applied);
    t.true(inSync(b));
  } finally {
    raw.close();
    await a.stop();
    await b.stop();
  }
});

test('a restarted standby pulls the tables back from the active', async (t) => {
  const { a, b: makeB, ta, tb } = pair();
  let b = makeB();
  await a.start();
  await b.start();
  try {
    const rand = prng(22);
    ta.load(Array.from({ length: 3000 }, () => conn(rand)));
    await until('in sync', () => inSync(b), WAIT);
    await b.stop();
    tb.map.clear();
    ta.change(Array.from({ length: 500 }, () => conn(rand)));
    b = makeB();
    await b.start();
    await until('in sync, holding every entry of a', () => inSync(b) && tb.map.size === ta.map.size, WAIT);
    t.is(sameTable(ta.entries(), tb.entries()), undefined);
  } finally {
    await a.stop();
    await b.stop();
  }
});

test('a datagram from an address that is no peer is dropped before its MAC is checked', async (t) => {
  const { a, b: makeB, pb } = pair();
  const b = makeB();
  await a.start();
  await b.start();
  const raw = createSocket('udp4');
  try {
    await new Promise<void>((r) => raw.bind(0, '127.0.0.2', r));
    const forged = Buffer.alloc(120);
    forged.writeUInt16BE(0xd5e3, 0);
    for (let i = 0; i < 5; i++) await new Promise((r) => raw.send(forged, pb, '127.0.0.1', r));
    await until('dropped by source', () => b.status().drops['unknown-source'] === 5, WAIT);
    t.is(b.status().drops['bad-mac'], 0, 'no MAC was computed for them');
  } finally {
    raw.close();
    await a.stop();
    await b.stop();
  }
});

// Serial: its pace is measured on this process's timers, which the other tests here would crowd.
// Serial, as above. A bulk carries every entry: the refresh walk leaves the peer alone meanwhile.
test.serial('a peer being sent a bulk is not refreshed as well', async (t) => {
  // A period longer than the bulk: a pass that is due after it is no double sending.
  const { a, b: makeB, ta } = pair(2000);
  const rand = prng(31);
  ta.load(Array.from({ length: 20_000 }, () => conn(rand)));
  await a.start();
  const b = makeB();
  await b.start();
  try {
    await until('in sync', () => inSync(b), WAIT);
    const sent = a.status().peers[0].sending.entriesSent;
    t.true(sent < 22_000, `${sent} entries sent for a table of 20000`);
  } finally {
    await a.stop();
    await b.stop();
  }
});

// Serial, as above. The pace follows the last pass; a table that grew since must not stretch the
// next pass (a pass read in whole batches from a nearly empty table once left its entries unsent).
test.serial('a table that grows after a pass is still refreshed within a period', async (t) => {
  const { a, b: makeB, ta, tb } = pair(300);
  const b = makeB();
  const rand = prng(29);
  ta.load(Array.from({ length: 10 }, () => conn(rand)));
  await a.start();
  await b.start();
  try {
    await until('a first pass', () => a.status().refresh.passes >= 1, WAIT);
    ta.load(Array.from({ length: 5000 }, () => conn(rand)));
    const before = b.status().peers[0].receiving.applied;
    await sleep(450); // 1.5 periods
    const sent = b.status().peers[0].receiving.applied - before;
    t.true(sent >= 5000, `${sent} entries refreshed in 1.5 periods`);
    await until('in sync', () => inSync(b), WAIT);
    t.is(sameTable(ta.entries(), tb.entries()), undefined);
  } finally {
    await a.stop();
    await b.stop();
  }
});

test.serial(
  'the refresh walk sends every live entry of ours again, paced by the refresh period',
  async (t) => {
    const { a, b: makeB, ta, tb } = pair(300);
    const b = makeB();
    const rand = prng(23);
    ta.load(Array.from({ length: 2000 }, () => conn(rand)));
    await a.start();
    await b.start();
    try {
      await until('in sync', () => inSync(b), WAIT);
      await until('two refresh passes', () => a.status().refresh.passes >= 2, WAIT);
      const r = a.status().refresh;
      t.is(r.lastPassEntries, 2000, 'a pass reads every entry of ours');
      // Paced over the period (not read as fast as possible), and done within it, with slack for
      // this process's timers.
      t.true(
        r.lastPassMs !== null && r.lastPassMs >= 120 && r.lastPassMs <= 600,
        `a pass took ${r.lastPassMs} ms`,
      );
      // The standby holds them: the applied count grew by about a pass per refresh period.
      t.true(b.status().peers[0].receiving.applied >= 4000);
      t.is(sameTable(ta.entries(), tb.entries()), undefined);
    } finally {
      await a.stop();
      await b.stop();
    }
  },
);

test("a standby restarted with its last run's replay state takes the active's stream on, and records it", async (t) => {
  const { a, b: makeB, ta, tb, pa, pb } = pair();
  const b = makeB();
  await a.start();
  await b.start();
  try {
    const rand = prng(41);
    ta.load(Array.from({ length: 200 }, () => conn(rand)));
    await until('in sync', () => inSync(b), WAIT);
    const seeds = b.status().replay;
    t.is(seeds.length, 1);
    t.is(seeds[0].peer, 1);
    t.true(seeds[0].highestSeq > 0n, 'the highest number accepted from the active');
    await b.stop();
    // Restarted with what it recorded: the active's session goes on past it.
    const b2 = new SyncService({
      nodeId: 2,
      bindAddress: '127.0.0.1',
      port: pb,
      peers: [{ id: 1, address: '127.0.0.1', port: pa }],
      keyring,
      tables: tb,
      refreshMs: 0,
      replaySeeds: seeds,
    });
    t.deepEqual(b2.status().replay, seeds, 'seeded');
    // The port b just gave up (another test file may have taken it meanwhile: a few tries).
    for (let i = 0; ; i++) {
      try {
        await b2.start();
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EADDRINUSE' || i === 20) throw e;
        await sleep(100);
      }
    }
    t.teardown(() => b2.stop());
    ta.change(Array.from({ length: 50 }, () => conn(rand)));
    await until('in sync again', () => b2.status().peers[0].receiving.inSync, WAIT);
    t.true(b2.status().replay[0].highestSeq > seeds[0].highestSeq);
  } finally {
    await a.stop();
  }
});
