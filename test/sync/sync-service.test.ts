/**
 * The sync driver over real UDP sockets on loopback: two services converge,
 * forged and unknown-peer datagrams are dropped and counted, a restarted
 * standby pulls the tables back.
 */
import { createSocket } from 'node:dgram';
import test from 'ava';
import { Keyring } from '../../core/auth/keyring.ts';
import { sleep, until } from '../../lab/wait.ts';
import { SyncService } from '../../sync/service.ts';
import { MemorySyncTable } from '../../sync/table.ts';
import { conn, prng, SECRET, sameTable } from './harness.ts';

/** Both services run in this process: poll often, bounded. */
const WAIT = { limitMs: 10_000, everyMs: 10 };

const keyring = new Keyring([{ id: 1, secret: SECRET }], 1);
let nextPort = 23000 + Math.floor(Math.random() * 2000) * 2;

function pair() {
  const [pa, pb] = [nextPort++, nextPort++];
  const ta = new MemorySyncTable();
  const tb = new MemorySyncTable();
  const make = (
    id: number,
    port: number,
    peer: number,
    peerPort: number,
    table: MemorySyncTable,
    active: boolean,
  ) =>
    new SyncService({
      nodeId: id,
      bindAddress: '127.0.0.1',
      port,
      peers: [{ id: peer, address: '127.0.0.1', port: peerPort }],
      keyring,
      table,
      acceptEntries: () => !active,
    });
  return { a: make(1, pa, 2, pb, ta, true), b: () => make(2, pb, 1, pa, tb, false), ta, tb, pb };
}

test('two services on loopback converge and stay in sync under live updates', async (t) => {
  const { a, b: makeB, ta, tb } = pair();
  const b = makeB();
  await a.start();
  await b.start();
  try {
    const rand = prng(21);
    for (const e of Array.from({ length: 5000 }, () => conn(rand))) ta.upsert(e);
    await until('in sync after the bulk', () => b.inSyncWith(1), WAIT);
    for (let i = 0; i < 20; i++) {
      const batch = Array.from({ length: 100 }, () => conn(rand));
      for (const e of batch) ta.upsert(e);
      a.publish(batch);
      await sleep(2);
    }
    await until('b holds every entry of a', () => tb.map.size === ta.map.size, WAIT);
    t.is(sameTable(ta.map, tb.map), undefined);
    t.true(b.status().peers[0].receiving.inSync);
    await until('everything acknowledged', () => a.status().peers[0].sending.inFlight === 0, WAIT);
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
    await until('in sync', () => b.inSyncWith(1), WAIT);
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
    t.true(b.inSyncWith(1));
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
    for (const e of Array.from({ length: 3000 }, () => conn(rand))) ta.upsert(e);
    await until('in sync', () => b.inSyncWith(1), WAIT);
    await b.stop();
    tb.map.clear();
    const more = Array.from({ length: 500 }, () => conn(rand));
    for (const e of more) ta.upsert(e);
    a.publish(more);
    b = makeB();
    await b.start();
    await until(
      'in sync, holding every entry of a',
      () => b.inSyncWith(1) && tb.map.size === ta.map.size,
      WAIT,
    );
    t.is(sameTable(ta.map, tb.map), undefined);
  } finally {
    await a.stop();
    await b.stop();
  }
});
