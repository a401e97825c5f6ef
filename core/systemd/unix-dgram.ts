/**
 * Unix datagram sockets through libc (node:dgram has no AF_UNIX). Used to talk to systemd's
 * NOTIFY_SOCKET, and by tests to stand in for systemd.
 *
 * Every socket is non-blocking (SOCK_NONBLOCK): a blocking call through FFI would freeze the daemon.
 * A full receive queue makes sendto fail with EAGAIN, which the caller sees as `false`.
 */
import koffi from 'koffi';
import { DsrError } from '../errors.ts';

const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
/** sizeof(struct sockaddr_un.sun_path) on Linux. */
const SUN_PATH_MAX = 108;

interface Libc {
  socket: (domain: number, type: number, protocol: number) => number;
  bind: (fd: number, addr: Buffer, len: number) => number;
  sendto: (
    fd: number,
    buf: Buffer,
    len: number,
    flags: number,
    addr: Buffer,
    alen: number,
  ) => number | bigint;
  recv: (fd: number, buf: Buffer, len: number, flags: number) => number | bigint;
  close: (fd: number) => number;
}

let libc: Libc | undefined;

function loadLibc(): Libc {
  if (libc !== undefined) return libc;
  const lib = koffi.load('libc.so.6');
  libc = {
    socket: lib.func('int socket(int domain, int type, int protocol)'),
    bind: lib.func('int bind(int fd, const void *addr, uint32_t len)'),
    sendto: lib.func(
      'intptr_t sendto(int fd, const void *buf, size_t len, int flags, const void *addr, uint32_t alen)',
    ),
    recv: lib.func('intptr_t recv(int fd, _Out_ void *buf, size_t len, int flags)'),
    close: lib.func('int close(int fd)'),
  };
  return libc;
}

function errnoName(errno: number): string {
  for (const [name, value] of Object.entries(koffi.os.errno)) if (value === errno) return name;
  return `errno ${errno}`;
}

/**
 * Encodes a struct sockaddr_un. A path starting with '@' names the abstract namespace (the '@'
 * becomes a NUL byte and the length counts no trailing NUL), as systemd spells NOTIFY_SOCKET.
 */
export function sockaddrUn(path: string): Buffer {
  const abstract = path.startsWith('@');
  const name = Buffer.from(abstract ? path.slice(1) : path, 'utf8');
  const pathBytes = name.length + 1; // leading NUL (abstract) or trailing NUL (filesystem)
  if (name.length === 0 || pathBytes > SUN_PATH_MAX) {
    throw new DsrError('E_NOTIFY_SOCKET', `unix socket path "${path}" is empty or longer than 107 bytes`, {
      path,
    });
  }
  const addr = Buffer.alloc(2 + pathBytes);
  addr.writeUInt16LE(AF_UNIX, 0);
  name.copy(addr, abstract ? 3 : 2);
  // Abstract names are exactly as long as given; filesystem paths carry their NUL.
  return addr;
}

function openSocket(): number {
  const c = loadLibc();
  const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    throw new DsrError('E_NOTIFY_SOCKET', `socket(AF_UNIX, SOCK_DGRAM) failed: ${errnoName(koffi.errno())}`);
  }
  return fd;
}

/** A sending socket; `send` returns false when the datagram could not be queued. */
export class UnixDgramSender {
  readonly #fd: number;
  readonly #addr: Buffer;
  #closed = false;
  lastError: string | undefined;

  constructor(path: string) {
    this.#addr = sockaddrUn(path);
    this.#fd = openSocket();
  }

  send(message: string): boolean {
    if (this.#closed) return false;
    const data = Buffer.from(message, 'utf8');
    const n = Number(loadLibc().sendto(this.#fd, data, data.length, 0, this.#addr, this.#addr.length));
    if (n === data.length) return true;
    this.lastError = n < 0 ? errnoName(koffi.errno()) : `short write ${n}/${data.length}`;
    return false;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    loadLibc().close(this.#fd);
  }
}

/** A bound receiving socket; `receive` returns undefined when nothing is queued (never blocks). */
export class UnixDgramReceiver {
  readonly path: string;
  readonly #fd: number;
  readonly #buf = Buffer.alloc(65536);
  #closed = false;

  constructor(path: string) {
    this.path = path;
    const addr = sockaddrUn(path);
    this.#fd = openSocket();
    if (loadLibc().bind(this.#fd, addr, addr.length) !== 0) {
      const reason = errnoName(koffi.errno());
      loadLibc().close(this.#fd);
      throw new DsrError('E_NOTIFY_SOCKET', `bind(${path}) failed: ${reason}`, { path });
    }
  }

  receive(): string | undefined {
    if (this.#closed) return undefined;
    const n = Number(loadLibc().recv(this.#fd, this.#buf, this.#buf.length, 0));
    if (n >= 0) return this.#buf.toString('utf8', 0, n);
    const errno = koffi.errno();
    if (errno === koffi.os.errno.EAGAIN) return undefined;
    throw new DsrError('E_NOTIFY_SOCKET', `recv(${this.path}) failed: ${errnoName(errno)}`, {
      path: this.path,
    });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    loadLibc().close(this.#fd);
  }
}
