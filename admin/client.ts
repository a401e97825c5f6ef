/**
 * Client side of the admin socket (used by dsrctl and by tests). One connection, many calls,
 * responses matched by id; progress events go to the caller's callback. A call to a catalogue
 * command (catalogue/commands.ts) takes its arguments and answers with its result type.
 */
import { createConnection, type Socket } from 'node:net';
import { DsrError } from '../core/errors.ts';
import type { ArgsOf, CommandName, ProgressOf, ResultOf } from './catalogue/commands.ts';
import { LineSplitter } from './line-splitter.ts';
import {
  ADMIN_PROTOCOL_VERSION,
  type AdminResponse,
  encodeLine,
  errorFromBody,
  parseServerLine,
  type RequestId,
} from './protocol.ts';

/** Responses can be large (a full connection listing); far more than a request. */
const MAX_RESPONSE_BYTES = 64 * 1024 * 1024;

export interface CallOptions<Progress = unknown> {
  onEvent?(event: Progress): void;
  /** Fails the call with E_TIMEOUT after this long; none by default. */
  timeoutMs?: number;
}

interface Pending {
  resolve: (response: AdminResponse) => void;
  reject: (err: Error) => void;
  onEvent?: (event: unknown) => void;
}

function unreachable(path: string, err: NodeJS.ErrnoException): DsrError {
  const why: Record<string, string> = {
    ENOENT: `dsrd is not running: no admin socket at ${path}`,
    ECONNREFUSED: `dsrd is not running: ${path} exists but nobody answers on it (left by a stopped daemon)`,
    EACCES: `permission denied on ${path}: run as root or as a member of the admin socket's group`,
    ENOTSOCK: `${path} is not a socket`,
  };
  const message = why[err.code ?? ''] ?? `cannot connect to ${path}: ${err.code ?? err.message}`;
  return new DsrError('E_DAEMON_UNREACHABLE', message, { path, errno: err.code ?? null }, err);
}

export class AdminClient {
  readonly path: string;
  readonly #sock: Socket;
  readonly #pending = new Map<RequestId, Pending>();
  #nextId = 1;
  #closedError: Error | undefined;

  private constructor(path: string, sock: Socket) {
    this.path = path;
    this.#sock = sock;
    const splitter = new LineSplitter(MAX_RESPONSE_BYTES);
    sock.on('data', (chunk: Buffer) => {
      for (const item of splitter.push(chunk)) {
        if (item.kind === 'overflow') {
          this.#failAll(
            new DsrError('E_DECODE', `the daemon sent a line longer than ${MAX_RESPONSE_BYTES} bytes`),
          );
          sock.destroy();
          return;
        }
        this.#onLine(item.line);
      }
    });
    sock.on('error', (err) => this.#failAll(err));
    sock.on('close', () =>
      this.#failAll(
        new DsrError('E_DAEMON_UNREACHABLE', `dsrd closed the admin connection (${path})`, { path }),
      ),
    );
  }

  static connect(path: string, timeoutMs = 5000): Promise<AdminClient> {
    return new Promise((resolve, reject) => {
      const sock = createConnection(path);
      const timer = setTimeout(() => {
        sock.destroy();
        reject(
          new DsrError(
            'E_DAEMON_UNREACHABLE',
            `dsrd did not accept a connection on ${path} within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      sock.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(unreachable(path, err));
      });
      sock.once('connect', () => {
        clearTimeout(timer);
        sock.removeAllListeners('error');
        resolve(new AdminClient(path, sock));
      });
    });
  }

  /** Runs one command; resolves with its result or rejects with the daemon's error as a DsrError. */
  call<N extends CommandName>(
    cmd: N,
    args: ArgsOf<N>,
    options?: CallOptions<ProgressOf<N>>,
  ): Promise<ResultOf<N>>;
  /** A command outside the catalogue (tests), or arguments it would refuse: the result is unknown. */
  call(cmd: string, args?: Record<string, unknown>, options?: CallOptions): Promise<unknown>;
  call(cmd: string, args: Record<string, unknown> = {}, options: CallOptions = {}): Promise<unknown> {
    if (this.#closedError !== undefined) return Promise.reject(this.#closedError);
    const id = this.#nextId++;
    return new Promise<unknown>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      if (options.timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.#pending.delete(id);
          reject(
            new DsrError('E_TIMEOUT', `dsrd did not answer "${cmd}" within ${options.timeoutMs} ms`, { cmd }),
          );
        }, options.timeoutMs);
      }
      this.#pending.set(id, {
        onEvent: options.onEvent,
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
        resolve: (response) => {
          clearTimeout(timer);
          if (response.ok) resolve(response.result);
          else reject(errorFromBody(response.error));
        },
      });
      this.#sock.write(encodeLine({ v: ADMIN_PROTOCOL_VERSION, id, cmd, args }));
    });
  }

  close(): void {
    this.#sock.end();
    this.#sock.destroy();
  }

  #onLine(line: string): void {
    if (line.trim() === '') return;
    let message: ReturnType<typeof parseServerLine>;
    try {
      message = parseServerLine(line);
    } catch (err) {
      this.#failAll(err as Error);
      this.#sock.destroy();
      return;
    }
    if (message.kind === 'progress') {
      this.#pending.get(message.progress.id)?.onEvent?.(message.progress.event);
      return;
    }
    const { response } = message;
    if (response.id === null) {
      // The daemon could not read one of our requests well enough to name it: fail everything,
      // since we cannot tell which call it was.
      this.#failAll(
        response.ok ? new DsrError('E_DECODE', 'response without id') : errorFromBody(response.error),
      );
      return;
    }
    const pending = this.#pending.get(response.id);
    if (pending === undefined) return;
    this.#pending.delete(response.id);
    pending.resolve(response);
  }

  #failAll(err: Error): void {
    this.#closedError ??= err;
    for (const p of this.#pending.values()) p.reject(err);
    this.#pending.clear();
  }
}

/** Connects, runs one command, closes. */
export function callDaemon<N extends CommandName>(
  path: string,
  cmd: N,
  args: ArgsOf<N>,
  options?: CallOptions<ProgressOf<N>>,
): Promise<ResultOf<N>>;
export function callDaemon(
  path: string,
  cmd: string,
  args?: Record<string, unknown>,
  options?: CallOptions,
): Promise<unknown>;
export async function callDaemon(
  path: string,
  cmd: string,
  args: Record<string, unknown> = {},
  options: CallOptions = {},
): Promise<unknown> {
  const client = await AdminClient.connect(path);
  try {
    return await client.call(cmd, args, options);
  } finally {
    client.close();
  }
}
