/** The messages between the daemon's main thread (sync-thread.ts) and the sync's thread (sync-worker.ts). */

import type { TableTally } from '../../admin/catalogue/drill.ts';
import type { KeyMaterial } from '../../core/auth/key-material.ts';
import type { ReplaySeed } from '../../core/auth/replay-guard.ts';
import type { DirectoryData } from '../../forwarder/directory.ts';
import type { SyncOptions } from '../options.ts';
import type { PeerSyncState, SharedState, SyncPeer, SyncServiceStatus } from '../service.ts';

/**
 * Shared operator state as it crosses the thread boundary: a Buffer arrives as a plain Uint8Array
 * (structured clone), so the payload is typed as that and turned back on arrival (`receivedState`).
 */
export type PostedState = Omit<SharedState, 'payload'> & { payload: Uint8Array };

export const receivedState = (s: PostedState): SharedState => ({
  ...s,
  payload: Buffer.from(s.payload.buffer, s.payload.byteOffset, s.payload.byteLength),
});

export interface SyncThreadData {
  nodeId: number;
  bindAddress: string;
  port: number;
  peers: SyncPeer[];
  keys: KeyMaterial;
  /** The forwarder's maps (fds are shared by a process's threads). */
  fds: { conns4: number; conns6: number; persist: number; events: number };
  directory: DirectoryData;
  /** VIPs (4 or 16 bytes) of the groups this director masters. */
  ours: Uint8Array[];
  refreshMs: number;
  options: Partial<SyncOptions>;
  /** The session id to send under (recorded on disk first: core/auth/session-store.ts). */
  sessionId: bigint;
  /** What the last run's replay guard accepted from each peer (daemon/replay-record.ts). */
  replaySeeds: ReplaySeed[];
  /** How often the thread sends a status snapshot, ms. */
  statusMs: number;
}

/** What the thread's tables counted (sync/bpf-table.ts). */
export interface TableCounters {
  /** Peers' entries naming a service or real server this director does not have (config drift). */
  unknown: number;
  /** Entries a sweep after a bulk removed. */
  swept: number;
  /** Events read from the forwarder's ring, and those whose ids were no longer known. */
  events: number;
  eventsUnknown: number;
}

export interface SyncSnapshot {
  service: SyncServiceStatus;
  tables: TableCounters;
  /** Whether a sweep after a bulk is under way. */
  sweeping: boolean;
}

export type ToSyncThread =
  | { type: 'directory'; directory: DirectoryData }
  | { type: 'ours'; vips: Uint8Array[] }
  | { type: 'share-state'; state: PostedState }
  | { type: 'resync' }
  /** The operator's keys changed (a rotation step): sign and verify with these from now on. */
  | { type: 'keys'; keys: KeyMaterial }
  | { type: 'tally'; id: number; peer: number; longLivedMs: number }
  | { type: 'stop' };

export type FromSyncThread =
  | { type: 'ready'; snapshot: SyncSnapshot }
  | { type: 'start-failed'; message: string; code: string | null }
  | { type: 'peer-state'; peer: number; state: PeerSyncState; snapshot: SyncSnapshot }
  | { type: 'snapshot'; snapshot: SyncSnapshot }
  | { type: 'shared-state'; peer: number; state: PostedState }
  | { type: 'tally-done'; id: number; tally: TableTally }
  | { type: 'error'; message: string };
