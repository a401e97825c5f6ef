/**
 * The narrow interface between the reconciler (and the reference model) and
 * the forwarder's control maps. Two implementations: BpfMapStore over the
 * kernel maps, FakeMapStore in memory for unit tests.
 *
 * Only control state lives here (services, real servers, Maglev tables,
 * settings, egress devices); the data-plane tables (connections,
 * persistence) are read and written through forwarder/tables.ts.
 */
import type { ForwarderConfig, RealEntry, SvcEntry, SvcKey } from './layout.ts';

/** What the reference model reads: the maps as the program sees them. */
export interface ForwarderView {
  lookupServiceId(key: SvcKey): number | null;
  getService(id: number): SvcEntry | null;
  getReal(id: number): RealEntry | null;
  /**
   * The real id in one slot of the service's Maglev table (DSR.NO_REAL where none), or null when
   * the service has no table: one lookup, as the program makes (`dsrctl explain` asks per flow).
   */
  getMaglevSlot(svcId: number, slot: number): number | null;
  getConfig(): ForwarderConfig;
}

export interface ForwarderMapStore extends ForwarderView {
  /** Real id per slot (DSR.NO_REAL where none), or null when the service has no table. */
  getMaglevTable(svcId: number): Uint32Array | null;
  listServiceIds(): Array<{ key: SvcKey; id: number }>;
  putServiceId(key: SvcKey, id: number): void;
  deleteServiceId(key: SvcKey): void;
  /** Slots ever used (gen or flags non-zero). */
  listServices(): Array<{ id: number; svc: SvcEntry }>;
  putService(id: number, svc: SvcEntry): void;
  /** Slots ever used (gen or flags non-zero). */
  listReals(): Array<{ id: number; real: RealEntry }>;
  putReal(id: number, real: RealEntry): void;
  /** Replaces the service's whole table at once: a packet sees all old or all new. */
  swapMaglevTable(svcId: number, table: Uint32Array): void;
  clearMaglevTable(svcId: number): void;
  putConfig(config: ForwarderConfig): void;
  listTxDevices(): number[];
  putTxDevice(ifindex: number): void;
  deleteTxDevice(ifindex: number): void;
}

export function svcKeyString(k: SvcKey): string {
  return `${k.family}|${Array.from(k.vip).join('.')}|${k.proto}|${k.port}`;
}
