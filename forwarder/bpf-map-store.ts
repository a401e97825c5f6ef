/**
 * ForwarderMapStore over the kernel maps of a loaded forwarder.
 *
 * Maglev swaps: a new inner array (BPF_F_INNER_MAP, so each service may
 * have its own size M) is created, filled in one batch update, then
 * installed in the outer array-of-maps slot with a single update; the kernel
 * swaps the pointer atomically and frees the old table after an RCU grace
 * period, so a packet sees all of the old table or all of the new one.
 */
import { DsrError } from '../core/errors.ts';
import { BpfMap, u32Key } from './bpf-map.ts';
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
import { BPF_F_INNER_MAP, BPF_MAP_TYPE_ARRAY, libbpf } from './libbpf.ts';
import type { ForwarderMapStore } from './map-store.ts';

export interface ControlMaps {
  svc_ids: BpfMap;
  services: BpfMap;
  reals: BpfMap;
  maglev_tables: BpfMap;
  config: BpfMap;
  tx_devs: BpfMap;
}

function readU32(b: Uint8Array, at = 0): number {
  return new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at, true);
}

export class BpfMapStore implements ForwarderMapStore {
  private readonly m: ControlMaps;

  constructor(maps: ControlMaps) {
    this.m = maps;
  }

  lookupServiceId(key: SvcKey): number | null {
    const v = this.m.svc_ids.lookup(encodeSvcKey(key));
    return v ? readU32(v) : null;
  }

  getService(id: number): SvcEntry | null {
    const v = this.m.services.lookup(u32Key(id));
    return v ? decodeSvc(v) : null;
  }

  getReal(id: number): RealEntry | null {
    const v = this.m.reals.lookup(u32Key(id));
    return v ? decodeReal(v) : null;
  }

  getMaglevTable(svcId: number): Uint32Array | null {
    const v = this.m.maglev_tables.lookup(u32Key(svcId));
    if (!v) return null;
    const fd = libbpf.mapFdById(readU32(v));
    try {
      const inner = new BpfMap('maglev_inner', fd);
      const table = new Uint32Array(inner.maxEntries);
      inner.forEachBatch((keys, values, count) => {
        for (let i = 0; i < count; i++) table[readU32(keys, i * 4)] = readU32(values, i * 4);
      });
      return table;
    } finally {
      libbpf.closeFd(fd);
    }
  }

  getMaglevSlot(svcId: number, slot: number): number | null {
    const v = this.m.maglev_tables.lookup(u32Key(svcId));
    if (!v) return null;
    const fd = libbpf.mapFdById(readU32(v));
    try {
      const value = new BpfMap('maglev_inner', fd).lookup(u32Key(slot));
      return value === null ? DSR.NO_REAL : readU32(value);
    } finally {
      libbpf.closeFd(fd);
    }
  }

  getConfig(): ForwarderConfig {
    const v = this.m.config.lookup(u32Key(0));
    if (!v) throw new DsrError('E_BPF_MAP', 'the config map has no entry 0', {});
    return decodeConfig(v);
  }

  listServiceIds(): Array<{ key: SvcKey; id: number }> {
    const out: Array<{ key: SvcKey; id: number }> = [];
    for (const k of this.m.svc_ids.keys()) {
      const v = this.m.svc_ids.lookup(k);
      if (v) out.push({ key: decodeSvcKey(k), id: readU32(v) });
    }
    return out;
  }

  putServiceId(key: SvcKey, id: number): void {
    this.m.svc_ids.update(encodeSvcKey(key), u32Key(id));
  }

  deleteServiceId(key: SvcKey): void {
    this.m.svc_ids.delete(encodeSvcKey(key));
  }

  listServices(): Array<{ id: number; svc: SvcEntry }> {
    const out: Array<{ id: number; svc: SvcEntry }> = [];
    const size = LAYOUT.dsr_svc.size;
    this.m.services.forEachBatch((keys, values, count) => {
      for (let i = 0; i < count; i++) {
        const svc = decodeSvc(values.subarray(i * size, (i + 1) * size));
        if (svc.gen !== 0 || svc.flags !== 0) out.push({ id: readU32(keys, i * 4), svc });
      }
    });
    return out;
  }

  putService(id: number, svc: SvcEntry): void {
    this.m.services.update(u32Key(id), encodeSvc(svc));
  }

  listReals(): Array<{ id: number; real: RealEntry }> {
    const out: Array<{ id: number; real: RealEntry }> = [];
    const size = LAYOUT.dsr_real.size;
    this.m.reals.forEachBatch((keys, values, count) => {
      for (let i = 0; i < count; i++) {
        const real = decodeReal(values.subarray(i * size, (i + 1) * size));
        if (real.gen !== 0 || real.flags !== 0) out.push({ id: readU32(keys, i * 4), real });
      }
    });
    return out;
  }

  putReal(id: number, real: RealEntry): void {
    this.m.reals.update(u32Key(id), encodeReal(real));
  }

  swapMaglevTable(svcId: number, table: Uint32Array): void {
    if (table.length === 0)
      throw new DsrError('E_BPF_MAP', 'a Maglev table needs at least one slot', { svcId });
    const fd = libbpf.createMap(BPF_MAP_TYPE_ARRAY, 'dsr_maglev', 4, 4, table.length, BPF_F_INNER_MAP);
    try {
      const inner = new BpfMap('maglev_inner', fd);
      const keys = new Uint32Array(table.length);
      for (let i = 0; i < keys.length; i++) keys[i] = i;
      inner.updateBatch(
        new Uint8Array(keys.buffer),
        new Uint8Array(table.buffer, table.byteOffset, table.byteLength),
        table.length,
      );
      this.m.maglev_tables.update(u32Key(svcId), u32Key(fd));
    } finally {
      // The outer map now holds its own reference; ours is no longer needed.
      libbpf.closeFd(fd);
    }
  }

  clearMaglevTable(svcId: number): void {
    this.m.maglev_tables.delete(u32Key(svcId));
  }

  putConfig(config: ForwarderConfig): void {
    this.m.config.update(u32Key(0), encodeConfig(config));
  }

  listTxDevices(): number[] {
    return this.m.tx_devs
      .keys()
      .map((k) => readU32(k))
      .sort((a, b) => a - b);
  }

  putTxDevice(ifindex: number): void {
    this.m.tx_devs.update(u32Key(ifindex), u32Key(ifindex));
  }

  deleteTxDevice(ifindex: number): void {
    this.m.tx_devs.delete(u32Key(ifindex));
  }
}
