/**
 * Shared operator state over the sync (drains surviving a failover, issue 7): the last-writer-wins
 * version, the STATE message's encoding, and two SyncServices on loopback (a late peer gets the
 * state at the next resend).
 */
import test from 'ava';
import { Keyring } from '../../core/auth/keyring.ts';
import { ReplayGuard } from '../../core/auth/replay-guard.ts';
import { newSessionId, SenderSession } from '../../core/auth/session.ts';
import { sleep, until } from '../../lab/wait.ts';
import { MAX_STATE_PAYLOAD } from '../../sync/messages.ts';
import { type SharedState, SyncService } from '../../sync/service.ts';
import { newerThan, SharedStateVersion } from '../../sync/shared-state-version.ts';
import { SyncCodec } from '../../sync/wire.ts';
import { SECRET } from './harness.ts';
import { MemoryTables } from './memory-tables.ts';

const WALL = 1_800_000_000_000;

test('version: a local change is newer than anything seen, even with a clock behind', (t) => {
  const a = new SharedStateVersion(1);
  const b = new SharedStateVersion(2);
  t.deepEqual(a.current, { stamp: 0, origin: 0 });
  const va = a.localChange(WALL);
  t.deepEqual(va, { stamp: WALL, origin: 1 });
  t.true(b.wants(va));
  b.adopt(va);
  t.false(b.wants(va), 'the same version again (a resend) is not wanted');
  // b's clock is 10 s behind: its change still supersedes what it has seen.
  const vb = b.localChange(WALL - 10_000);
  t.deepEqual(vb, { stamp: WALL + 1, origin: 2 });
  t.true(a.wants(vb));
  a.adopt(vb);
  t.false(a.wants(va), 'an older version is ignored');
  // Same stamp: the higher origin wins, on every director alike.
  t.true(newerThan({ stamp: 5, origin: 3 }, { stamp: 5, origin: 2 }));
  t.false(newerThan({ stamp: 5, origin: 2 }, { stamp: 5, origin: 3 }));
  a.adopt({ stamp: 1, origin: 9 });
  t.deepEqual(a.current, vb, 'adopt never goes back');
});

function codec(id: number): SyncCodec {
  return new SyncCodec({
    nodeId: id,
    keyring: new Keyring([{ id: 1, secret: SECRET }], 1),
    session: new SenderSession(newSessionId(WALL, id), WALL, 0),
    guard: new ReplayGuard({ maxClockSkewMs: Number.POSITIVE_INFINITY }),
  });
}

test('STATE message: authenticated round trip; bad bodies and oversize payloads are refused', (t) => {
  const a = codec(1);
  const b = codec(2);
  const payload = Buffer.from(JSON.stringify({ version: 1, drains: [], weights: [] }));
  const bytes = a.encode({ type: 'state', stamp: WALL, origin: 1, payload }, 2, 10);
  const d = b.decode(bytes, { mono: 10, wall: WALL });
  t.true(d.ok);
  if (d.ok) t.like(d.message, { type: 'state', stamp: WALL, origin: 1 });
  if (d.ok && d.message.type === 'state') t.deepEqual(d.message.payload, payload);
  // Tampered payload: the MAC fails.
  const forged = Buffer.from(a.encode({ type: 'state', stamp: WALL, origin: 1, payload }, 2, 11));
  forged[60] ^= 1;
  t.deepEqual(b.decode(forged, { mono: 11, wall: WALL }), { ok: false, reason: 'bad-mac' });
  // Stamp 0 is never a version.
  const zero = a.encode({ type: 'state', stamp: 0, origin: 1, payload }, 2, 12);
  t.deepEqual(b.decode(zero, { mono: 12, wall: WALL }), { ok: false, reason: 'malformed-body' });
  t.throws(
    () =>
      a.encode({ type: 'state', stamp: 1, origin: 1, payload: Buffer.alloc(MAX_STATE_PAYLOAD + 1) }, 2, 13),
    { message: /too large/ },
  );
  // Large states still fit one datagram (IP fragments on the directors' segment).
  const big = Buffer.alloc(MAX_STATE_PAYLOAD, 0x61);
  const ok = b.decode(a.encode({ type: 'state', stamp: 2, origin: 1, payload: big }, 2, 14), {
    mono: 14,
    wall: WALL,
  });
  t.true(ok.ok && ok.message.type === 'state' && ok.message.payload.length === MAX_STATE_PAYLOAD);
});

test('SyncService: shared state reaches the peer now, and a peer started later at the next resend', async (t) => {
  const keyring = new Keyring([{ id: 1, secret: SECRET }], 1);
  const base = 27000 + Math.floor(Math.random() * 1000) * 2;
  const got: SharedState[] = [];
  const make = (
    id: number,
    port: number,
    peer: number,
    peerPort: number,
    onShared?: (s: SharedState) => void,
  ) =>
    new SyncService({
      nodeId: id,
      bindAddress: '127.0.0.1',
      port,
      peers: [{ id: peer, address: '127.0.0.1', port: peerPort }],
      keyring,
      tables: new MemoryTables(),
      refreshMs: 0,
      options: { stateResendMs: 100 },
      onSharedState: (_p, s) => onShared?.(s),
    });
  const a = make(1, base, 2, base + 1);
  await a.start();
  t.teardown(() => a.stop());
  const payload = Buffer.from('{"drains":1}');
  a.shareState({ stamp: 7, origin: 1, payload }); // b is not running yet: this one is lost
  await sleep(150);
  const b = make(2, base + 1, 1, base, (s) => got.push(s));
  await b.start();
  t.teardown(() => b.stop());
  await until('the state resent periodically', () => got.length >= 2, { limitMs: 5000, everyMs: 20 });
  t.like(got[0], { stamp: 7, origin: 1 });
  t.deepEqual(got[0].payload, payload);
  t.throws(() => a.shareState({ stamp: 8, origin: 1, payload: Buffer.alloc(MAX_STATE_PAYLOAD + 1) }), {
    message: /exceeds/,
  });
});
