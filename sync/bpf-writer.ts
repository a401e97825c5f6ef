/**
 * Peers' entries into the forwarder's maps, straight from the bytes they travelled in (entries.ts)
 * into batches of map keys and values (dsr_shared.h layouts): one batched syscall per table and
 * datagram, and no object per entry: a standby writes hundreds of thousands of entries a second
 * during a bulk or under a busy active.
 *
 * An entry names its service by VIP, port and protocol and its real server by address; they are
 * looked up in the directory of ids in force here, reusing the last lookup while the next entry
 * names the same (a datagram's entries mostly share a service and a few real servers). An entry
 * this director cannot place (a service or real server it does not have: config drift) is counted.
 */
import type { BpfMap } from '../forwarder/bpf-map.ts';
import type { Directory, DirectoryReal, DirectoryService } from '../forwarder/directory.ts';
import { DSR, LAYOUT } from '../forwarder/layout.ts';
import { ENTRY, entrySizeAt } from './entries.ts';
import type { VipSet } from './vip-set.ts';

const MS = 1_000_000n;
const C = LAYOUT.dsr_conn.fields;
const P = LAYOUT.dsr_persist.fields;
const PK = LAYOUT.dsr_persist_key.fields;
const F4 = LAYOUT.dsr_flow4.fields;
const F6 = LAYOUT.dsr_flow.fields;

/** Keys and values of one map, packed back to back for one batched update. */
class Batch {
  readonly map: BpfMap;
  keys: Uint8Array;
  values: Uint8Array;
  kv: DataView;
  vv: DataView;
  n = 0;

  constructor(map: BpfMap, capacity: number) {
    this.map = map;
    this.keys = new Uint8Array(capacity * map.keySize);
    this.values = new Uint8Array(capacity * map.valueSize);
    this.kv = new DataView(this.keys.buffer);
    this.vv = new DataView(this.values.buffer);
  }

  /** Room for one more entry (zeroed): its index; its key is at index × key size, its value likewise. */
  next(): number {
    const ks = this.map.keySize;
    const vs = this.map.valueSize;
    if ((this.n + 1) * ks > this.keys.length) {
      const keys = new Uint8Array(this.keys.length * 2);
      keys.set(this.keys);
      const values = new Uint8Array(this.values.length * 2);
      values.set(this.values);
      this.keys = keys;
      this.values = values;
      this.kv = new DataView(keys.buffer);
      this.vv = new DataView(values.buffer);
    }
    const i = this.n++;
    this.keys.fill(0, i * ks, (i + 1) * ks);
    this.values.fill(0, i * vs, (i + 1) * vs);
    return i;
  }

  flush(): void {
    if (this.n === 0) return;
    this.map.updateBatch(
      this.keys.subarray(0, this.n * this.map.keySize),
      this.values.subarray(0, this.n * this.map.valueSize),
      this.n,
    );
    this.n = 0;
  }
}

const sameBytes = (a: Uint8Array, x: number, b: Uint8Array, y: number, len: number): boolean => {
  for (let i = 0; i < len; i++) if (a[x + i] !== b[y + i]) return false;
  return true;
};

const copy = (from: Uint8Array, x: number, to: Uint8Array, y: number, len: number): void => {
  for (let i = 0; i < len; i++) to[y + i] = from[x + i];
};

const TWO32 = 2 ** 32;

/**
 * A u64 stamp `base` + `ns` written as two u32 halves: Number arithmetic, exact below 2^53, in place
 * of a BigInt per entry (`ns` is a lifetime: under 2^53 ns, about 104 days).
 */
function putStamp(view: DataView, at: number, base: { hi: number; lo: number }, ns: number): void {
  const lo = base.lo + (ns % TWO32);
  const hi = base.hi + Math.floor(ns / TWO32) + Math.floor(lo / TWO32);
  view.setUint32(at, lo % TWO32, true);
  view.setUint32(at + 4, hi % TWO32, true);
}

const halves = (v: bigint): { hi: number; lo: number } => {
  const u = BigInt.asUintN(64, v);
  return { hi: Number(u >> 32n), lo: Number(u & 0xffffffffn) };
};

export class EntryWriter {
  readonly #conns4: Batch;
  readonly #conns6: Batch;
  readonly #persist: Batch;
  /** Peers' entries naming a service or real server this director does not have. */
  unknown = 0;

  constructor(maps: { conns4: BpfMap; conns6: BpfMap; persist: BpfMap }) {
    this.#conns4 = new Batch(maps.conns4, 128);
    this.#conns6 = new Batch(maps.conns6, 128);
    this.#persist = new Batch(maps.persist, 32);
  }

  /**
   * Writes the entries of `buf` (whole entries back to back), in order: connections and persistence
   * entries created or replaced with `marginMs` more to live than they had, stamped with `epoch`;
   * conn-deletes removed. Entries of a VIP in `skip` are left out (table.ts says when).
   */
  write(
    buf: Buffer,
    o: { dir: Directory; skip: VipSet; epoch: number; marginMs: number; now: bigint },
  ): void {
    const margin = BigInt(o.marginMs) * MS;
    // last-seen = now - timeout + margin + lifetime (it may lie ahead of now), per state.
    const base = [0, 1, 2, 3, 4].map((state) =>
      halves(o.now - (state === 0 ? 0n : o.dir.connTimeoutNs(state)) + margin),
    );
    const now = halves(o.now);
    let svc: DirectoryService | undefined;
    let real: DirectoryReal | undefined;
    let last = -1;
    for (let at = 0; at < buf.length; at += entrySizeAt(buf, at)) {
      const kind = buf[at] & ~ENTRY.V6;
      const a = buf[at] & ENTRY.V6 ? 16 : 4;
      const client = at + ENTRY.FIXED;
      const vip = client + a;
      if (o.skip.hasAt(buf, vip, a)) continue;
      if (kind === ENTRY.DELETE) {
        this.#flushAll();
        this.#delete(buf, at, a);
        continue;
      }
      const rs = vip + a;
      const sameService =
        last >= 0 &&
        (buf[last] & ENTRY.V6) === (buf[at] & ENTRY.V6) &&
        buf[last + 1] === buf[at + 1] &&
        sameBytes(buf, last + 6, buf, at + 6, 2) &&
        sameBytes(buf, last + ENTRY.FIXED + a, buf, vip, a);
      if (!sameService)
        svc = o.dir.serviceFor(buf.subarray(vip, vip + a), buf.readUInt16BE(at + 6), buf[at + 1]);
      if (!sameService || !sameBytes(buf, last + ENTRY.FIXED + 2 * a, buf, rs, a)) {
        real = svc === undefined ? undefined : o.dir.realIn(svc.id, realAddress(buf.subarray(rs, rs + a)));
      }
      last = at;
      if (svc === undefined || real === undefined) {
        this.unknown++;
        continue;
      }
      const lifetimeNs = buf.readUInt32BE(at + 8) * 1e6;
      if (kind === ENTRY.PERSIST) {
        if (!(svc.flags & DSR.SVC_F_PERSIST)) {
          this.unknown++;
          continue;
        }
        const b = this.#persist;
        const n = b.next();
        const k = n * b.map.keySize;
        const v = n * b.map.valueSize;
        for (let i = 0; i < a; i++) b.keys[k + PK.client + i] = buf[client + i] & svc.mask[i];
        b.kv.setUint16(k + PK.svc_id, svc.id, true);
        b.keys[k + PK.family] = a === 4 ? 4 : 6;
        putStamp(b.vv, v + P.last_seen_ns, halves(o.now - svc.persistTimeoutNs + margin), lifetimeNs);
        b.vv.setUint16(v + P.real_id, real.id, true);
        b.vv.setUint16(v + P.real_gen, real.gen, true);
        b.vv.setUint16(v + P.svc_gen, svc.gen, true);
        b.vv.setUint16(v + P.sync_epoch, o.epoch, true);
        if (b.n >= 1024) b.flush();
        continue;
      }
      const state = validState(buf[at + 2], buf[at + 1]);
      const b = a === 4 ? this.#conns4 : this.#conns6;
      const n = b.next();
      const k = n * b.map.keySize;
      const v = n * b.map.valueSize;
      // Ports travel big-endian, as the key holds them: copied as bytes.
      if (a === 4) {
        copy(buf, client, b.keys, k + F4.src, 4);
        copy(buf, vip, b.keys, k + F4.dst, 4);
        copy(buf, at + 4, b.keys, k + F4.sport, 2);
        copy(buf, at + 6, b.keys, k + F4.dport, 2);
        b.keys[k + F4.proto] = buf[at + 1];
      } else {
        copy(buf, client, b.keys, k + F6.src, 16);
        copy(buf, vip, b.keys, k + F6.dst, 16);
        copy(buf, at + 4, b.keys, k + F6.sport, 2);
        copy(buf, at + 6, b.keys, k + F6.dport, 2);
        b.keys[k + F6.proto] = buf[at + 1];
        b.keys[k + F6.family] = 6;
      }
      putStamp(b.vv, v + C.last_seen_ns, base[state], lifetimeNs);
      putStamp(b.vv, v + C.reported_ns, now, 0);
      b.vv.setUint16(v + C.real_id, real.id, true);
      b.vv.setUint16(v + C.real_gen, real.gen, true);
      b.vv.setUint16(v + C.svc_id, svc.id, true);
      b.vv.setUint16(v + C.svc_gen, svc.gen, true);
      b.values[v + C.state] = state;
      b.vv.setUint16(v + C.sync_epoch, o.epoch, true);
      if (b.n >= 4096) b.flush();
    }
    this.#flushAll();
  }

  #flushAll(): void {
    this.#conns4.flush();
    this.#conns6.flush();
    this.#persist.flush();
  }

  #delete(buf: Buffer, at: number, a: number): void {
    const b = a === 4 ? this.#conns4 : this.#conns6;
    const key = new Uint8Array(b.map.keySize);
    const kv = new DataView(key.buffer);
    const client = at + ENTRY.FIXED;
    key.set(buf.subarray(client, client + a), a === 4 ? F4.src : F6.src);
    key.set(buf.subarray(client + a, client + 2 * a), a === 4 ? F4.dst : F6.dst);
    kv.setUint16(a === 4 ? F4.sport : F6.sport, buf.readUInt16BE(at + 4), false);
    kv.setUint16(a === 4 ? F4.dport : F6.dport, buf.readUInt16BE(at + 6), false);
    key[a === 4 ? F4.proto : F6.proto] = buf[at + 1];
    if (a === 16) key[F6.family] = 6;
    b.map.delete(key);
  }
}

/** The real server's own address from wire bytes (v4-mapped IPv6 back to IPv4, RFC 4291 §2.5.5.2). */
export function realAddress(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 4) return bytes;
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  return mapped ? bytes.subarray(12, 16) : bytes;
}

function validState(state: number, proto: number): number {
  if (state >= DSR.CONN_TCP_SYN && state <= DSR.CONN_UDP) return state;
  return proto === 6 ? DSR.CONN_TCP_EST : DSR.CONN_UDP;
}
