/**
 * The sync on its thread (sync/thread/), two of them on loopback over forwarders of their own: what
 * crosses the boundary between the daemon's thread and the sync's arrives as the daemon's code
 * expects it (operator state as a Buffer, peer states), and the thread stops cleanly.
 */
import test from 'ava';
import { until } from '../../lab/wait.ts';
import type { PeerSyncState, SharedState } from '../../sync/service.ts';
import { SyncThread } from '../../sync/thread/sync-thread.ts';
import { instance, skipReason } from '../forwarder/support.ts';
import { SECRET } from './harness.ts';

const serial = skipReason ? test.skip : test.serial;
const WAIT = { limitMs: 10_000, everyMs: 10 };

serial(
  "operator state shared on one director's thread reaches the other's daemon side as a Buffer",
  async (t) => {
    const port = 25000 + Math.floor(Math.random() * 2000) * 2;
    const states: PeerSyncState[] = [];
    const shared: SharedState[] = [];
    const errors: string[] = [];
    const start = async (id: number, own: number, peerId: number, peerPort: number) => {
      const fwd = instance(t);
      const m = fwd.loaded.maps;
      const thread = await SyncThread.start(
        {
          nodeId: id,
          bindAddress: '127.0.0.1',
          port: own,
          peers: [{ id: peerId, address: '127.0.0.1', port: peerPort }],
          keys: { keys: [{ id: 1, secret: SECRET.slice() }], sendId: 1 },
          fds: { conns4: m.conns4.fd, conns6: m.conns6.fd, persist: m.persist.fd, events: m.events.fd },
          directory: fwd.reconciler.directory(),
          ours: [],
          refreshMs: 60_000,
          options: { keepaliveMs: 50, stateResendMs: 100 },
          sessionId: BigInt(Date.now()) << 16n,
          replaySeeds: [],
          statusMs: 50,
        },
        {
          onPeerState: (_peer, s) => states.push(s),
          onSharedState: (_peer, s) => shared.push(s),
          onError: (e) => errors.push(e),
          onFailure: (e) => errors.push(e.message),
        },
      );
      t.teardown(() => thread.stop());
      return thread;
    };
    const a = await start(1, port, 2, port + 1);
    await start(2, port + 1, 1, port);
    a.shareState({ stamp: 7, origin: 1, payload: Buffer.from('drains') });
    await until('the state arrived', () => shared.length > 0, WAIT);
    t.true(Buffer.isBuffer(shared[0].payload), 'a Buffer, as the drains code reads it');
    t.is(shared[0].payload.toString(), 'drains');
    t.like(shared[0], { stamp: 7, origin: 1 });
    await until('in sync', () => states.some((s) => s.inSync), WAIT);
    t.deepEqual(errors, []);
  },
);
