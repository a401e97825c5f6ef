/**
 * The sync's thread: the SyncService with the forwarder's tables (its BPF maps and event ring, by
 * fd) runs here, so that reading a million entries for a bulk, writing a peer's bulk, draining the
 * ring under 100k new flows a second and the refresh walk never hold up the daemon's main thread,
 * whose timers the health checks, the admin socket and the VIP ownership live on. The main thread
 * sends the ids in force and which VIPs are ours, and gets state changes and status snapshots.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { keyringFromMaterial } from '../../core/auth/key-material.ts';
import { SYNC_KEY_PURPOSE } from '../../core/auth/keyring.ts';
import { DsrError } from '../../core/errors.ts';
import { BpfMap } from '../../forwarder/bpf-map.ts';
import { Directory } from '../../forwarder/directory.ts';
import { BpfTables } from '../bpf-table.ts';
import { BulkTally } from '../bulk-tally.ts';
import { SyncService } from '../service.ts';
import { copyMarginMs } from '../table.ts';
import { VipSet } from '../vip-set.ts';
import {
  type FromSyncThread,
  receivedState,
  type SyncSnapshot,
  type SyncThreadData,
  type ToSyncThread,
} from './protocol.ts';

const data = workerData as SyncThreadData;
const port = parentPort;
const post = (m: FromSyncThread): void => port?.postMessage(m);
let directory = new Directory(data.directory);
let ours = new VipSet(data.ours);
const tallies = new Map<number, { peer: number; tally: BulkTally }>();

const tables = new BpfTables({
  maps: {
    conns4: new BpfMap('conns4', data.fds.conns4),
    conns6: new BpfMap('conns6', data.fds.conns6),
    persist: new BpfMap('persist', data.fds.persist),
  },
  events: new BpfMap('events', data.fds.events),
  directory: () => directory,
  ours: () => ours,
  marginMs: copyMarginMs(data.refreshMs),
});

function snapshot(): SyncSnapshot {
  return { service: service.status(), tables: { ...tables.counters }, sweeping: tables.sweeping };
}

const service: SyncService = new SyncService({
  nodeId: data.nodeId,
  bindAddress: data.bindAddress,
  port: data.port,
  peers: data.peers,
  keyring: keyringFromMaterial(data.keys, SYNC_KEY_PURPOSE),
  tables,
  refreshMs: data.refreshMs,
  options: data.options,
  sessionId: data.sessionId,
  replaySeeds: data.replaySeeds,
  onPeerState: (peer, state) => post({ type: 'peer-state', peer, state, snapshot: snapshot() }),
  onOps: (peer, ops) => {
    for (const [id, t] of tallies) {
      if (t.peer !== peer) continue;
      t.tally.feed(ops);
      if (t.tally.result === null) continue;
      tallies.delete(id);
      post({ type: 'tally-done', id, tally: t.tally.result });
    }
  },
  onSharedState: (peer, state) => post({ type: 'shared-state', peer, state }),
  onError: (err) => post({ type: 'error', message: err.message }),
});

let timer: NodeJS.Timeout | undefined;

port?.on('message', (m: ToSyncThread) => {
  switch (m.type) {
    case 'directory':
      directory = new Directory(m.directory);
      break;
    case 'ours':
      ours = new VipSet(m.vips);
      break;
    case 'share-state':
      try {
        service.shareState(receivedState(m.state));
      } catch (e) {
        post({ type: 'error', message: (e as Error).message });
      }
      break;
    case 'resync':
      service.resync();
      break;
    case 'keys':
      service.setKeys(keyringFromMaterial(m.keys, SYNC_KEY_PURPOSE));
      break;
    case 'tally':
      tallies.set(m.id, { peer: m.peer, tally: new BulkTally(m.longLivedMs) });
      break;
    case 'stop':
      clearInterval(timer);
      void service.stop().then(() => {
        tables.close();
        port?.close();
      });
      break;
  }
});

try {
  await service.start();
  timer = setInterval(() => post({ type: 'snapshot', snapshot: snapshot() }), data.statusMs);
  post({ type: 'ready', snapshot: snapshot() });
} catch (e) {
  tables.close();
  post({
    type: 'start-failed',
    message: (e as Error).message,
    code: e instanceof DsrError ? e.code : null,
  });
  port?.close();
}
