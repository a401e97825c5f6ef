/**
 * A real HTTP receiver for alert delivery tests: node:http on 127.0.0.1 with a
 * scripted answer per request (status + headers, or hang: accept and never
 * answer). Records every request with its raw body.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Received {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** Date.now() when the body was complete. */
  at: number;
}

export type Answer = { status: number; headers?: Record<string, string> } | 'hang';

export class Receiver {
  readonly received: Received[] = [];
  /** Decides the answer to the n-th request (0-based); default 200. */
  answer: (req: Received, n: number) => Answer = () => ({ status: 200 });
  #server: Server | undefined;
  #sockets = new Set<Socket>();
  #hung: ServerResponse[] = [];
  #waiters: Array<() => void> = [];
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}/hook`;
  }

  /** Listens on `port` (0 = any free port). */
  async start(port = 0): Promise<this> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const r: Received = {
          method: req.method ?? '',
          path: req.url ?? '',
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          at: Date.now(),
        };
        const n = this.received.length;
        this.received.push(r);
        for (const w of this.#waiters.splice(0)) w();
        const a = this.answer(r, n);
        if (a === 'hang') {
          this.#hung.push(res);
          return;
        }
        res.writeHead(a.status, a.headers ?? {});
        res.end('ok');
      });
    });
    server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    this.#server = server;
    this.port = (server.address() as AddressInfo).port;
    return this;
  }

  /** Resolves when `count` requests have arrived; rejects after `timeoutMs`. */
  async waitFor(count: number, timeoutMs = 10_000): Promise<Received[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`receiver got ${this.received.length} of ${count} requests in ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return this.received.slice(0, count);
  }

  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (!server) return;
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** A port that was free a moment ago (listen, read, close): for "receiver down" then "up" tests. */
export async function freePort(): Promise<number> {
  const r = await new Receiver().start();
  const port = r.port;
  await r.close();
  return port;
}
