/**
 * What the benchmark's own helper programs (traffic generator, receive
 * counter, MAC-swap floor) need from libbpf, on top of the forwarder's
 * bindings (forwarder/libbpf.ts): open/load a small object, find a program or
 * map, update/read maps, attach XDP, and BPF_PROG_TEST_RUN with the options
 * the live-frames generator needs (flags, ctx_in, batch_size).
 */
import { DsrError } from '../../core/errors.ts';
import {
  check,
  errnoText,
  libbpf,
  type Pointer,
  XDP_FLAGS_DRV_MODE,
  XDP_FLAGS_SKB_MODE,
} from '../../forwarder/libbpf.ts';

export { XDP_ABORTED, XDP_DROP, XDP_PASS, XDP_TX } from '../../forwarder/libbpf.ts';
export { XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE };

/** BPF_F_TEST_XDP_LIVE_FRAMES (linux/bpf.h): frames returned XDP_TX/REDIRECT are really sent. */
export const BPF_F_TEST_XDP_LIVE_FRAMES = 1 << 1;

export function ifindexOf(ifname: string): number {
  const i = libbpf.ifIndex(ifname);
  if (!i)
    throw new DsrError('E_NO_INTERFACE', `interface ${ifname} does not exist in this namespace`, { ifname });
  return i;
}

/** A loaded BPF object; close() unloads whatever is not attached or pinned. */
export class BenchBpfObject {
  private obj: Pointer | null;
  private readonly mapsByName: Map<string, Pointer>;
  readonly path: string;

  constructor(path: string) {
    this.path = path;
    const obj = libbpf.openObject(path);
    const rc = libbpf.loadObject(obj);
    if (rc < 0) {
      libbpf.closeObject(obj);
      throw new DsrError('E_BPF_LOAD', `loading ${path} failed: ${errnoText(-rc)} (verifier log on stderr)`, {
        path,
      });
    }
    this.obj = obj;
    this.mapsByName = new Map(libbpf.maps(obj).map((m) => [m.name, m.map]));
  }

  progFd(name: string): number {
    return libbpf.programFd(this.obj, name);
  }

  mapFd(name: string): number {
    const map = this.mapsByName.get(name);
    if (!map) throw new DsrError('E_BPF_MAP', `map ${name} is not in ${this.path}`, { name });
    return libbpf.mapFd(map, name);
  }

  close(): void {
    if (this.obj) libbpf.closeObject(this.obj);
    this.obj = null;
  }
}

export function mapUpdate(fd: number, key: Uint8Array, value: Uint8Array): void {
  check('E_BPF_MAP', 'bpf_map_update_elem', libbpf.update(fd, key, value, 0), { fd });
}

/** Sum over CPUs of a u64 slot of a per-CPU array map. */
export function readPerCpuU64(fd: number, index = 0): bigint {
  const key = Buffer.alloc(4);
  key.writeUInt32LE(index);
  const value = Buffer.alloc(8 * libbpf.numPossibleCpus());
  check('E_BPF_MAP', 'bpf_map_lookup_elem', libbpf.lookup(fd, key, value), { fd });
  let sum = 0n;
  for (let off = 0; off < value.length; off += 8) sum += value.readBigUInt64LE(off);
  return sum;
}

export function attachXdp(ifindex: number, progFd: number, flags = XDP_FLAGS_DRV_MODE): void {
  check('E_BPF_ATTACH', `attaching XDP to ifindex ${ifindex}`, libbpf.xdpAttach(ifindex, progFd, flags), {
    ifindex,
  });
}

export function detachXdp(ifindex: number, flags = XDP_FLAGS_DRV_MODE): void {
  check('E_BPF_ATTACH', `detaching XDP from ifindex ${ifindex}`, libbpf.xdpDetach(ifindex, flags), {
    ifindex,
  });
}

export interface TestRunInput {
  data: Buffer;
  repeat: number;
  /** struct xdp_md to pass as ctx_in (needed for live frames: ingress_ifindex). */
  ctx?: Buffer;
  flags?: number;
  batchSize?: number;
  /** Receives the output frame (ignored for live frames). */
  dataOut?: Buffer;
}

export interface TestRunResult {
  /** XDP verdict; live-frames runs report none (0). */
  retval: number;
  /** Mean ns per repetition, measured by the kernel around the program runs. */
  durationNs: number;
  dataSizeOut: number;
}

/** BPF_PROG_TEST_RUN, synchronously (blocks the thread for `repeat` runs). */
export function testRun(progFd: number, input: TestRunInput): TestRunResult {
  const opts: Record<string, unknown> = {
    data_in: input.data,
    data_out: input.dataOut ?? null,
    data_size_in: input.data.length,
    data_size_out: input.dataOut?.length ?? 0,
    ctx_in: input.ctx ?? null,
    ctx_out: null,
    ctx_size_in: input.ctx?.length ?? 0,
    ctx_size_out: 0,
    retval: 0,
    repeat: input.repeat,
    duration: 0,
    flags: input.flags ?? 0,
    cpu: 0,
    batch_size: input.batchSize ?? 0,
  };
  check('E_BPF_TEST_RUN', 'bpf_prog_test_run_opts', libbpf.testRun(progFd, opts), { progFd });
  return {
    retval: Number(opts.retval),
    durationNs: Number(opts.duration),
    dataSizeOut: Number(opts.data_size_out),
  };
}

/** struct xdp_md for ctx_in: a frame of `len` bytes arriving on `ifindex`, queue 0. */
export function xdpMdCtx(len: number, ifindex: number): Buffer {
  const ctx = Buffer.alloc(24);
  ctx.writeUInt32LE(0, 0); // data
  ctx.writeUInt32LE(len, 4); // data_end
  ctx.writeUInt32LE(0, 8); // data_meta
  ctx.writeUInt32LE(ifindex, 12); // ingress_ifindex
  return ctx;
}
