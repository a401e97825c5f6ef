/**
 * Small real servers on loopback for the checker tests: each listens on an ephemeral port, counts
 * its open connections (so a test can prove a checker closed its socket) and closes on teardown.
 */
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { type AddressInfo, createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';

export interface Tracked {
  port: number;
  /** Connections currently open on the server side. */
  open(): number;
  /** Resolves when no connection is open (immediately if none is). */
  allClosed(): Promise<void>;
  close(): Promise<void>;
}

function track(server: Server): Pick<Tracked, 'open' | 'allClosed'> & { sockets: Set<Socket> } {
  const sockets = new Set<Socket>();
  let waiters: (() => void)[] = [];
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('error', () => {});
    s.on('close', () => {
      sockets.delete(s);
      if (sockets.size === 0) {
        for (const w of waiters) w();
        waiters = [];
      }
    });
  });
  return {
    sockets,
    open: () => sockets.size,
    allClosed: () => (sockets.size === 0 ? Promise.resolve() : new Promise((r) => waiters.push(r))),
  };
}

async function listen(server: Server, host: string): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

function closer(server: Server, sockets: Set<Socket>): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
}

/** Accepts connections; `hang` keeps them open without a word, otherwise the server closes them. */
export async function tcpServer(host: string, opts: { hang?: boolean } = {}): Promise<Tracked> {
  const server = createTcpServer((s) => {
    // Read and discard what the client sends, so its FIN is seen and the close is tracked.
    s.resume();
    if (!opts.hang) s.end();
  });
  const t = track(server);
  const port = await listen(server, host);
  return { port, open: t.open, allClosed: t.allClosed, close: closer(server, t.sockets) };
}

/** A port nothing listens on: bound once to get a free number, then released. */
export async function closedPort(host: string): Promise<number> {
  const server = createTcpServer();
  const port = await listen(server, host);
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

export interface SeenRequest {
  method: string;
  url: string;
  host: string | undefined;
  servername: string | undefined;
}

export type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export async function httpServer(
  host: string,
  handler: Handler,
  tls?: { key: string; cert: string },
): Promise<Tracked & { seen: SeenRequest[] }> {
  const seen: SeenRequest[] = [];
  const wrapped: Handler = (req, res) => {
    const sock = req.socket as Partial<TLSSocket>;
    const servername = typeof sock.servername === 'string' ? sock.servername : undefined;
    seen.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host, servername });
    handler(req, res);
  };
  const server = tls
    ? createHttpsServer({ key: tls.key, cert: tls.cert }, wrapped)
    : createHttpServer(wrapped);
  // A TLS server reports raw TCP connections on 'connection' too, so tracking works for both.
  const t = track(server);
  server.on('tlsClientError', () => {});
  const port = await listen(server, host);
  return { port, seen, open: t.open, allClosed: t.allClosed, close: closer(server, t.sockets) };
}

/** A self-signed certificate for localhost / 127.0.0.1 / ::1, made by openssl now; null without it. */
export function selfSignedCert(): { key: string; cert: string } | null {
  const dir = mkdtempSync(join(tmpdir(), 'dsr-health-tls-'));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return {
      key: readFileSync(join(dir, 'key.pem'), 'utf8'),
      cert: readFileSync(join(dir, 'cert.pem'), 'utf8'),
    };
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface UdpServer {
  port: number;
  received(): number;
  close(): Promise<void>;
}

/** A UDP server that answers each datagram with `reply(msg)`, or stays silent when it returns null. */
export async function udpServer(host: string, reply: (msg: Buffer) => Buffer | null): Promise<UdpServer> {
  const socket: UdpSocket = createSocket(host.includes(':') ? 'udp6' : 'udp4');
  let received = 0;
  socket.on('message', (msg, rinfo) => {
    received++;
    const out = reply(msg);
    if (out) socket.send(out, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, host, () => resolve());
  });
  return {
    port: socket.address().port,
    received: () => received,
    close: () => new Promise((r) => socket.close(() => r())),
  };
}

/** A free UDP port with nothing bound to it (the kernel answers ICMP port unreachable). */
export async function closedUdpPort(host: string): Promise<number> {
  const s = await udpServer(host, () => null);
  const port = s.port;
  await s.close();
  return port;
}
