/**
 * The admin socket: a unix stream socket speaking the admin protocol (protocol.ts), with access
 * controlled by file permissions (mode 0660, group from config).
 *
 * A stale socket file (left by a daemon that died) is removed on start, but only after checking
 * that no daemon answers on it: two daemons must not fight over one director.
 */
import { chmodSync, chownSync, lstatSync, mkdirSync, statSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { DsrError } from '../core/errors.ts';
import type { Logger } from '../core/log.ts';
import { LineSplitter } from './line-splitter.ts';
import {
  ADMIN_PROTOCOL_VERSION,
  type AdminResponse,
  encodeLine,
  errorResponse,
  MAX_REQUEST_BYTES,
  parseRequest,
} from './protocol.ts';
import type { CommandRegistry } from './registry.ts';

export const DEFAULT_ADMIN_SOCKET = '/run/dsr-director/dsrd.sock';

export interface AdminServerOptions {
  path: string;
  registry: CommandRegistry;
  log: Logger;
  /** File mode of the socket; 0o660 by default. */
  mode?: number;
  /** Group id that owns the socket (its members may use dsrctl); unchanged when not given. */
  gid?: number;
  maxConnections?: number;
  /** A connection with no request in flight is closed after this long. */
  idleTimeoutMs?: number;
}

export type SocketProbe = 'absent' | 'stale' | 'alive';

/** Says whether a daemon answers on `path` (connects and closes at once). */
export function probeSocket(path: string, timeoutMs = 1000): Promise<SocketProbe> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    const timer = setTimeout(() => {
      sock.destroy();
      // A listener too busy to accept within the timeout is still a listener.
      resolve('alive');
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve('alive');
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ENOENT') resolve('absent');
      else if (err.code === 'ECONNREFUSED') resolve('stale');
      else
        reject(
          new DsrError('E_ADMIN_SOCKET', `cannot probe admin socket ${path}: ${err.code}`, { path }, err),
        );
    });
  });
}

export class AdminServer {
  readonly path: string;
  readonly #options: AdminServerOptions;
  readonly #connections = new Set<Socket>();
  readonly #aborts = new Set<AbortController>();
  #server: Server | undefined;
  #inode: number | undefined;
  /** Requests refused as malformed since start (reported in status). */
  badRequests = 0;
  requests = 0;

  constructor(options: AdminServerOptions) {
    this.path = options.path;
    this.#options = options;
  }

  async start(): Promise<void> {
    await this.#clearStaleSocket();
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o750 });
    const server = createServer((sock) => this.#onConnection(sock));
    server.maxConnections = this.#options.maxConnections ?? 32;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) =>
        reject(
          new DsrError(
            'E_ADMIN_SOCKET',
            `cannot listen on ${this.path}: ${err.code}`,
            { path: this.path },
            err,
          ),
        ),
      );
      server.listen(this.path, () => resolve());
    });
    server.on('error', (err) => this.#options.log.error({ err: err.message }, 'admin socket error'));
    this.#server = server;
    this.#inode = statSync(this.path).ino;
    try {
      // The socket is created with the process umask (root-only for writing), then opened up:
      // there is no moment where it is wider than asked.
      this.setPermissions(this.#options.mode ?? 0o660, this.#options.gid);
    } catch (e) {
      await this.stop();
      throw e;
    }
    this.#options.log.info({ path: this.path }, 'admin socket listening');
  }

  /** Sets the socket's mode and group (a reload may change them without moving the socket). */
  setPermissions(mode: number, gid: number | undefined): void {
    try {
      if (gid !== undefined) chownSync(this.path, process.getuid?.() ?? 0, gid);
      chmodSync(this.path, mode);
    } catch (e) {
      throw new DsrError('E_ADMIN_SOCKET', `cannot set owner/mode of ${this.path}: ${(e as Error).message}`, {
        path: this.path,
        gid,
      });
    }
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const a of this.#aborts) a.abort();
    for (const c of this.#connections) c.destroy();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
    // Remove the file only if it is still the one we made (another daemon may have replaced it).
    try {
      if (this.#inode !== undefined && statSync(this.path).ino === this.#inode) unlinkSync(this.path);
    } catch {
      // already gone
    }
    this.#inode = undefined;
  }

  get connections(): number {
    return this.#connections.size;
  }

  async #clearStaleSocket(): Promise<void> {
    let st: ReturnType<typeof lstatSync>;
    try {
      st = lstatSync(this.path);
    } catch {
      return;
    }
    if (!st.isSocket()) {
      throw new DsrError('E_ADMIN_SOCKET', `${this.path} exists and is not a socket; refusing to remove it`, {
        path: this.path,
      });
    }
    const probe = await probeSocket(this.path);
    if (probe === 'alive') {
      throw new DsrError(
        'E_ADMIN_SOCKET',
        `another dsrd answers on ${this.path}; stop it first (two daemons must not run one director)`,
        { path: this.path },
      );
    }
    if (probe === 'stale') {
      unlinkSync(this.path);
      this.#options.log.warn({ path: this.path }, 'removed stale admin socket left by a previous run');
    }
  }

  #onConnection(sock: Socket): void {
    this.#connections.add(sock);
    const abort = new AbortController();
    this.#aborts.add(abort);
    const splitter = new LineSplitter(MAX_REQUEST_BYTES);
    let inFlight = 0;
    const send = (line: string): void => {
      if (!sock.destroyed && sock.writable) sock.write(line);
    };
    const respond = (response: AdminResponse): void => {
      if (!response.ok) this.badRequests += response.error.code === 'E_ADMIN_REQUEST' ? 1 : 0;
      let line: string;
      try {
        line = encodeLine(response);
      } catch (e) {
        // A handler returned something JSON cannot carry (a BigInt, a cycle): a bug, not a crash.
        line = encodeLine(
          errorResponse(response.id, new Error(`result not serialisable: ${(e as Error).message}`)),
        );
      }
      send(line);
    };
    sock.setTimeout(this.#options.idleTimeoutMs ?? 300_000);
    sock.on('timeout', () => {
      if (inFlight === 0) sock.destroy();
    });
    sock.on('error', () => {
      // A client that goes away mid-answer is not our problem; 'close' cleans up.
    });
    sock.on('close', () => {
      abort.abort();
      this.#aborts.delete(abort);
      this.#connections.delete(sock);
    });
    sock.on('data', (chunk: Buffer) => {
      for (const item of splitter.push(chunk)) {
        if (item.kind === 'overflow') {
          respond(
            errorResponse(
              null,
              new DsrError(
                'E_ADMIN_REQUEST',
                `request line longer than ${MAX_REQUEST_BYTES} bytes; dropped`,
                {
                  bytes: item.bytes,
                },
              ),
            ),
          );
          continue;
        }
        if (item.line.trim() === '') continue;
        const parsed = parseRequest(item.line);
        if (!parsed.ok) {
          respond(parsed.response);
          continue;
        }
        const request = parsed.request;
        this.requests++;
        inFlight++;
        const ctx = {
          signal: abort.signal,
          progress: (event: unknown) => {
            try {
              send(encodeLine({ v: ADMIN_PROTOCOL_VERSION, id: request.id, event }));
            } catch {
              // an unserialisable progress event is dropped; the final response still comes
            }
          },
        };
        void this.#options.registry.dispatch(request, ctx).then((response) => {
          inFlight--;
          respond(response);
        });
      }
    });
  }
}
