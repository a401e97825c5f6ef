/**
 * In-memory ForwarderMapStore for unit tests (reconciler, model). It keeps
 * the kernel maps' semantics that matter to callers: array slots always
 * exist (zeroed), fixed capacities, whole-table swaps. Values round-trip
 * through the layout encoders so a test also exercises them. It counts
 * writes so tests can check that reconciling is minimal and idempotent.
 */
import { DsrError } from '../core/errors.ts';
import {
  DSR,
  decodeConfig,
  decodeReal,
  decodeSvc,
  decodeSvcKey,
  encodeConfig,
  encodeReal,
  encodeSvc,
  encodeSvcKey,
  type ForwarderConfig,
  LAYOUT,
  type RealEntry,
  type SvcEntry,
  type SvcKey,
} from './layout.ts';
import type { ForwarderMapStore } from './map-store.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

export class FakeMapStore implements ForwarderMapStore {
  /** Every put/delete/swap, in order ("putReal 3", "swap 0" ...). */
  readonly writes: string[] = [];
  private readonly svcIds = new Map<string, number>();
  private readonly services = new Map<number, Uint8Array>();
  private readonly reals = new Map<number, Uint8Array>();
  private readonly tables = new Map<number, Uint32Array>();
  private readonly txDevices = new Set<number>();
  private config: Uint8Array = new Uint8Array(LAYOUT.dsr_config.size);

  lookupServiceId(key: SvcKey): number | null {
    return this.svcIds.get(hex(encodeSvcKey(key))) ?? null;
  }

  getService(id: number): SvcEntry | null {
    if (id < 0 || id >= DSR.MAX_SERVICES) return null;
    return decodeSvc(this.services.get(id) ?? new Uint8Array(32));
  }

  getReal(id: number): RealEntry | null {
    if (id < 0 || id >= DSR.MAX_REALS) return null;
    return decodeReal(this.reals.get(id) ?? new Uint8Array(44));
  }

  getMaglevTable(svcId: number): Uint32Array | null {
    return this.tables.get(svcId) ?? null;
  }

  getMaglevSlot(svcId: number, slot: number): number | null {
    const table = this.tables.get(svcId);
    return table === undefined ? null : (table[slot] ?? DSR.NO_REAL);
  }

  getConfig(): ForwarderConfig {
    return decodeConfig(this.config);
  }

  listServiceIds(): Array<{ key: SvcKey; id: number }> {
    return [...this.svcIds].map(([k, id]) => ({ key: decodeSvcKey(Buffer.from(k, 'hex')), id }));
  }

  putServiceId(key: SvcKey, id: number): void {
    const k = hex(encodeSvcKey(key));
    if (!this.svcIds.has(k) && this.svcIds.size >= DSR.MAX_SERVICES) {
      throw new DsrError('E_BPF_MAP', 'svc_ids is full', { size: this.svcIds.size });
    }
    this.svcIds.set(k, id);
    this.writes.push(`putServiceId ${id}`);
  }

  deleteServiceId(key: SvcKey): void {
    this.svcIds.delete(hex(encodeSvcKey(key)));
    this.writes.push('deleteServiceId');
  }

  listServices(): Array<{ id: number; svc: SvcEntry }> {
    return [...this.services.keys()]
      .sort((a, b) => a - b)
      .map((id) => ({ id, svc: this.getService(id)! }))
      .filter((e) => e.svc.gen !== 0 || e.svc.flags !== 0);
  }

  putService(id: number, svc: SvcEntry): void {
    this.slot(id, DSR.MAX_SERVICES, 'services');
    this.services.set(id, encodeSvc(svc));
    this.writes.push(`putService ${id}`);
  }

  listReals(): Array<{ id: number; real: RealEntry }> {
    return [...this.reals.keys()]
      .sort((a, b) => a - b)
      .map((id) => ({ id, real: this.getReal(id)! }))
      .filter((e) => e.real.gen !== 0 || e.real.flags !== 0);
  }

  putReal(id: number, real: RealEntry): void {
    this.slot(id, DSR.MAX_REALS, 'reals');
    this.reals.set(id, encodeReal(real));
    this.writes.push(`putReal ${id}`);
  }

  swapMaglevTable(svcId: number, table: Uint32Array): void {
    this.slot(svcId, DSR.MAX_SERVICES, 'maglev_tables');
    this.tables.set(svcId, table.slice());
    this.writes.push(`swap ${svcId}`);
  }

  clearMaglevTable(svcId: number): void {
    this.tables.delete(svcId);
    this.writes.push(`clear ${svcId}`);
  }

  putConfig(config: ForwarderConfig): void {
    this.config = encodeConfig(config);
    this.writes.push('putConfig');
  }

  listTxDevices(): number[] {
    return [...this.txDevices].sort((a, b) => a - b);
  }

  putTxDevice(ifindex: number): void {
    this.txDevices.add(ifindex);
    this.writes.push(`putTxDevice ${ifindex}`);
  }

  deleteTxDevice(ifindex: number): void {
    this.txDevices.delete(ifindex);
    this.writes.push(`deleteTxDevice ${ifindex}`);
  }

  private slot(id: number, max: number, map: string): void {
    if (!Number.isInteger(id) || id < 0 || id >= max) {
      throw new DsrError('E_BPF_MAP', `index ${id} is outside ${map} (0..${max - 1})`, { id, map });
    }
  }
}
