/**
 * What the sync carries: connection-table entries, persistence entries and
 * connection deletions, in a compact binary form (IPVS sync v1 spends ~36 B
 * per IPv4 connection; ours is 24 B).
 *
 * Entries carry their *remaining lifetime*, never absolute times: directors'
 * clocks differ, and the receiver turns the lifetime into its own clock.
 * Real servers are named by address, not by table index, so a receiver whose
 * index assignment differs still points the flow at the same server.
 *
 *  off size  field
 *    0  1    kind (1 conn, 2 persist, 3 conn-delete) | 0x80 when addresses are IPv6
 *    1  1    IP protocol (6 TCP, 17 UDP)
 *    2  1    TCP state flags as the forwarder keeps them (conn only, else 0)
 *    3  1    reserved, 0
 *    4  2    client port (persist: 0)
 *    6  2    service port
 *    8  4    remaining lifetime, ms (conn-delete: 0)
 *   12  A    client address (persist: client address masked by the service netmask)
 *  12+A A    VIP
 *  12+2A A   real server address (not present in conn-delete)
 * A = 4 (IPv4) or 16 (IPv6).
 */
import { DsrError } from '../core/errors.ts';

export type SyncEntryKind = 'conn' | 'persist' | 'conn-delete';

export interface SyncEntry {
  kind: SyncEntryKind;
  /** 6 TCP, 17 UDP */
  proto: number;
  /** Address bytes, 4 or 16, the same family for all three. */
  client: Uint8Array;
  clientPort: number;
  vip: Uint8Array;
  vport: number;
  /** Absent for conn-delete. */
  realServer?: Uint8Array;
  tcpState: number;
  lifetimeMs: number;
}

/** The entry format's codes, for code that writes entries field by field (sync/bpf-table.ts). */
export const ENTRY = { CONN: 1, PERSIST: 2, DELETE: 3, V6: 0x80, FIXED: 12 } as const;

const KIND_CODE: Record<SyncEntryKind, number> = { conn: 1, persist: 2, 'conn-delete': 3 };
const KIND_BY_CODE = new Map<number, SyncEntryKind>([
  [1, 'conn'],
  [2, 'persist'],
  [3, 'conn-delete'],
]);
const V6_FLAG = 0x80;
const FIXED = 12;

export function entrySize(e: SyncEntry): number {
  const a = e.client.length;
  return FIXED + a * (e.kind === 'conn-delete' ? 2 : 3);
}

/** The identity of an entry: later entries with the same key replace earlier ones. */
export function entryKey(e: SyncEntry): string {
  const k = e.kind === 'conn-delete' ? 'conn' : e.kind;
  return `${k}/${e.proto}/${Buffer.from(e.client).toString('hex')}/${e.clientPort}/${Buffer.from(e.vip).toString('hex')}/${e.vport}`;
}

function valid(e: SyncEntry): string | undefined {
  const a = e.client.length;
  if (a !== 4 && a !== 16) return 'client address must be 4 or 16 bytes';
  if (e.vip.length !== a) return 'VIP family differs from client family';
  if (e.kind !== 'conn-delete' && e.realServer?.length !== a)
    return 'real server family differs or is missing';
  if (!Number.isInteger(e.proto) || e.proto < 0 || e.proto > 255) return 'proto out of range';
  if (!Number.isInteger(e.clientPort) || e.clientPort < 0 || e.clientPort > 0xffff)
    return 'client port out of range';
  if (!Number.isInteger(e.vport) || e.vport < 0 || e.vport > 0xffff) return 'service port out of range';
  if (!Number.isInteger(e.tcpState) || e.tcpState < 0 || e.tcpState > 255) return 'tcp state out of range';
  if (!Number.isInteger(e.lifetimeMs) || e.lifetimeMs < 0 || e.lifetimeMs > 0xffffffff)
    return 'lifetime out of range';
  return undefined;
}

/** Writes `e` at `off` in `buf`; returns the offset after it. Refuses entries the decoder would drop. */
export function writeEntry(buf: Buffer, off: number, e: SyncEntry): number {
  const problem = valid(e);
  if (problem) throw new DsrError('E_DECODE', `cannot encode sync entry: ${problem}`, { kind: e.kind });
  const a = e.client.length;
  buf[off] = KIND_CODE[e.kind] | (a === 16 ? V6_FLAG : 0);
  buf[off + 1] = e.proto;
  buf[off + 2] = e.kind === 'conn' ? e.tcpState : 0;
  buf[off + 3] = 0;
  buf.writeUInt16BE(e.kind === 'persist' ? 0 : e.clientPort, off + 4);
  buf.writeUInt16BE(e.vport, off + 6);
  buf.writeUInt32BE(e.kind === 'conn-delete' ? 0 : e.lifetimeMs, off + 8);
  buf.set(e.client, off + FIXED);
  buf.set(e.vip, off + FIXED + a);
  if (e.kind !== 'conn-delete') buf.set(e.realServer!, off + FIXED + 2 * a);
  return off + entrySize(e);
}

export type EntryDecode = { ok: true; entries: SyncEntry[] } | { ok: false; reason: string };

/** Bytes of the entry that starts at buf[off], from its first byte; 0 when that byte names no kind. */
export function entrySizeAt(buf: Uint8Array, off: number): number {
  const kind = KIND_BY_CODE.get(buf[off] & ~V6_FLAG);
  if (kind === undefined) return 0;
  return FIXED + (buf[off] & V6_FLAG ? 16 : 4) * (kind === 'conn-delete' ? 2 : 3);
}

export type EntryCheck = { ok: true; count: number } | { ok: false; reason: string };

/**
 * Checks that whole, well-formed entries fill `buf[start, end)` exactly, without decoding them:
 * what a DATA message carries is checked once on receipt and decoded only where it is applied.
 */
export function checkEntries(buf: Uint8Array, start: number, end: number, max = 4096): EntryCheck {
  let count = 0;
  for (let off = start; off < end; count++) {
    if (end - off < FIXED) return { ok: false, reason: 'truncated entry' };
    const size = entrySizeAt(buf, off);
    if (size === 0) return { ok: false, reason: 'unknown entry kind' };
    if (buf[off + 3] !== 0) return { ok: false, reason: 'reserved entry byte set' };
    if (end - off < size) return { ok: false, reason: 'truncated entry' };
    if (count >= max) return { ok: false, reason: 'too many entries' };
    off += size;
  }
  return { ok: true, count };
}

/** Decodes a run of entries filling `buf[start, end)` exactly; any malformation rejects the whole run. */
export function readEntries(buf: Buffer, start: number, end: number, max = 4096): EntryDecode {
  const check = checkEntries(buf, start, end, max);
  if (!check.ok) return check;
  const entries: SyncEntry[] = [];
  for (let off = start; off < end; ) {
    const size = entrySizeAt(buf, off);
    const kind = KIND_BY_CODE.get(buf[off] & ~V6_FLAG) as SyncEntryKind;
    const a = buf[off] & V6_FLAG ? 16 : 4;
    const p = off + FIXED;
    entries.push({
      kind,
      proto: buf[off + 1],
      tcpState: buf[off + 2],
      clientPort: buf.readUInt16BE(off + 4),
      vport: buf.readUInt16BE(off + 6),
      lifetimeMs: buf.readUInt32BE(off + 8),
      // Views into the datagram, not copies (Node hands each datagram its own buffer): three copies
      // per entry showed in the standby's profile at 100k flows/s.
      client: buf.subarray(p, p + a),
      vip: buf.subarray(p + a, p + 2 * a),
      realServer: kind === 'conn-delete' ? undefined : buf.subarray(p + 2 * a, p + 3 * a),
    });
    off += size;
  }
  return { ok: true, entries };
}

/** Encodes entries back to back into a buffer of exactly their size. */
export function packEntries(entries: readonly SyncEntry[]): Buffer {
  const out = Buffer.alloc(entries.reduce((n, e) => n + entrySize(e), 0));
  let off = 0;
  for (const e of entries) off = writeEntry(out, off, e);
  return out;
}

/**
 * A buffer that entries are encoded into one after another, handed on in pieces of whole entries
 * (`take`): how live updates and bulk chunks are built without an object per entry in flight.
 */
export class EntryPacker {
  #buf: Buffer;
  #used = 0;
  count = 0;

  constructor(capacity = 64 * 1024) {
    this.#buf = Buffer.alloc(capacity);
  }

  get bytes(): number {
    return this.#used;
  }

  add(e: SyncEntry): void {
    const at = this.reserve(entrySize(e));
    writeEntry(this.#buf, at, e);
  }

  /**
   * Room for one entry of `size` bytes, written by the caller at the returned offset of `buffer`
   * (which may be a new buffer after the call: read it afterwards).
   */
  reserve(size: number): number {
    if (this.#used + size > this.#buf.length) {
      const bigger = Buffer.alloc(Math.max(this.#buf.length * 2, this.#used + size));
      this.#buf.copy(bigger, 0, 0, this.#used);
      this.#buf = bigger;
    }
    const at = this.#used;
    this.#used += size;
    this.count++;
    return at;
  }

  get buffer(): Buffer {
    return this.#buf;
  }

  /** Everything added since the last take, as its own buffer; the packer starts empty again. */
  take(): Buffer {
    const out = Buffer.from(this.#buf.subarray(0, this.#used));
    this.#used = 0;
    this.count = 0;
    return out;
  }
}
