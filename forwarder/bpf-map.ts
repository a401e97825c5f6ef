/**
 * One BPF map by fd: raw byte keys and values, errors as DsrError E_BPF_MAP.
 * Per-CPU maps hold one value slot per possible CPU (valueSize rounded up to
 * 8 bytes each), which lookups return side by side.
 */
import { DsrError } from '../core/errors.ts';
import { BPF_ANY, ENOENT, ENOSPC, errnoText, libbpf } from './libbpf.ts';

export class BpfMap {
  readonly name: string;
  readonly fd: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  /** Bytes of one lookup result (all CPUs for per-CPU maps). */
  readonly lookupSize: number;

  constructor(name: string, fd: number, opts: { perCpu?: boolean } = {}) {
    const info = libbpf.mapInfo(fd);
    this.name = name;
    this.fd = fd;
    this.keySize = info.keySize;
    this.valueSize = info.valueSize;
    this.maxEntries = info.maxEntries;
    this.lookupSize = opts.perCpu
      ? Math.ceil(info.valueSize / 8) * 8 * libbpf.numPossibleCpus()
      : info.valueSize;
  }

  private fail(op: string, rc: number, extra: Record<string, unknown> = {}): never {
    throw new DsrError('E_BPF_MAP', `${op} on map ${this.name} failed: ${errnoText(-rc)}`, {
      map: this.name,
      errno: -rc,
      ...extra,
    });
  }

  /** The value, or null when the key is absent. */
  lookup(key: Uint8Array): Uint8Array | null {
    const value = new Uint8Array(this.lookupSize);
    const rc = libbpf.lookup(this.fd, key, value);
    if (rc === -ENOENT) return null;
    if (rc < 0) this.fail('lookup', rc);
    return value;
  }

  update(key: Uint8Array, value: Uint8Array, flags = BPF_ANY): void {
    const rc = libbpf.update(this.fd, key, value, flags);
    if (rc < 0) this.fail('update', rc);
  }

  /** Deletes the key; false when it was absent. */
  delete(key: Uint8Array): boolean {
    const rc = libbpf.delete(this.fd, key);
    if (rc === -ENOENT) return false;
    if (rc < 0) this.fail('delete', rc);
    return true;
  }

  /** Every key (get_next_key walk; fine for the small control maps). */
  keys(): Uint8Array[] {
    const out: Uint8Array[] = [];
    let prev: Uint8Array | null = null;
    for (;;) {
      const next = new Uint8Array(this.keySize);
      const rc = libbpf.nextKey(this.fd, prev, next);
      if (rc === -ENOENT) return out;
      if (rc < 0) this.fail('get_next_key', rc);
      out.push(next);
      prev = next;
    }
  }

  /**
   * Every entry, read in batches (one syscall per `batch` entries), handed to
   * `visit` as (keys, values, count) with entries packed back to back.
   */
  forEachBatch(visit: (keys: Uint8Array, values: Uint8Array, count: number) => void, batch = 4096): void {
    const cursor = new BatchCursor(this, batch);
    for (let b = cursor.next(); b !== null; b = cursor.next()) visit(b.keys, b.values, b.count);
  }

  /** Deletes `count` packed keys in one syscall; keys already gone are skipped. Returns how many went. */
  deleteBatch(keys: Uint8Array, count: number): number {
    let done = 0;
    while (done < count) {
      const rest = keys.subarray(done * this.keySize, count * this.keySize);
      const { rc, count: n } = libbpf.deleteBatch(this.fd, rest, count - done);
      done += n;
      if (rc === -ENOENT) {
        done++; // the kernel stops at a missing key: step over it
        continue;
      }
      if (rc < 0) this.fail('delete_batch', rc, { count });
    }
    return done;
  }

  /** Writes `count` packed key/value pairs in one syscall. */
  updateBatch(keys: Uint8Array, values: Uint8Array, count: number): void {
    const rc = libbpf.updateBatch(this.fd, keys, values, count);
    if (rc < 0) this.fail('update_batch', rc, { count });
  }
}

/** u32 key bytes (array index, ifindex). */
export function u32Key(n: number): Uint8Array {
  const k = new Uint8Array(4);
  new DataView(k.buffer).setUint32(0, n, true);
  return k;
}

/**
 * A walk over a map in batches that can stop and resume at any time (a bulk answer or a refresh
 * walk reads a little at each turn of the event loop). Hash maps hand out batches bucket by
 * bucket, so entries added or removed meanwhile never make the walk restart or repeat itself:
 * an entry added behind the cursor is simply not seen by this walk.
 */
export class BatchCursor {
  readonly #map: BpfMap;
  #size: number;
  #keys: Uint8Array;
  #values: Uint8Array;
  readonly #cursor: Uint8Array;
  readonly #next: Uint8Array;
  #first = true;
  #done = false;

  constructor(map: BpfMap, batch = 4096) {
    this.#map = map;
    this.#size = Math.max(1, Math.min(batch, map.maxEntries));
    this.#keys = new Uint8Array(this.#size * map.keySize);
    this.#values = new Uint8Array(this.#size * map.lookupSize);
    this.#cursor = new Uint8Array(Math.max(map.keySize, 8));
    this.#next = new Uint8Array(Math.max(map.keySize, 8));
  }

  get done(): boolean {
    return this.#done;
  }

  /** The next batch (never empty), entries packed back to back in buffers the next call reuses; null at the end. */
  next(): { keys: Uint8Array; values: Uint8Array; count: number } | null {
    while (!this.#done) {
      const m = this.#map;
      const { rc, count } = libbpf.lookupBatch(
        m.fd,
        this.#first ? null : this.#cursor,
        this.#next,
        this.#keys,
        this.#values,
        this.#size,
      );
      if (rc === -ENOSPC && count === 0) {
        // One bucket holds more entries than a batch: a larger batch reads it.
        this.#size *= 2;
        this.#keys = new Uint8Array(this.#size * m.keySize);
        this.#values = new Uint8Array(this.#size * m.lookupSize);
        continue;
      }
      if (rc < 0 && rc !== -ENOENT) {
        throw new DsrError('E_BPF_MAP', `lookup_batch on map ${m.name} failed: ${errnoText(-rc)}`, {
          map: m.name,
          errno: -rc,
        });
      }
      if (rc === -ENOENT) this.#done = true;
      else {
        this.#cursor.set(this.#next);
        this.#first = false;
      }
      if (count > 0 || this.#done)
        return count > 0 ? { keys: this.#keys, values: this.#values, count } : null;
    }
    return null;
  }
}
