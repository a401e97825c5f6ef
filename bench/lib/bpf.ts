/**
 * The few libbpf calls the benchmark's own helper programs need (traffic
 * generator, receive counter, MAC-swap floor): open/load an object, find a
 * program or map, update/read maps, attach XDP, and BPF_PROG_TEST_RUN with the
 * options the live-frames generator needs (flags, ctx_in, batch_size).
 *
 * The forwarder's own program is driven through forwarder/'s loader, never
 * through this file: this is bench tooling, kept apart so the product's
 * bindings stay free of generator-only options.
 */
import koffi from 'koffi';
import { DsrError } from '../../core/errors.ts';

const lib = koffi.load('libbpf.so.1');
const libc = koffi.load('libc.so.6');

/** struct bpf_test_run_opts from libbpf 1.1 (bpf.h); `sz` tells libbpf which fields we know. */
const TestRunOpts = koffi.struct('bench_bpf_test_run_opts', {
  sz: 'size_t',
  data_in: 'void *',
  data_out: 'void *',
  data_size_in: 'uint32_t',
  data_size_out: 'uint32_t',
  ctx_in: 'void *',
  ctx_out: 'void *',
  ctx_size_in: 'uint32_t',
  ctx_size_out: 'uint32_t',
  retval: 'uint32_t',
  repeat: 'int',
  duration: 'uint32_t',
  flags: 'uint32_t',
  cpu: 'uint32_t',
  batch_size: 'uint32_t',
});

const objectOpen = lib.func('void *bpf_object__open_file(const char *path, void *opts)');
const objectLoad = lib.func('int bpf_object__load(void *obj)');
const objectClose = lib.func('void bpf_object__close(void *obj)');
const findProgram = lib.func('void *bpf_object__find_program_by_name(void *obj, const char *name)');
const programFd = lib.func('int bpf_program__fd(void *prog)');
const findMapFd = lib.func('int bpf_object__find_map_fd_by_name(void *obj, const char *name)');
const mapUpdateElem = lib.func(
  'int bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags)',
);
const mapLookupElem = lib.func('int bpf_map_lookup_elem(int fd, const void *key, _Out_ uint8_t *value)');
const xdpAttach = lib.func('int bpf_xdp_attach(int ifindex, int prog_fd, uint32_t flags, void *opts)');
const xdpDetach = lib.func('int bpf_xdp_detach(int ifindex, uint32_t flags, void *opts)');
const testRunOpts = lib.func(
  'int bpf_prog_test_run_opts(int prog_fd, _Inout_ bench_bpf_test_run_opts *opts)',
);
const numPossibleCpus = lib.func('int libbpf_num_possible_cpus(void)');
const ifNameToIndex = libc.func('unsigned int if_nametoindex(const char *name)');

/** BPF_F_TEST_XDP_LIVE_FRAMES (linux/bpf.h): frames returned XDP_TX/REDIRECT are really sent. */
export const BPF_F_TEST_XDP_LIVE_FRAMES = 1 << 1;
/** XDP_FLAGS_SKB_MODE / XDP_FLAGS_DRV_MODE (linux/if_link.h). */
export const XDP_FLAGS_SKB_MODE = 1 << 1;
export const XDP_FLAGS_DRV_MODE = 1 << 2;

export const XDP_ABORTED = 0;
export const XDP_DROP = 1;
export const XDP_PASS = 2;
export const XDP_TX = 3;

function check(
  rc: number,
  what: string,
  code: 'E_BPF_MAP' | 'E_BPF_ATTACH' | 'E_BPF_TEST_RUN',
  ctx = {},
): void {
  if (rc < 0) throw new DsrError(code, `${what} failed: errno ${-rc}`, { ...ctx, errno: -rc });
}

export function ifindexOf(ifname: string): number {
  const i = ifNameToIndex(ifname) as number;
  if (!i)
    throw new DsrError('E_NO_INTERFACE', `interface ${ifname} does not exist in this namespace`, { ifname });
  return i;
}

export const possibleCpus = (): number => numPossibleCpus() as number;

/** A loaded BPF object; close() unloads whatever is not attached or pinned. */
export class BenchBpfObject {
  private obj: unknown;
  readonly path: string;

  constructor(path: string) {
    this.path = path;
    this.obj = objectOpen(path, null);
    if (!this.obj)
      throw new DsrError('E_BPF_OPEN', `cannot open BPF object ${path}: run npm run build`, { path });
    const rc = objectLoad(this.obj) as number;
    if (rc < 0) {
      objectClose(this.obj);
      this.obj = null;
      throw new DsrError('E_BPF_LOAD', `cannot load ${path}: errno ${-rc} (verifier log above)`, { path });
    }
  }

  progFd(name: string): number {
    const p = findProgram(this.obj, name);
    if (!p) throw new DsrError('E_BPF_OPEN', `program ${name} is not in ${this.path}`, { name });
    return programFd(p) as number;
  }

  mapFd(name: string): number {
    const fd = findMapFd(this.obj, name) as number;
    if (fd < 0) throw new DsrError('E_BPF_MAP', `map ${name} is not in ${this.path}`, { name });
    return fd;
  }

  close(): void {
    if (this.obj) objectClose(this.obj);
    this.obj = null;
  }
}

export function mapUpdate(fd: number, key: Uint8Array, value: Uint8Array): void {
  check(mapUpdateElem(fd, key, value, 0n) as number, 'bpf_map_update_elem', 'E_BPF_MAP', { fd });
}

/** Sum of a u64 slot of a per-CPU array map. */
export function readPerCpuU64(fd: number, index = 0): bigint {
  const key = Buffer.alloc(4);
  key.writeUInt32LE(index);
  const value = Buffer.alloc(8 * possibleCpus());
  check(mapLookupElem(fd, key, value) as number, 'bpf_map_lookup_elem', 'E_BPF_MAP', { fd });
  let sum = 0n;
  for (let off = 0; off < value.length; off += 8) sum += value.readBigUInt64LE(off);
  return sum;
}

export function attachXdp(ifindex: number, progFd: number, flags = XDP_FLAGS_DRV_MODE): void {
  check(
    xdpAttach(ifindex, progFd, flags, null) as number,
    `bpf_xdp_attach(ifindex ${ifindex})`,
    'E_BPF_ATTACH',
  );
}

export function detachXdp(ifindex: number, flags = XDP_FLAGS_DRV_MODE): void {
  check(xdpDetach(ifindex, flags, null) as number, `bpf_xdp_detach(ifindex ${ifindex})`, 'E_BPF_ATTACH');
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
  retval: number;
  /** Average ns per repetition, measured by the kernel around the program runs. */
  durationNs: number;
  dataSizeOut: number;
}

function runOpts(input: TestRunInput): Record<string, unknown> {
  return {
    sz: koffi.sizeof(TestRunOpts),
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
}

function result(opts: Record<string, unknown>): TestRunResult {
  return {
    retval: opts.retval as number,
    durationNs: opts.duration as number,
    dataSizeOut: opts.data_size_out as number,
  };
}

/** BPF_PROG_TEST_RUN, synchronously (blocks the thread for repeat runs). */
export function testRun(progFd: number, input: TestRunInput): TestRunResult {
  const opts = runOpts(input);
  check(testRunOpts(progFd, opts) as number, 'bpf_prog_test_run_opts', 'E_BPF_TEST_RUN', { progFd });
  return result(opts);
}

/** BPF_PROG_TEST_RUN on koffi's worker thread, so signals and timers still run meanwhile. */
export function testRunAsync(progFd: number, input: TestRunInput): Promise<TestRunResult> {
  const opts = runOpts(input);
  return new Promise((resolve, reject) => {
    testRunOpts.async(progFd, opts, (err: unknown, rc: number) => {
      if (err) return reject(err);
      try {
        check(rc, 'bpf_prog_test_run_opts', 'E_BPF_TEST_RUN', { progFd });
        resolve(result(opts));
      } catch (e) {
        reject(e);
      }
    });
  });
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
