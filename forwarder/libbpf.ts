/**
 * libbpf.so.1 (Debian libbpf1, 1.1) through koffi: the calls the forwarder
 * needs, wrapped so that failures become DsrError E_BPF_* with the errno.
 * Every call here returns at once (no blocking syscalls); the ring buffer is
 * read from memory mapped here, without a call per record (forwarder/ringbuf.ts).
 *
 * libbpf 1.x returns -errno from int functions and NULL + errno from pointer
 * functions (its "strict" mode is the default since 1.0).
 */
import koffi from 'koffi';
import { DsrError, type ErrorCode } from '../core/errors.ts';

const lib = koffi.load('libbpf.so.1');
const libc = koffi.load('libc.so.6');

// Opaque libbpf handles, declared by name for the prototypes below.
koffi.opaque('dsr_bpf_object');
koffi.opaque('dsr_bpf_program');
koffi.opaque('dsr_bpf_map');

/** struct bpf_test_run_opts (libbpf 1.1 bpf.h). */
const TestRunOpts = koffi.struct('dsr_bpf_test_run_opts', {
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

/** Size and field offsets of struct bpf_test_run_opts, for callers that fill it in native memory. */
export const TEST_RUN_OPTS = {
  size: koffi.sizeof(TestRunOpts),
  dataIn: koffi.offsetof(TestRunOpts, 'data_in'),
  dataOut: koffi.offsetof(TestRunOpts, 'data_out'),
  dataSizeIn: koffi.offsetof(TestRunOpts, 'data_size_in'),
  dataSizeOut: koffi.offsetof(TestRunOpts, 'data_size_out'),
  retval: koffi.offsetof(TestRunOpts, 'retval'),
  repeat: koffi.offsetof(TestRunOpts, 'repeat'),
  duration: koffi.offsetof(TestRunOpts, 'duration'),
} as const;

/** struct bpf_map_create_opts (libbpf 1.1 bpf.h). */
const MapCreateOpts = koffi.struct('dsr_bpf_map_create_opts', {
  sz: 'size_t',
  btf_fd: 'uint32_t',
  btf_key_type_id: 'uint32_t',
  btf_value_type_id: 'uint32_t',
  btf_vmlinux_value_type_id: 'uint32_t',
  inner_map_fd: 'uint32_t',
  map_flags: 'uint32_t',
  map_extra: 'uint64_t',
  numa_node: 'uint32_t',
  map_ifindex: 'uint32_t',
});

/** struct bpf_map_batch_opts (libbpf 1.1 bpf.h). */
const BatchOpts = koffi.struct('dsr_bpf_map_batch_opts', {
  sz: 'size_t',
  elem_flags: 'uint64_t',
  flags: 'uint64_t',
});

const fn = {
  objectOpenFile: lib.func('dsr_bpf_object *bpf_object__open_file(const char *path, void *opts)'),
  objectLoad: lib.func('int bpf_object__load(dsr_bpf_object *obj)'),
  objectClose: lib.func('void bpf_object__close(dsr_bpf_object *obj)'),
  findProgram: lib.func(
    'dsr_bpf_program *bpf_object__find_program_by_name(dsr_bpf_object *obj, const char *name)',
  ),
  programFd: lib.func('int bpf_program__fd(dsr_bpf_program *prog)'),
  findMap: lib.func('dsr_bpf_map *bpf_object__find_map_by_name(dsr_bpf_object *obj, const char *name)'),
  nextMap: lib.func('dsr_bpf_map *bpf_object__next_map(dsr_bpf_object *obj, dsr_bpf_map *map)'),
  mapName: lib.func('const char *bpf_map__name(dsr_bpf_map *map)'),
  mapFd: lib.func('int bpf_map__fd(dsr_bpf_map *map)'),
  mapSetMaxEntries: lib.func('int bpf_map__set_max_entries(dsr_bpf_map *map, uint32_t max_entries)'),
  mapMaxEntries: lib.func('uint32_t bpf_map__max_entries(dsr_bpf_map *map)'),
  mapReuseFd: lib.func('int bpf_map__reuse_fd(dsr_bpf_map *map, int fd)'),
  mapType: lib.func('int bpf_map__type(dsr_bpf_map *map)'),
  mapKeySize: lib.func('uint32_t bpf_map__key_size(dsr_bpf_map *map)'),
  mapValueSize: lib.func('uint32_t bpf_map__value_size(dsr_bpf_map *map)'),
  mapFlags: lib.func('uint32_t bpf_map__map_flags(dsr_bpf_map *map)'),
  xdpAttach: lib.func('int bpf_xdp_attach(int ifindex, int prog_fd, uint32_t flags, void *opts)'),
  xdpDetach: lib.func('int bpf_xdp_detach(int ifindex, uint32_t flags, void *opts)'),
  xdpQueryId: lib.func('int bpf_xdp_query_id(int ifindex, int flags, _Out_ uint32_t *prog_id)'),
  lookup: lib.func('int bpf_map_lookup_elem(int fd, const void *key, void *value)'),
  update: lib.func('int bpf_map_update_elem(int fd, const void *key, const void *value, uint64_t flags)'),
  delete: lib.func('int bpf_map_delete_elem(int fd, const void *key)'),
  nextKey: lib.func('int bpf_map_get_next_key(int fd, const void *key, void *next_key)'),
  lookupBatch: lib.func(
    'int bpf_map_lookup_batch(int fd, void *in_batch, void *out_batch, void *keys, void *values, _Inout_ uint32_t *count, const dsr_bpf_map_batch_opts *opts)',
  ),
  updateBatch: lib.func(
    'int bpf_map_update_batch(int fd, const void *keys, const void *values, _Inout_ uint32_t *count, const dsr_bpf_map_batch_opts *opts)',
  ),
  deleteBatch: lib.func(
    'int bpf_map_delete_batch(int fd, const void *keys, _Inout_ uint32_t *count, const dsr_bpf_map_batch_opts *opts)',
  ),
  objPin: lib.func('int bpf_obj_pin(int fd, const char *path)'),
  objGet: lib.func('int bpf_obj_get(const char *path)'),
  objGetInfo: lib.func('int bpf_obj_get_info_by_fd(int fd, void *info, _Inout_ uint32_t *len)'),
  mapGetFdById: lib.func('int bpf_map_get_fd_by_id(uint32_t id)'),
  mapCreate: lib.func(
    'int bpf_map_create(int type, const char *name, uint32_t key_size, uint32_t value_size, uint32_t max_entries, const dsr_bpf_map_create_opts *opts)',
  ),
  testRun: lib.func('int bpf_prog_test_run_opts(int prog_fd, _Inout_ dsr_bpf_test_run_opts *opts)'),
  // The same call on options the caller keeps in native memory (test-run.ts): no marshalling.
  testRunRaw: lib.func('bpf_prog_test_run_opts', 'int', ['int', 'void *']),
  numPossibleCpus: lib.func('int libbpf_num_possible_cpus(void)'),
  close: libc.func('int close(int fd)'),
  mmap: libc.func('void *mmap(void *addr, size_t length, int prot, int flags, int fd, int64_t offset)'),
  munmap: libc.func('int munmap(void *addr, size_t length)'),
  getpagesize: libc.func('int getpagesize(void)'),
  strerror: libc.func('const char *strerror(int errnum)'),
  ifNameToIndex: libc.func('unsigned int if_nametoindex(const char *name)'),
};

export type Pointer = unknown;

/** bpf_map_type values (linux/bpf.h). */
export const BPF_MAP_TYPE_ARRAY = 2;
export const BPF_F_INNER_MAP = 1 << 12;
/** Map update flags. */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
/** XDP attach flags (linux/if_link.h). */
export const XDP_FLAGS_UPDATE_IF_NOEXIST = 1 << 0;
export const XDP_FLAGS_SKB_MODE = 1 << 1;
export const XDP_FLAGS_DRV_MODE = 1 << 2;
/** XDP verdicts. */
export const XDP_ABORTED = 0;
export const XDP_DROP = 1;
export const XDP_PASS = 2;
export const XDP_TX = 3;
export const XDP_REDIRECT = 4;

export const ENOENT = 2;
export const ENOSPC = 28;

export function errnoText(errno: number): string {
  return `${fn.strerror(errno)} (errno ${errno})`;
}

/** Turns a libbpf int result into a DsrError when it is negative. */
export function check(
  code: ErrorCode,
  what: string,
  rc: number,
  context: Record<string, unknown> = {},
): number {
  if (rc < 0) {
    const errno = -rc;
    throw new DsrError(code, `${what} failed: ${errnoText(errno)}`, { ...context, errno });
  }
  return rc;
}

function checkPtr<T>(code: ErrorCode, what: string, ptr: T | null, context: Record<string, unknown>): T {
  if (!ptr) {
    const errno = koffi.errno();
    throw new DsrError(code, `${what} failed: ${errnoText(errno)}`, { ...context, errno });
  }
  return ptr;
}

export const libbpf = {
  openObject(path: string): Pointer {
    return checkPtr('E_BPF_OPEN', `opening BPF object ${path}`, fn.objectOpenFile(path, null), { path });
  },
  /** Returns 0 or -errno (the caller decides how to report: pin conflicts need context). */
  loadObject(obj: Pointer): number {
    return fn.objectLoad(obj);
  },
  closeObject(obj: Pointer): void {
    fn.objectClose(obj);
  },
  programFd(obj: Pointer, name: string): number {
    const prog = checkPtr('E_BPF_LOAD', `finding program ${name}`, fn.findProgram(obj, name), { name });
    return check('E_BPF_LOAD', `fd of program ${name}`, fn.programFd(prog), { name });
  },
  maps(obj: Pointer): Array<{ name: string; map: Pointer }> {
    const out: Array<{ name: string; map: Pointer }> = [];
    for (let m = fn.nextMap(obj, null); m; m = fn.nextMap(obj, m)) out.push({ name: fn.mapName(m), map: m });
    return out;
  },
  mapFd(map: Pointer, name: string): number {
    return check('E_BPF_MAP', `fd of map ${name}`, fn.mapFd(map), { name });
  },
  setMaxEntries(map: Pointer, name: string, n: number): void {
    check('E_BPF_MAP', `setting max entries of ${name}`, fn.mapSetMaxEntries(map, n), { name, n });
  },
  /** Makes the object use an existing map (a pinned one) instead of creating it. */
  reuseFd(map: Pointer, name: string, fd: number): void {
    check('E_BPF_PIN', `reusing the pinned map ${name}`, fn.mapReuseFd(map, fd), { name });
  },
  /** Definition of a map in an opened (not yet loaded) object. */
  mapDef(map: Pointer): {
    type: number;
    keySize: number;
    valueSize: number;
    maxEntries: number;
    flags: number;
  } {
    return {
      flags: fn.mapFlags(map),
      type: fn.mapType(map),
      keySize: fn.mapKeySize(map),
      valueSize: fn.mapValueSize(map),
      maxEntries: fn.mapMaxEntries(map),
    };
  },
  xdpAttach(ifindex: number, progFd: number, flags: number): number {
    return fn.xdpAttach(ifindex, progFd, flags, null);
  },
  xdpDetach(ifindex: number, flags: number): number {
    return fn.xdpDetach(ifindex, flags, null);
  },
  xdpQueryId(ifindex: number, flags: number): number {
    const id = [0];
    check('E_BPF_ATTACH', `querying XDP on ifindex ${ifindex}`, fn.xdpQueryId(ifindex, flags, id), {
      ifindex,
    });
    return id[0];
  },
  /** 0 on success, -errno otherwise (ENOENT is an ordinary miss). */
  lookup(fd: number, key: Uint8Array, value: Uint8Array): number {
    return fn.lookup(fd, key, value);
  },
  update(fd: number, key: Uint8Array, value: Uint8Array, flags: number): number {
    return fn.update(fd, key, value, flags);
  },
  delete(fd: number, key: Uint8Array): number {
    return fn.delete(fd, key);
  },
  nextKey(fd: number, key: Uint8Array | null, next: Uint8Array): number {
    return fn.nextKey(fd, key, next);
  },
  /** One batch; returns { rc, count } (rc -ENOENT marks the last batch). */
  lookupBatch(
    fd: number,
    inBatch: Uint8Array | null,
    outBatch: Uint8Array,
    keys: Uint8Array,
    values: Uint8Array,
    count: number,
  ): { rc: number; count: number } {
    const n = [count];
    const rc = fn.lookupBatch(fd, inBatch, outBatch, keys, values, n, {
      sz: koffi.sizeof(BatchOpts),
      elem_flags: 0,
      flags: 0,
    });
    return { rc, count: n[0] };
  },
  updateBatch(fd: number, keys: Uint8Array, values: Uint8Array, count: number): number {
    const n = [count];
    return fn.updateBatch(fd, keys, values, n, { sz: koffi.sizeof(BatchOpts), elem_flags: 0, flags: 0 });
  },
  /** Deletes `count` packed keys; returns { rc, count deleted }. */
  deleteBatch(fd: number, keys: Uint8Array, count: number): { rc: number; count: number } {
    const n = [count];
    const rc = fn.deleteBatch(fd, keys, n, { sz: koffi.sizeof(BatchOpts), elem_flags: 0, flags: 0 });
    return { rc, count: n[0] };
  },
  objPin(fd: number, path: string): void {
    check('E_BPF_PIN', `pinning at ${path}`, fn.objPin(fd, path), { path });
  },
  /** fd of a pinned object, or -errno. */
  objGet(path: string): number {
    return fn.objGet(path);
  },
  /** First fields of struct bpf_map_info (linux/bpf.h). */
  mapInfo(fd: number): {
    type: number;
    id: number;
    keySize: number;
    valueSize: number;
    maxEntries: number;
    flags: number;
  } {
    const info = new Uint8Array(128);
    const len = [info.byteLength];
    check('E_BPF_MAP', 'reading map info', fn.objGetInfo(fd, info, len), { fd });
    const v = new DataView(info.buffer);
    return {
      type: v.getUint32(0, true),
      id: v.getUint32(4, true),
      keySize: v.getUint32(8, true),
      valueSize: v.getUint32(12, true),
      maxEntries: v.getUint32(16, true),
      flags: v.getUint32(20, true),
    };
  },
  mapFdById(id: number): number {
    return check('E_BPF_MAP', `opening map id ${id}`, fn.mapGetFdById(id), { id });
  },
  createMap(
    type: number,
    name: string,
    keySize: number,
    valueSize: number,
    maxEntries: number,
    flags: number,
  ): number {
    const opts = {
      sz: koffi.sizeof(MapCreateOpts),
      btf_fd: 0,
      btf_key_type_id: 0,
      btf_value_type_id: 0,
      btf_vmlinux_value_type_id: 0,
      inner_map_fd: 0,
      map_flags: flags,
      map_extra: 0,
      numa_node: 0,
      map_ifindex: 0,
    };
    return check(
      'E_BPF_MAP',
      `creating map ${name}`,
      fn.mapCreate(type, name, keySize, valueSize, maxEntries, opts),
      { name, maxEntries },
    );
  },
  /** Runs the program; `opts` (struct bpf_test_run_opts fields) receives retval, duration, sizes. */
  testRun(progFd: number, opts: Record<string, unknown>): number {
    opts.sz = koffi.sizeof(TestRunOpts);
    return fn.testRun(progFd, opts);
  },
  /** Maps `length` bytes of `fd` at `offset`; null when the kernel refuses (errno in koffi.errno()). */
  mmap(length: number, writable: boolean, fd: number, offset: number): Pointer | null {
    const PROT_READ = 1;
    const PROT_WRITE = 2;
    const MAP_SHARED = 1;
    const p = fn.mmap(null, length, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, offset);
    // MAP_FAILED is (void *)-1.
    return p === null || koffi.address(p) === 0xffffffffffffffffn ? null : p;
  },
  munmap(ptr: Pointer, length: number): void {
    fn.munmap(ptr, length);
  },
  pageSize(): number {
    return fn.getpagesize();
  },
  /** The bytes at `ptr` as an ArrayBuffer (no copy: it stays valid while the memory is mapped). */
  view(ptr: Pointer, length: number): ArrayBuffer {
    return koffi.view(ptr, length);
  },
  /** One test run on a struct bpf_test_run_opts laid out at `opts` (TEST_RUN_OPTS offsets). */
  testRunRaw(progFd: number, opts: Pointer): number {
    return fn.testRunRaw(progFd, opts);
  },
  numPossibleCpus(): number {
    return check('E_BPF_MAP', 'counting possible CPUs', fn.numPossibleCpus());
  },
  /** ifindex of an interface in this network namespace, or 0. */
  ifIndex(name: string): number {
    return fn.ifNameToIndex(name);
  },
  closeFd(fd: number): void {
    if (fd >= 0) fn.close(fd);
  },
};

/** Native memory that does not move (for pointers kept inside structs). */
/** The address of native memory, as a struct field holds it. */
export function addressOf(ptr: Pointer): bigint {
  return BigInt(koffi.address(ptr));
}

export function allocNative(bytes: number): { ptr: Pointer; view: Uint8Array; free(): void } {
  const ptr = koffi.alloc('uint8_t', bytes);
  const view = new Uint8Array(koffi.view(ptr, bytes));
  let freed = false;
  return {
    ptr,
    view,
    free() {
      if (!freed) {
        freed = true;
        koffi.free(ptr);
      }
    },
  };
}
