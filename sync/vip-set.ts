/**
 * A small set of VIPs (4 or 16 bytes each), compared byte by byte: which VIPs' groups this director
 * masters. A director has a handful of VIPs and the sync asks about every entry it reads or writes,
 * so a linear scan of raw bytes beats making a string key per entry.
 */
export class VipSet {
  readonly #vips: readonly Uint8Array[];

  constructor(vips: readonly Uint8Array[] = []) {
    this.#vips = vips.map((v) => Uint8Array.from(v));
  }

  get size(): number {
    return this.#vips.length;
  }

  has(vip: Uint8Array): boolean {
    return this.hasAt(vip, 0, vip.length);
  }

  /** Whether the `length` bytes of `buf` at `at` are one of the VIPs. */
  hasAt(buf: Uint8Array, at: number, length: number): boolean {
    outer: for (const v of this.#vips) {
      if (v.length !== length) continue;
      for (let i = 0; i < length; i++) if (v[i] !== buf[at + i]) continue outer;
      return true;
    }
    return false;
  }
}
