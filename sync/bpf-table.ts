/**
 * The forwarder's tables as the sync sees them (LocalTables over the pinned BPF maps), used on the
 * sync's own thread:
 * - what the forwarder reports (its ring buffer) becomes live sync entries;
 * - a bulk answer and the refresh walk read the tables in batches, never all at once;
 * - entries from peers are written in batches, stamped with the sync epoch, and given `marginMs`
 *   more to live than they had on the peer (sync/README.md, "Refresh"); a sweep after a bulk
 *   removes, a batch at a time, the peer's entries that the bulk did not renew.
 *
 * Sync entries name real servers by address and carry remaining lifetimes (entries.ts); the maps
 * hold ids and last-seen stamps. Both conversions go through the directory of ids in force here,
 * so a received entry expires here when it would have on the sender. The wire format wants one
 * address family per entry: an IPv4 real server of an IPv6 service travels v4-mapped
 * (::ffff:a.b.c.d, RFC 4291 section 2.5.5.2).
 */
import { BatchCursor, type BpfMap } from '../forwarder/bpf-map.ts';
import type { Directory } from '../forwarder/directory.ts';
import { DSR, LAYOUT } from '../forwarder/layout.ts';
import { EventRing } from '../forwarder/ringbuf.ts';
import { EntryWriter } from './bpf-writer.ts';
import { ENTRY, EntryPacker } from './entries.ts';
import type { BulkSource } from './sender.ts';
import type { LocalTables, Packed } from './table.ts';
import { VipSet } from './vip-set.ts';

const MS = 1_000_000n;
/** Entries read per syscall by a walk. */
const WALK_BATCH = 1024;
const C = LAYOUT.dsr_conn.fields;
const P = LAYOUT.dsr_persist.fields;
const PK = LAYOUT.dsr_persist_key.fields;
const F4 = LAYOUT.dsr_flow4.fields;
const F6 = LAYOUT.dsr_flow.fields;
const EV = LAYOUT.dsr_event.fields;
const NO_VIPS = new VipSet();

export interface BpfTablesOptions {
  maps: { conns4: BpfMap; conns6: BpfMap; persist: BpfMap };
  /** The forwarder's event ring; null when no program reports here. */
  events: BpfMap | null;
  /** The ids in force (updated after every reconcile). */
  directory: () => Directory;
  /** The VIPs of the groups we master: their entries are refreshed by us and never swept. */
  ours: () => VipSet;
  /** Extra lifetime given to entries written from a peer: twice the peers' refresh period. */
  marginMs: number;
  /** CLOCK_MONOTONIC ns, the program's clock. */
  now?: () => bigint;
}

/** The wire bytes of a real server for a flow of `family` (v4-mapped for IPv4 in IPv6). */
function wireReal(family: 4 | 6, real: { family: 4 | 6; addr: Uint8Array }): Uint8Array {
  if (family === 4) return real.addr.subarray(0, 4);
  if (real.family === 6) return real.addr;
  const mapped = new Uint8Array(16);
  mapped[10] = 0xff;
  mapped[11] = 0xff;
  mapped.set(real.addr.subarray(0, 4), 12);
  return mapped;
}

function remainingMs(now: bigint, lastSeen: bigint, timeout: bigint): number {
  const left = timeout - BigInt.asIntN(64, now - lastSeen);
  if (left <= 0n) return 0;
  const ms = left / MS;
  return ms > 0xffffffffn ? 0xffffffff : Number(ms);
}

/** One walk over the three tables in turn. */
class TableWalk {
  readonly #cursors: BatchCursor[];
  #at = 0;

  constructor(maps: BpfTablesOptions['maps']) {
    this.#cursors = [maps.conns4, maps.conns6, maps.persist].map((m) => new BatchCursor(m, WALK_BATCH));
  }

  get done(): boolean {
    return this.#at >= this.#cursors.length;
  }

  /** The next batch and which table it came from (0 conns4, 1 conns6, 2 persist), or null at the end. */
  next(): { table: 0 | 1 | 2; keys: Uint8Array; values: Uint8Array; count: number } | null {
    while (this.#at < this.#cursors.length) {
      const b = this.#cursors[this.#at].next();
      if (b !== null) return { table: this.#at as 0 | 1 | 2, ...b };
      this.#at++;
    }
    return null;
  }
}

interface SweepJob {
  epoch: number;
  walk: TableWalk;
}

export class BpfTables implements LocalTables {
  readonly #o: BpfTablesOptions;
  readonly #maps: BpfTablesOptions['maps'];
  readonly #now: () => bigint;
  readonly #events: EventRing | null;
  readonly #changes = new EntryPacker();
  #refresh: TableWalk | null = null;
  #sweep: SweepJob | null = null;
  readonly #writer: EntryWriter;
  readonly #counters = { swept: 0, events: 0, eventsUnknown: 0 };

  constructor(o: BpfTablesOptions) {
    this.#o = o;
    this.#maps = o.maps;
    this.#writer = new EntryWriter(o.maps);
    this.#now = o.now ?? (() => process.hrtime.bigint());
    this.#events = o.events === null ? null : new EventRing(o.events.fd, o.events.maxEntries);
  }

  close(): void {
    this.#events?.close();
  }

  /** Peers' entries this director could not place, entries swept, events read and those it could not name. */
  get counters(): { unknown: number; swept: number; events: number; eventsUnknown: number } {
    return { unknown: this.#writer.unknown, ...this.#counters };
  }

  // ---- what the forwarder reports ----

  changes(): Packed {
    if (this.#events !== null) {
      const dir = this.#o.directory();
      let bytes: Uint8Array | undefined;
      this.#events.drain((data, at, size) => {
        bytes ??= new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
        this.#event(dir, data, bytes, at, size);
      });
    }
    const count = this.#changes.count;
    return { entries: this.#changes.take(), count };
  }

  /**
   * One of the program's events, encoded as a sync entry straight from the ring (entries.ts
   * layout): no object per event, as there may be hundreds of thousands a second.
   */
  #event(dir: Directory, data: DataView, bytes: Uint8Array, at: number, size: number): void {
    this.#counters.events++;
    if (size < LAYOUT.dsr_event.size) {
      this.#counters.eventsUnknown++;
      return;
    }
    const real = dir.real(data.getUint16(at + EV.real_id, true));
    const type = data.getUint8(at + EV.type);
    const persist = type === DSR.EV_NEW_PERSIST;
    const svc = persist ? dir.service(data.getUint16(at + EV.svc_id, true)) : undefined;
    if (real === undefined || (persist && svc === undefined)) {
      this.#counters.eventsUnknown++;
      return;
    }
    const flow = at + EV.flow;
    const v4 = data.getUint8(flow + F6.family) === DSR.AF_INET;
    const a = v4 ? 4 : 16;
    const state = data.getUint8(at + EV.state);
    const lifetime = remainingMs(0n, 0n, persist ? svc!.persistTimeoutNs : dir.connTimeoutNs(state));
    const out = this.#changes;
    const e = out.reserve(ENTRY.FIXED + 3 * a);
    const buf = out.buffer;
    buf[e] = (persist ? ENTRY.PERSIST : ENTRY.CONN) | (v4 ? 0 : ENTRY.V6);
    buf[e + 1] = data.getUint8(flow + F6.proto);
    buf[e + 2] = persist ? 0 : state;
    buf[e + 3] = 0;
    buf.writeUInt16BE(persist ? 0 : data.getUint16(flow + F6.sport, false), e + 4);
    buf.writeUInt16BE(persist ? svc!.key.port : data.getUint16(flow + F6.dport, false), e + 6);
    buf.writeUInt32BE(lifetime, e + 8);
    const src = flow + F6.src;
    const dst = flow + F6.dst;
    const rs = wireReal(v4 ? 4 : 6, real);
    for (let i = 0; i < a; i++) {
      buf[e + ENTRY.FIXED + i] = bytes[src + i];
      buf[e + ENTRY.FIXED + a + i] = bytes[dst + i];
      buf[e + ENTRY.FIXED + 2 * a + i] = rs[i];
    }
  }

  // ---- reading the tables ----

  /** Turns one batch of a walk into sync entries (live ones only; `onlyOurs`: of our VIPs only). */
  #pack(
    b: { table: 0 | 1 | 2; keys: Uint8Array; values: Uint8Array; count: number },
    out: EntryPacker,
    onlyOurs: boolean,
  ): void {
    const dir = this.#o.directory();
    const ours = this.#o.ours();
    const now = this.#now();
    const kv = new DataView(b.keys.buffer, b.keys.byteOffset, b.keys.byteLength);
    const vv = new DataView(b.values.buffer, b.values.byteOffset, b.values.byteLength);
    if (b.table === 2) {
      const ks = LAYOUT.dsr_persist_key.size;
      const vs = LAYOUT.dsr_persist.size;
      for (let i = 0; i < b.count; i++) {
        const k = i * ks;
        const v = i * vs;
        const svc = dir.service(kv.getUint16(k + PK.svc_id, true));
        const real = dir.real(vv.getUint16(v + P.real_id, true));
        if (svc === undefined || real === undefined || real.gen !== vv.getUint16(v + P.real_gen, true))
          continue;
        if (svc.gen !== vv.getUint16(v + P.svc_gen, true)) continue;
        const family = b.keys[k + PK.family] === 4 ? 4 : 6;
        const a = family === 4 ? 4 : 16;
        const vip = svc.key.vip.subarray(0, a);
        if (onlyOurs && !ours.has(vip)) continue;
        const left = remainingMs(now, vv.getBigUint64(v + P.last_seen_ns, true), svc.persistTimeoutNs);
        if (left === 0) continue;
        out.add({
          kind: 'persist',
          proto: svc.key.proto,
          client: b.keys.subarray(k, k + a),
          clientPort: 0,
          vip,
          vport: svc.key.port,
          realServer: wireReal(family, real),
          tcpState: 0,
          lifetimeMs: left,
        });
      }
      return;
    }
    const v4 = b.table === 0;
    const ks = v4 ? LAYOUT.dsr_flow4.size : LAYOUT.dsr_flow.size;
    const vs = LAYOUT.dsr_conn.size;
    const a = v4 ? 4 : 16;
    for (let i = 0; i < b.count; i++) {
      const k = i * ks;
      const v = i * vs;
      const real = dir.real(vv.getUint16(v + C.real_id, true));
      if (real === undefined || real.gen !== vv.getUint16(v + C.real_gen, true)) continue;
      const state = b.values[v + C.state];
      const left = remainingMs(now, vv.getBigUint64(v + C.last_seen_ns, true), dir.connTimeoutNs(state));
      if (left === 0) continue;
      const vip = b.keys.subarray(k + (v4 ? F4.dst : F6.dst), k + (v4 ? F4.dst : F6.dst) + a);
      if (onlyOurs && !ours.has(vip)) continue;
      out.add({
        kind: 'conn',
        proto: b.keys[k + (v4 ? F4.proto : F6.proto)],
        client: b.keys.subarray(k, k + a),
        clientPort: kv.getUint16(k + (v4 ? F4.sport : F6.sport), false),
        vip,
        vport: kv.getUint16(k + (v4 ? F4.dport : F6.dport), false),
        realServer: wireReal(v4 ? 4 : 6, real),
        tcpState: state,
        lifetimeMs: left,
      });
    }
  }

  openBulk(): BulkSource {
    let walk: TableWalk | null = new TableWalk(this.#maps);
    return {
      next: () => {
        const out = new EntryPacker();
        while (walk !== null && out.count === 0) {
          const b = walk.next();
          if (b === null) return null;
          this.#pack(b, out, false);
        }
        return walk === null ? null : out.take();
      },
      close: () => {
        walk = null;
      },
    };
  }

  /** Reads about `max` entries of the walk (sending only ours): the pace is in entries read. */
  refresh(max: number): Packed & { passDone: boolean; read: number } {
    const out = new EntryPacker();
    if (this.#o.ours().size === 0) {
      this.#refresh = null; // nothing of ours to refresh: no walk at all
      return { entries: out.take(), count: 0, passDone: true, read: 0 };
    }
    this.#refresh ??= new TableWalk(this.#maps);
    let read = 0;
    while (read < max) {
      const b = this.#refresh.next();
      if (b === null) {
        this.#refresh = null;
        const count = out.count;
        return { entries: out.take(), count, passDone: true, read };
      }
      read += b.count;
      this.#pack(b, out, true);
    }
    const count = out.count;
    return { entries: out.take(), count, passDone: false, read };
  }

  // ---- writing what peers send ----

  write(entries: Buffer, epoch: number, fromBulk: boolean): void {
    this.#writer.write(entries, {
      dir: this.#o.directory(),
      skip: fromBulk ? this.#o.ours() : NO_VIPS,
      epoch,
      marginMs: this.#o.marginMs,
      now: this.#now(),
    });
  }

  sweep(epoch: number): void {
    this.#sweep = { epoch, walk: new TableWalk(this.#maps) };
  }

  /** Whether a sweep is under way. */
  get sweeping(): boolean {
    return this.#sweep !== null;
  }

  /**
   * Continues a sweep by up to `batches` table batches: entries of peers' VIPs (not ours) stamped
   * with another epoch than the last bulk's are gone on the peer, and go here too.
   */
  work(batches = 4): void {
    const job = this.#sweep;
    if (job === null) return;
    const dir = this.#o.directory();
    const ours = this.#o.ours();
    for (let n = 0; n < batches; n++) {
      const b = job.walk.next();
      if (b === null) {
        this.#sweep = null;
        return;
      }
      const map = b.table === 0 ? this.#maps.conns4 : b.table === 1 ? this.#maps.conns6 : this.#maps.persist;
      const ks = map.keySize;
      const vs = map.valueSize;
      const vv = new DataView(b.values.buffer, b.values.byteOffset, b.values.byteLength);
      const kv = new DataView(b.keys.buffer, b.keys.byteOffset, b.keys.byteLength);
      const doomed: Uint8Array[] = [];
      for (let i = 0; i < b.count; i++) {
        if (vv.getUint16(i * vs + (b.table === 2 ? P.sync_epoch : C.sync_epoch), true) === job.epoch)
          continue;
        const k = i * ks;
        let vip: Uint8Array | undefined;
        if (b.table === 0) vip = b.keys.subarray(k + F4.dst, k + F4.dst + 4);
        else if (b.table === 1) vip = b.keys.subarray(k + F6.dst, k + F6.dst + 16);
        else {
          // A persistence entry names its service; one gone from the config is stale here anyway.
          const svc = dir.service(kv.getUint16(k + PK.svc_id, true));
          vip = svc?.key.vip.subarray(0, b.keys[k + PK.family] === 4 ? 4 : 16);
        }
        if (vip !== undefined && ours.has(vip)) continue;
        doomed.push(b.keys.slice(k, k + ks));
      }
      if (doomed.length > 0) {
        const packed = new Uint8Array(doomed.length * ks);
        doomed.forEach((k, i) => {
          packed.set(k, i * ks);
        });
        this.#counters.swept += map.deleteBatch(packed, doomed.length);
      }
    }
  }
}
