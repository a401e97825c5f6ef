/**
 * The libc calls the kernel-effect drivers need, through koffi (no native addon, no node-gyp).
 *
 * Every socket is opened with SOCK_NONBLOCK | SOCK_CLOEXEC: a blocking recv or send through FFI
 * runs on the event-loop thread and would freeze the whole daemon (design §3). "Would block" is
 * therefore an ordinary outcome, returned as `WOULD_BLOCK`; every other failure is a DsrError
 * (E_SYSCALL) carrying the call name and the errno name, so a log line says what to fix.
 *
 * Pointers are passed as Buffers: koffi hands the callee the Buffer's own memory, so no copy and
 * no lifetime question (the call is synchronous). The one struct holding a pointer, a socket
 * filter's struct sock_fprog, is declared to koffi, which lays out the instructions for the call.
 */
import koffi, { type TypeObject } from 'koffi';
import { DsrError } from '../errors.ts';
import { BPF_MAXINSNS, type SockFilter } from './classic-bpf.ts';

export const AF_PACKET = 17;
export const AF_NETLINK = 16;
export const SOCK_RAW = 3;
export const SOCK_DGRAM = 2;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const SOL_SOCKET = 1;
export const SO_RCVBUF = 8;
export const SO_SNDBUF = 7;
export const SO_RCVBUFFORCE = 33;
export const SO_ATTACH_FILTER = 26;
/** recv flag: return the real datagram length even when it did not fit (truncation check). */
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;
export const CLONE_NEWNET = 0x40000000;

/** Returned by sendTo/recvFrom when the non-blocking socket has nothing to give or no room. */
export const WOULD_BLOCK = -1;

interface LibcFns {
  socket: (domain: number, type: number, protocol: number) => number;
  bind: (fd: number, addr: Buffer, len: number) => number;
  getsockname: (fd: number, addr: Buffer, len: number[]) => number;
  setsockopt: (fd: number, level: number, name: number, value: Buffer, len: number) => number;
  setsockoptFprog: (
    fd: number,
    level: number,
    name: number,
    value: { len: number; filter: readonly SockFilter[] },
    len: number,
  ) => number;
  sendto: (fd: number, buf: Buffer, len: number, flags: number, addr: Buffer | null, alen: number) => number;
  recvfrom: (
    fd: number,
    buf: Buffer,
    len: number,
    flags: number,
    addr: Buffer | null,
    alen: number[] | null,
  ) => number;
  close: (fd: number) => number;
  if_nametoindex: (name: string) => number;
  if_indextoname: (index: number, buf: Buffer) => unknown;
  setns: (fd: number, nstype: number) => number;
}

let fns: LibcFns | undefined;

function libc(): LibcFns {
  if (fns !== undefined) return fns;
  const lib = koffi.load('libc.so.6');
  fns = {
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    bind: lib.func('int bind(int fd, const void *addr, uint32_t len)'),
    getsockname: lib.func('int getsockname(int fd, _Out_ void *addr, _Inout_ uint32_t *len)'),
    setsockopt: lib.func('int setsockopt(int fd, int level, int name, const void *value, uint32_t len)'),
    // The same call declared for SO_ATTACH_FILTER: struct sock_fprog holds a pointer to the
    // instructions, which koffi lays out from the JS array and points at for the call's duration.
    setsockoptFprog: lib.func('setsockopt', 'int', [
      'int',
      'int',
      'int',
      koffi.pointer(sockFprogType()),
      'uint32_t',
    ]),
    sendto: lib.func(
      'intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t alen)',
    ),
    recvfrom: lib.func(
      'intptr_t recvfrom(int fd, _Out_ void *buf, size_t len, int flags, _Out_ void *addr, _Inout_ uint32_t *alen)',
    ),
    close: lib.func('int close(int fd)'),
    if_nametoindex: lib.func('unsigned int if_nametoindex(const char *name)'),
    if_indextoname: lib.func('void *if_indextoname(unsigned int index, _Out_ void *name)'),
    setns: lib.func('int setns(int fd, int nstype)'),
  };
  return fns;
}

let sockFprog: TypeObject | undefined;

/** struct sock_fprog { unsigned short len; struct sock_filter *filter; } (16 bytes on 64-bit). */
function sockFprogType(): TypeObject {
  if (sockFprog !== undefined) return sockFprog;
  const insn = koffi.struct({ code: 'uint16_t', jt: 'uint8_t', jf: 'uint8_t', k: 'uint32_t' });
  sockFprog = koffi.struct({ len: 'uint16_t', filter: koffi.pointer(insn) });
  return sockFprog;
}

const errnoNames = new Map<number, string>();

export function errnoName(errno: number): string {
  if (errnoNames.size === 0) {
    for (const [name, value] of Object.entries(koffi.os.errno)) {
      if (!errnoNames.has(value)) errnoNames.set(value, name);
    }
  }
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

export const errnos = koffi.os.errno;

function fail(call: string, errno: number, context: Record<string, unknown>): never {
  const name = errnoName(errno);
  throw new DsrError('E_SYSCALL', `${call} failed with ${name}`, {
    call,
    errno,
    errnoName: name,
    ...context,
  });
}

function isAgain(errno: number): boolean {
  return errno === errnos.EAGAIN || errno === errnos.EWOULDBLOCK;
}

/** socket(2), always non-blocking and close-on-exec. */
export function openSocket(domain: number, type: number, protocol: number): number {
  const fd = libc().socket(domain, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) fail('socket', koffi.errno(), { domain, type, protocol });
  return fd;
}

export function bindSocket(fd: number, addr: Buffer): void {
  if (libc().bind(fd, addr, addr.length) < 0) fail('bind', koffi.errno(), { fd });
}

/** getsockname(2) into a buffer of `size` bytes; returns the filled part. */
export function socketName(fd: number, size: number): Buffer {
  const addr = Buffer.alloc(size);
  const len = [size];
  if (libc().getsockname(fd, addr, len) < 0) fail('getsockname', koffi.errno(), { fd });
  return addr.subarray(0, Math.min(len[0], size));
}

export function setSocketOption(fd: number, level: number, name: number, value: Buffer): void {
  if (libc().setsockopt(fd, level, name, value, value.length) < 0) {
    fail('setsockopt', koffi.errno(), { fd, level, name });
  }
}

/**
 * setsockopt(SOL_SOCKET, SO_ATTACH_FILTER): the kernel runs `program` (classic BPF, classic-bpf.ts)
 * on every frame before queueing it to the socket. Replaces any filter already attached. Throws
 * E_SYSCALL (EINVAL: the kernel's checker refused the program).
 */
export function attachSocketFilter(fd: number, program: readonly SockFilter[]): void {
  if (program.length === 0 || program.length > BPF_MAXINSNS) {
    const length = program.length;
    throw new DsrError('E_INTERNAL', `a socket filter has 1 to ${BPF_MAXINSNS} instructions, not ${length}`, {
      length,
    });
  }
  const fprog = { len: program.length, filter: program };
  if (libc().setsockoptFprog(fd, SOL_SOCKET, SO_ATTACH_FILTER, fprog, koffi.sizeof(sockFprogType())) < 0) {
    fail('setsockopt', koffi.errno(), { fd, level: SOL_SOCKET, name: SO_ATTACH_FILTER });
  }
}

export function setSocketOptionInt(fd: number, level: number, name: number, value: number): void {
  const b = Buffer.alloc(4);
  b.writeInt32LE(value, 0);
  setSocketOption(fd, level, name, b);
}

/** sendto(2): bytes sent, or WOULD_BLOCK when the socket buffer is full. */
export function sendTo(fd: number, data: Buffer, addr: Buffer | null): number {
  for (;;) {
    const n = Number(libc().sendto(fd, data, data.length, 0, addr, addr === null ? 0 : addr.length));
    if (n >= 0) return n;
    const errno = koffi.errno();
    if (errno === errnos.EINTR) continue;
    if (isAgain(errno)) return WOULD_BLOCK;
    fail('sendto', errno, { fd, length: data.length });
  }
}

export interface Received {
  /** Bytes received; larger than the buffer when the datagram was truncated (MSG_TRUNC). */
  length: number;
  /** The sender's address (as much as fitted in the address buffer). */
  from: Buffer;
}

/**
 * recvfrom(2) with MSG_TRUNC, so a caller can tell a truncated datagram (length > buf.length).
 * Returns undefined when nothing is queued. A failure throws E_SYSCALL with `errno` in its context
 * (netlink's ENOBUFS, "the kernel dropped messages for you", is one callers recover from).
 */
export function recvFrom(fd: number, buf: Buffer, fromSize: number): Received | undefined {
  const from = Buffer.alloc(fromSize);
  for (;;) {
    const alen = [fromSize];
    const n = Number(libc().recvfrom(fd, buf, buf.length, MSG_TRUNC, from, alen));
    if (n >= 0) return { length: n, from: from.subarray(0, Math.min(alen[0], fromSize)) };
    const errno = koffi.errno();
    if (errno === errnos.EINTR) continue;
    if (isAgain(errno)) return undefined;
    fail('recvfrom', errno, { fd });
  }
}

export function closeFd(fd: number): void {
  // close(2) releases the descriptor even when it reports an error; nothing to retry.
  libc().close(fd);
}

/** if_nametoindex(3) in the calling thread's network namespace; throws E_NO_INTERFACE. */
export function interfaceIndex(name: string): number {
  if (name.length === 0 || name.length > 15) {
    throw new DsrError('E_NO_INTERFACE', `interface name "${name}" is not 1-15 characters`, { name });
  }
  const index = libc().if_nametoindex(name);
  if (index === 0) {
    throw new DsrError('E_NO_INTERFACE', `no interface named "${name}" (check \`ip link\`)`, {
      name,
      errno: errnoName(koffi.errno()),
    });
  }
  return index;
}

/** if_indextoname(3); undefined when no interface has that index. */
export function interfaceName(index: number): string | undefined {
  const buf = Buffer.alloc(16);
  const r = libc().if_indextoname(index, buf);
  if (r === null) return undefined;
  const end = buf.indexOf(0);
  return buf.toString('latin1', 0, end < 0 ? buf.length : end);
}

/**
 * setns(2) for the calling thread. Used to open sockets inside another network namespace: a
 * socket keeps the namespace it was created in after the thread switches back.
 */
export function enterNamespace(fd: number, nstype: number): void {
  if (libc().setns(fd, nstype) < 0) fail('setns', koffi.errno(), { fd, nstype });
}
