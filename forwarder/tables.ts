/**
 * The data-plane tables as userspace sees them: connections and persistence
 * entries, keyed and valued as in dsr_shared.h. The sync reads and writes
 * them (standby directors insert the active's entries); tools count them.
 */
import type { BpfMap } from './bpf-map.ts';
import { connTimeout } from './conn-state.ts';
import {
  type ConnEntry,
  DSR,
  decodeConn,
  decodeFlow,
  decodeFlow4,
  decodePersist,
  decodePersistKey,
  encodeConn,
  encodeFlow,
  encodeFlow4,
  encodePersist,
  encodePersistKey,
  type Flow,
  type ForwarderConfig,
  LAYOUT,
  type PersistEntry,
  type PersistKey,
} from './layout.ts';

/** Live connection entries by real id: open (SYN, established, UDP) and closing TCP apart. */
export interface FlowCountsByReal {
  open: Map<number, number>;
  closing: Map<number, number>;
}

export class FlowTables {
  private readonly conns4: BpfMap;
  private readonly conns6: BpfMap;
  private readonly persist: BpfMap;

  constructor(maps: { conns4: BpfMap; conns6: BpfMap; persist: BpfMap }) {
    this.conns4 = maps.conns4;
    this.conns6 = maps.conns6;
    this.persist = maps.persist;
  }

  /** The table and key bytes of a flow (IPv4 flows live in conns4 under a 16-byte key). */
  private connKey(flow: Flow): { map: BpfMap; key: Uint8Array } {
    return flow.family === 4
      ? { map: this.conns4, key: encodeFlow4(flow) }
      : { map: this.conns6, key: encodeFlow(flow) };
  }

  getConn(flow: Flow): ConnEntry | null {
    const { map, key } = this.connKey(flow);
    const v = map.lookup(key);
    return v ? decodeConn(v) : null;
  }

  putConn(flow: Flow, entry: ConnEntry): void {
    const { map, key } = this.connKey(flow);
    map.update(key, encodeConn(entry));
  }

  deleteConn(flow: Flow): boolean {
    const { map, key } = this.connKey(flow);
    return map.delete(key);
  }

  /** Writes many entries in batches (one syscall per batch and family). */
  putConns(entries: Iterable<[Flow, ConnEntry]>, batch = 65536): number {
    const vs = LAYOUT.dsr_conn.size;
    const cf = LAYOUT.dsr_conn.fields;
    // Buffers no larger than needed: the sync writes a datagram's worth (~60) at a time.
    const cap = Array.isArray(entries) ? Math.max(1, Math.min(batch, entries.length)) : batch;
    const make = (map: BpfMap, ks: number, encode: (f: Flow, out: Uint8Array, at: number) => Uint8Array) => {
      const values = new Uint8Array(cap * vs);
      return {
        map,
        ks,
        encode,
        keys: new Uint8Array(cap * ks),
        values,
        dv: new DataView(values.buffer),
        n: 0,
      };
    };
    type Side = ReturnType<typeof make>;
    const sides: { 4?: Side; 6?: Side } = {};
    const side = (family: 4 | 6): Side =>
      (sides[family] ??=
        family === 4
          ? make(this.conns4, LAYOUT.dsr_flow4.size, (f, out, at) =>
              encodeFlow4(f, out as Uint8Array<ArrayBuffer>, at),
            )
          : make(this.conns6, LAYOUT.dsr_flow.size, (f, out, at) =>
              encodeFlow(f, out as Uint8Array<ArrayBuffer>, at),
            ));
    let total = 0;
    const flush = (sd: Side | undefined): void => {
      if (!sd || sd.n === 0) return;
      sd.map.updateBatch(sd.keys.subarray(0, sd.n * sd.ks), sd.values.subarray(0, sd.n * vs), sd.n);
      total += sd.n;
      sd.n = 0;
    };
    for (const [flow, entry] of entries) {
      const sd = side(flow.family);
      sd.encode(flow, sd.keys, sd.n * sd.ks);
      // The value written in place (as encodeConn does, without a buffer per entry).
      const at = sd.n * vs;
      sd.values.fill(0, at, at + vs);
      sd.dv.setBigUint64(at + cf.last_seen_ns, entry.lastSeenNs, true);
      sd.dv.setBigUint64(at + cf.reported_ns, entry.reportedNs, true);
      sd.dv.setUint16(at + cf.real_id, entry.realId, true);
      sd.dv.setUint16(at + cf.real_gen, entry.realGen, true);
      sd.dv.setUint16(at + cf.svc_id, entry.svcId, true);
      sd.dv.setUint16(at + cf.svc_gen, entry.svcGen, true);
      sd.dv.setUint8(at + cf.state, entry.state);
      sd.dv.setUint16(at + cf.sync_epoch, entry.syncEpoch, true);
      if (++sd.n === cap) flush(sd);
    }
    flush(sides[4]);
    flush(sides[6]);
    return total;
  }

  forEachConn(visit: (flow: Flow, entry: ConnEntry) => void): void {
    const vs = LAYOUT.dsr_conn.size;
    const walk = (map: BpfMap, ks: number, decode: (b: Uint8Array, at: number) => Flow): void =>
      map.forEachBatch((keys, values, count) => {
        for (let i = 0; i < count; i++)
          visit(decode(keys, i * ks), decodeConn(values.subarray(i * vs, (i + 1) * vs)));
      });
    walk(this.conns4, LAYOUT.dsr_flow4.size, decodeFlow4);
    walk(this.conns6, LAYOUT.dsr_flow.size, decodeFlow);
  }

  countConns(): number {
    let n = 0;
    for (const map of [this.conns4, this.conns6]) {
      map.forEachBatch((_k, _v, count) => {
        n += count;
      });
    }
    return n;
  }

  /**
   * Deletes connection entries that the program would treat as expired (the
   * same rules, forwarder/conn-state.ts), so counts mean live flows and the
   * LRU keeps its room for them. `now` is CLOCK_MONOTONIC ns (the program's
   * clock). Returns how many went; `counts`, when given, counts those that
   * stay by real id, closing TCP flows apart from the open ones (one walk for
   * both: a table of a million is swept often). Values are read in place, no
   * object per entry.
   */
  sweepConns(cfg: ForwarderConfig, now: bigint, counts?: FlowCountsByReal): number {
    let removed = 0;
    const vs = LAYOUT.dsr_conn.size;
    const C = LAYOUT.dsr_conn.fields;
    const timeouts = [0, 1, 2, 3, 4].map((state) => Number(connTimeout(cfg, state)));
    const at = stampOf(now);
    for (const map of [this.conns4, this.conns6]) {
      const ks = map.keySize;
      const doomed: Uint8Array[] = [];
      map.forEachBatch((keys, values, count) => {
        const v = new DataView(values.buffer, values.byteOffset, values.byteLength);
        for (let i = 0; i < count; i++) {
          const o = i * vs;
          const state = values[o + C.state];
          const timeout = timeouts[state] ?? timeouts[DSR.CONN_UDP];
          if (ageNs(at, v, o + C.last_seen_ns) > timeout) doomed.push(keys.slice(i * ks, (i + 1) * ks));
          else if (counts !== undefined) {
            const real = v.getUint16(o + C.real_id, true);
            const m = state === DSR.CONN_TCP_CLOSING ? counts.closing : counts.open;
            m.set(real, (m.get(real) ?? 0) + 1);
          }
        }
      });
      removed += deleteKeys(map, doomed);
    }
    return removed;
  }

  /**
   * Deletes persistence entries older than their service's timeout (`timeoutOf(svcId)`, null =
   * gone). Returns how many went and how many stay; `keptByReal`, when given, counts those that
   * stay by real id (the clients each real server holds).
   */
  sweepPersist(
    timeoutOf: (svcId: number) => bigint | null,
    now: bigint,
    keptByReal?: Map<number, number>,
  ): { removed: number; kept: number } {
    const ks = LAYOUT.dsr_persist_key.size;
    const vs = LAYOUT.dsr_persist.size;
    const PK = LAYOUT.dsr_persist_key.fields;
    const P = LAYOUT.dsr_persist.fields;
    const at = stampOf(now);
    const timeouts = new Map<number, number | null>();
    const doomed: Uint8Array[] = [];
    let kept = 0;
    this.persist.forEachBatch((keys, values, count) => {
      const k = new DataView(keys.buffer, keys.byteOffset, keys.byteLength);
      const v = new DataView(values.buffer, values.byteOffset, values.byteLength);
      for (let i = 0; i < count; i++) {
        const svcId = k.getUint16(i * ks + PK.svc_id, true);
        let timeout = timeouts.get(svcId);
        if (timeout === undefined) {
          const t = timeoutOf(svcId);
          timeout = t === null ? null : Number(t);
          timeouts.set(svcId, timeout);
        }
        if (timeout === null || ageNs(at, v, i * vs + P.last_seen_ns) > timeout)
          doomed.push(keys.slice(i * ks, (i + 1) * ks));
        else {
          kept++;
          if (keptByReal !== undefined) {
            const real = v.getUint16(i * vs + P.real_id, true);
            keptByReal.set(real, (keptByReal.get(real) ?? 0) + 1);
          }
        }
      }
    });
    return { removed: deleteKeys(this.persist, doomed), kept };
  }

  getPersist(key: PersistKey): PersistEntry | null {
    const v = this.persist.lookup(encodePersistKey(key));
    return v ? decodePersist(v) : null;
  }

  putPersist(key: PersistKey, entry: PersistEntry): void {
    this.persist.update(encodePersistKey(key), encodePersist(entry));
  }

  /** Writes many persistence entries in one syscall. */
  putPersists(entries: readonly [PersistKey, PersistEntry][]): void {
    if (entries.length === 0) return;
    const ks = LAYOUT.dsr_persist_key.size;
    const vs = LAYOUT.dsr_persist.size;
    const keys = new Uint8Array(entries.length * ks);
    const values = new Uint8Array(entries.length * vs);
    entries.forEach(([k, v], i) => {
      keys.set(encodePersistKey(k), i * ks);
      values.set(encodePersist(v), i * vs);
    });
    this.persist.updateBatch(keys, values, entries.length);
  }

  deletePersist(key: PersistKey): boolean {
    return this.persist.delete(encodePersistKey(key));
  }

  forEachPersist(visit: (key: PersistKey, entry: PersistEntry) => void): void {
    const ks = LAYOUT.dsr_persist_key.size;
    const vs = LAYOUT.dsr_persist.size;
    this.persist.forEachBatch((keys, values, count) => {
      for (let i = 0; i < count; i++) {
        visit(
          decodePersistKey(keys.subarray(i * ks, (i + 1) * ks)),
          decodePersist(values.subarray(i * vs, (i + 1) * vs)),
        );
      }
    });
  }
}

/** A CLOCK_MONOTONIC stamp as two u32 halves. */
function stampOf(ns: bigint): { hi: number; lo: number } {
  const u = BigInt.asUintN(64, ns);
  return { hi: Number(u >> 32n), lo: Number(u & 0xffffffffn) };
}

/**
 * `now` minus the u64 stamp at `at` (little-endian), in ns, negative for a stamp ahead of `now` (a
 * synced entry's margin): isExpired's signed difference in Number arithmetic, exact while it is
 * under 2^53 ns (104 days), which covers every stamp the program or the sync writes.
 */
function ageNs(now: { hi: number; lo: number }, v: DataView, at: number): number {
  return (now.hi - v.getUint32(at + 4, true)) * 4294967296 + (now.lo - v.getUint32(at, true));
}

function deleteKeys(map: BpfMap, keys: Uint8Array[]): number {
  let removed = 0;
  const batch = 4096;
  for (let at = 0; at < keys.length; at += batch) {
    const part = keys.slice(at, at + batch);
    const packed = new Uint8Array(part.length * map.keySize);
    part.forEach((k, i) => {
      packed.set(k, i * map.keySize);
    });
    removed += map.deleteBatch(packed, part.length);
  }
  return removed;
}
