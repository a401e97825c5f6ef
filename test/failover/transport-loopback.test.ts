/**
 * The dgram transport over loopback (127.0.0.1 only): real authenticated packets, forged, replayed,
 * malformed, unknown and spoofed-source packets dropped and counted; then a real two-director
 * election through ElectionRunner. Timing is never asserted, only reached (generous timeouts).
 */
import { createSocket, type Socket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import test from 'ava';
import { Keyring } from '../../core/auth/keyring.ts';
import { newSessionId, SenderSession } from '../../core/auth/session.ts';
import type { DropReason } from '../../failover/drop-reasons.ts';
import { ElectionGroup } from '../../failover/election/group.ts';
import type { ElectionMessage } from '../../failover/election/messages.ts';
import type { ElectionEffect } from '../../failover/election/types.ts';
import { ElectionRunner } from '../../failover/transport/election-runner.ts';
import { ElectionTransport, type TransportPeer } from '../../failover/transport/election-transport.ts';
import { ElectionEncoder } from '../../failover/wire/encode.ts';
import { until } from '../../lab/wait.ts';

/** Datagrams on loopback: poll often, bounded. */
const WAIT = { limitMs: 5000, everyMs: 5 };

const ring = new Keyring([{ id: 1, secret: Buffer.alloc(32, 0x42) }], 1).derive('dsr-election-v1');
const wrongRing = new Keyring([{ id: 1, secret: Buffer.alloc(32, 0x43) }], 1).derive('dsr-election-v1');
const clock = { mono: () => performance.now(), wall: () => Date.now() };
const fingerprint = new Uint8Array(16).fill(3);

const session = () =>
  new SenderSession(newSessionId(Date.now(), Math.floor(Math.random() * 65536)), Date.now(), clock.mono());

function advert(from: number, over: Partial<ElectionMessage> = {}): ElectionMessage {
  return {
    kind: 'advert',
    groupId: 5,
    from,
    priority: 100,
    state: 'backup',
    intervalMs: 100,
    fingerprint,
    syncReady: true,
    ...over,
  } as ElectionMessage;
}

function rawSocket(): Promise<Socket> {
  const s = createSocket('udp4');
  return new Promise((resolve) => s.bind({ address: '127.0.0.1', port: 0 }, () => resolve(s)));
}

test('authenticated packets flow; forged, replayed, malformed, unknown and spoofed ones are dropped and counted', async (t) => {
  const received: ElectionMessage[] = [];
  const drops: { reason: DropReason; groupId?: number }[] = [];
  const b = new ElectionTransport({
    nodeId: 2,
    bind: { address: '127.0.0.1', port: 0, family: 'ipv4' },
    peers: [],
    keyring: ring,
    session: session(),
    clock,
    onMessage: (m) => received.push(m),
    onDrop: (reason, info) => drops.push({ reason, groupId: info.groupId }),
  });
  const a = new ElectionTransport({
    nodeId: 1,
    bind: { address: '127.0.0.1', port: 0, family: 'ipv4' },
    peers: [],
    keyring: ring,
    session: session(),
    clock,
    onMessage: () => {},
  });
  const raw = await rawSocket();
  t.teardown(async () => {
    raw.close();
    await a.close();
    await b.close();
  });
  await a.start();
  await b.start();
  const peerA: TransportPeer = { nodeId: 1, name: 'a', address: '127.0.0.1', port: a.address().port };
  // Node 3 is configured on another address: packets claiming to be node 3 from 127.0.0.1 are spoofed.
  const peerC: TransportPeer = { nodeId: 3, name: 'c', address: '127.0.0.3', port: 9 };
  b.setPeers([peerA, peerC]);
  a.setPeers([{ nodeId: 2, name: 'b', address: '127.0.0.1', port: b.address().port }]);

  a.send([{ to: 'all', message: advert(1) }]);
  await until('the first advert', () => received.length === 1, WAIT);
  t.deepEqual(received[0], advert(1));

  const portB = b.address().port;
  const sendRaw = (bytes: Buffer) => raw.send(bytes, portB, '127.0.0.1');
  const honest = new ElectionEncoder(ring, session());
  const captured = honest.encode(advert(1, { priority: 150 }), clock.mono());
  sendRaw(captured);
  await until('the captured packet', () => received.length === 2, WAIT);
  sendRaw(captured);
  sendRaw(
    new ElectionEncoder(wrongRing, session()).encode(
      advert(1, { priority: 254, state: 'master' }),
      clock.mono(),
    ),
  );
  sendRaw(Buffer.from('not an election packet'));
  sendRaw(captured.subarray(0, 50));
  sendRaw(honest.encode(advert(99), clock.mono()));
  sendRaw(honest.encode(advert(3), clock.mono()));
  sendRaw(honest.encode(advert(2), clock.mono()));
  await until('seven drops', () => drops.length === 7, WAIT);

  t.is(received.length, 2, 'nothing else got through');
  t.deepEqual(
    drops.map((d) => d.reason),
    ['replay', 'bad-mac', 'bad-magic', 'bad-length', 'unknown-peer', 'source-mismatch', 'self'],
  );
  t.is(drops[0].groupId, 5, 'authenticated drops name their group');
  t.is(drops[1].groupId, undefined, 'unauthenticated drops name nothing');
  t.like(b.stats(), {
    received: 9,
    accepted: 2,
    drops: {
      replay: 1,
      'bad-mac': 1,
      'bad-magic': 1,
      'bad-length': 1,
      'unknown-peer': 1,
      'source-mismatch': 1,
      self: 1,
    },
  });

  // A spoofed packet must not use up the sequence number: the genuine one still gets through.
  const next = honest.encode(advert(3), clock.mono());
  sendRaw(next);
  await until('one more drop', () => drops.length === 8, WAIT);
  t.is(drops[7].reason, 'source-mismatch');
  b.setPeers([peerA, { ...peerC, address: '127.0.0.1' }]);
  sendRaw(next);
  await until('the same packet, now from its configured address', () => received.length === 3, WAIT);
});

test('two directors elect over real UDP; a graceful stop hands over with priority 0', async (t) => {
  const effects: { node: string; effect: ElectionEffect }[] = [];
  const make = (name: string, nodeId: number, priority: number) => {
    const group = new ElectionGroup({
      groupId: 5,
      nodeId,
      priority,
      advertIntervalMs: 20,
      fingerprint,
      peers: [nodeId === 1 ? 2 : 1],
      random: Math.random,
    });
    let runner: ElectionRunner | undefined;
    const transport = new ElectionTransport({
      nodeId,
      bind: { address: '127.0.0.1', port: 0, family: 'ipv4' },
      peers: [],
      keyring: ring,
      session: session(),
      clock,
      onMessage: (m) => runner?.deliver(m),
      onDrop: (reason, info) => runner?.recordDrop(reason, info.groupId),
    });
    runner = new ElectionRunner({
      groups: [group],
      send: (o) => transport.send(o),
      onOutput: (_g, out) => {
        for (const effect of out.effects) effects.push({ node: name, effect });
      },
    });
    return { name, nodeId, group, transport, runner };
  };
  const a = make('a', 1, 200);
  const b = make('b', 2, 100);
  t.teardown(async () => {
    a.runner.stop();
    b.runner.stop();
    await a.transport.close();
    await b.transport.close();
  });
  await a.transport.start();
  await b.transport.start();
  a.transport.setPeers([{ nodeId: 2, name: 'b', address: '127.0.0.1', port: b.transport.address().port }]);
  b.transport.setPeers([{ nodeId: 1, name: 'a', address: '127.0.0.1', port: a.transport.address().port }]);
  b.runner.start();
  a.runner.start();

  await until('a master, b backup', () => a.group.state === 'master' && b.group.state === 'backup', WAIT);
  await until('b to follow a', () => b.runner.status().groups[0].masterId === 1, WAIT);
  t.true(effects.some((e) => e.node === 'a' && e.effect.type === 'become-master'));

  a.runner.stop();
  await until('b master after a stopped', () => b.group.state === 'master', WAIT);
  const takeover = b.group.status(performance.now()).transitions.at(-1);
  t.is(takeover?.reason, 'master-resigned', 'b took over on the priority-0 advert, not on a timeout');
  t.is(a.group.state, 'initialize');
  t.deepEqual(b.transport.stats().drops, {});
});

test('a key rotation in place: each side sees which keys the other holds and signs with, and no advert is dropped', async (t) => {
  const operator = Buffer.alloc(32, 0x42);
  const fresh = Buffer.alloc(32, 0x44);
  const rings = {
    old: new Keyring([{ id: 1, secret: operator }], 1),
    added: new Keyring(
      [
        { id: 1, secret: operator },
        { id: 2, secret: fresh },
      ],
      1,
    ),
    switched: new Keyring(
      [
        { id: 1, secret: operator },
        { id: 2, secret: fresh },
      ],
      2,
    ),
    finished: new Keyring([{ id: 2, secret: fresh }], 2),
  };
  const derived = (k: Keyring) => k.derive('dsr-election-v1');
  const make = (nodeId: number) =>
    new ElectionTransport({
      nodeId,
      bind: { address: '127.0.0.1', port: 0, family: 'ipv4' },
      peers: [],
      keyring: derived(rings.old),
      session: session(),
      clock,
      onMessage: () => {},
    });
  const a = make(1);
  const b = make(2);
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  await a.start();
  await b.start();
  a.setPeers([{ nodeId: 2, name: 'b', address: '127.0.0.1', port: b.address().port }]);
  b.setPeers([{ nodeId: 1, name: 'a', address: '127.0.0.1', port: a.address().port }]);
  const seen = async (
    by: ElectionTransport,
    from: number,
    keys: { sendsWith: number; accepts: number[] },
  ) => {
    const other = by === a ? b : a;
    await until(
      `node ${from}'s keys seen as ${JSON.stringify(keys)}`,
      () => {
        other.send([{ to: 'all', message: advert(from) }]);
        return JSON.stringify(by.stats().peerKeys[from]) === JSON.stringify(keys);
      },
      WAIT,
    );
  };
  await seen(b, 1, { sendsWith: 1, accepts: [1] });
  for (const [step, sendsWith, accepts] of [
    ['added', 1, [1, 2]],
    ['switched', 2, [1, 2]],
    ['finished', 2, [2]],
  ] as const) {
    for (const [side, id, peer] of [
      [a, 1, b],
      [b, 2, a],
    ] as const) {
      side.setKeyring(derived(rings[step]));
      t.deepEqual(side.stats().keys, { sendsWith, accepts: [...accepts] }, `${step}: our own keys`);
      await seen(peer, id, { sendsWith, accepts: [...accepts] });
    }
  }
  t.deepEqual(a.stats().drops, {}, 'a dropped nothing');
  t.deepEqual(b.stats().drops, {}, 'b dropped nothing');
  // The old key is gone for good: an advert signed with it is refused.
  a.setKeyring(derived(rings.old));
  await until(
    'b refuses the old key',
    () => {
      a.send([{ to: 'all', message: advert(1) }]);
      return (b.stats().drops['unknown-key'] ?? 0) > 0;
    },
    WAIT,
  );
});

test('the source before the MAC: other addresses and a flood over a peer address budget are dropped unverified', async (t) => {
  const received: ElectionMessage[] = [];
  // A keyring that counts what it is asked to verify: what reaches the HMAC.
  let verified = 0;
  const counting = new Proxy(ring, {
    get(target, key) {
      // The ring itself as receiver: its getters read private fields, which a proxy does not have.
      const v = Reflect.get(target, key, target);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (key === 'verify') verified++;
        return v.apply(target, args);
      };
    },
  });
  const b = new ElectionTransport({
    nodeId: 2,
    bind: { address: '127.0.0.1', port: 0, family: 'ipv4' },
    peers: [],
    keyring: counting,
    session: session(),
    clock,
    budget: { perSecond: 100, burst: 20 },
    onMessage: (m) => received.push(m),
  });
  const raw = await rawSocket();
  t.teardown(async () => {
    raw.close();
    await b.close();
  });
  await b.start();
  const honest = new ElectionEncoder(ring, session());
  const sendRaw = (bytes: Buffer) => raw.send(bytes, b.address().port, '127.0.0.1');

  // No peer at 127.0.0.1 yet: dropped by address, nothing verified.
  b.setPeers([{ nodeId: 1, name: 'a', address: '127.0.0.9', port: 9 }]);
  for (let i = 0; i < 50; i++) sendRaw(honest.encode(advert(1), clock.mono()));
  await until('fifty unknown-source drops', () => (b.stats().drops['unknown-source'] ?? 0) === 50, WAIT);
  t.is(verified, 0, 'no MAC computed for another source');

  // The peer is at 127.0.0.1: a burst of 150 (in three sends of 50, which the socket buffer holds)
  // passes its budget's burst of 20 and what the rate adds meanwhile, no more.
  b.setPeers([{ nodeId: 1, name: 'a', address: '127.0.0.1', port: 9 }]);
  const started = clock.mono();
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 50; i++) sendRaw(honest.encode(advert(1), clock.mono()));
    await until(`round ${round} handled`, () => b.stats().received === 100 + 50 * round, WAIT);
  }
  const over = b.stats().drops['over-budget'] ?? 0;
  const refill = Math.ceil(((clock.mono() - started) * 100) / 1000);
  t.log(`burst of 150: ${received.length} verified and accepted, ${over} over budget`);
  t.true(received.length >= 20 && received.length <= 20 + refill, `${received.length} accepted`);
  t.is(received.length + over, 150);

  // After a quiet spell the peer's adverts pass again.
  await new Promise((r) => setTimeout(r, 300));
  const before = received.length;
  sendRaw(honest.encode(advert(1), clock.mono()));
  await until('the next advert accepted', () => received.length === before + 1, WAIT);
});

test('after a restart seeded with what the last run accepted, a recorded stream played back is dropped', async (t) => {
  const sender = session();
  const honest = new ElectionEncoder(ring, sender);
  const captured = [1, 2, 3].map(() => honest.encode(advert(1), clock.mono()));
  const raw = await rawSocket();
  t.teardown(() => raw.close());
  const make = (replaySeeds?: { peer: number; session: bigint; highestSeq: bigint }[]) => {
    const received: ElectionMessage[] = [];
    const drops: DropReason[] = [];
    const transport = new ElectionTransport({
      nodeId: 2,
      bind: { address: '127.0.0.1', port: 0, family: 'ipv4' },
      peers: [],
      keyring: ring,
      session: session(),
      clock,
      replaySeeds,
      onMessage: (m) => received.push(m),
      onDrop: (reason) => drops.push(reason),
    });
    return { transport, received, drops };
  };
  const playTo = async (b: ReturnType<typeof make>, packets: Buffer[], total: number) => {
    await b.transport.start();
    b.transport.setPeers([{ nodeId: 1, name: 'a', address: '127.0.0.1', port: 9 }]);
    for (const p of packets) raw.send(p, b.transport.address().port, '127.0.0.1');
    await until('handled', () => b.received.length + b.drops.length === total, WAIT);
  };

  // The first run hears the stream, and records what its guard holds.
  const first = make();
  await playTo(first, captured, 3);
  t.is(first.received.length, 3);
  const state = first.transport.replayState();
  t.deepEqual(state, [{ peer: 1, session: sender.id, highestSeq: 3n }]);
  await first.transport.close();

  // Restarted without that state, the replay passes as a peer first heard (what issue 21 found).
  const forgetful = make();
  await playTo(forgetful, captured, 3);
  t.is(forgetful.received.length, 3);
  await forgetful.transport.close();

  // Seeded with it, the replay is dropped; the peer's next message still passes.
  const seeded = make(state);
  t.teardown(() => seeded.transport.close());
  await playTo(seeded, [...captured, honest.encode(advert(1), clock.mono())], 4);
  t.deepEqual(seeded.drops, ['replay', 'replay', 'replay']);
  t.is(seeded.received.length, 1);
});
