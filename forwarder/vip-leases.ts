/**
 * The VIPs' lease ends in the XDP program's vip_leases map (bpf/lease.h): after its entry's time
 * (CLOCK_MONOTONIC ns, as bpf_ktime_get_ns()) the program drops ARP requests and neighbour
 * solicitations for the VIP, so the kernel stops answering for it even when the daemon cannot run
 * (docs/quorum.md). A VIP without an entry is not guarded.
 */
import type { BpfMap } from './bpf-map.ts';
import { LAYOUT, parseMapAddress } from './layout.ts';

function vipKey(vip: string): Uint8Array {
  const { family, bytes } = parseMapAddress(vip);
  const key = new Uint8Array(LAYOUT.dsr_vip_key.size);
  key.set(bytes, LAYOUT.dsr_vip_key.fields.addr);
  key[LAYOUT.dsr_vip_key.fields.family] = family;
  return key;
}

function u64(value: bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, value, true);
  return out;
}

export class VipLeases {
  readonly #map: BpfMap;

  constructor(map: BpfMap) {
    this.#map = map;
  }

  /** Guards `vips` until `untilNs`; 0n: ended now. Throws E_ADDRESS_INVALID or E_BPF_MAP. */
  set(vips: readonly string[], untilNs: bigint): void {
    const value = u64(untilNs);
    for (const vip of vips) this.#map.update(vipKey(vip), value);
  }

  /** No guard on `vips` any more (a VRRP-mode or lone director). */
  clear(vips: readonly string[]): void {
    for (const vip of vips) this.#map.delete(vipKey(vip));
  }

  /** The guarded VIPs' lease ends, by their key bytes (for tests and status). */
  until(vip: string): bigint | null {
    const v = this.#map.lookup(vipKey(vip));
    return v === null ? null : new DataView(v.buffer, v.byteOffset, 8).getBigUint64(0, true);
  }
}
