/**
 * The metrics HTTP endpoint (node:http): GET or HEAD on the metrics path gives
 * the exposition text; any other path is 404, any other method 405.
 *
 * It binds to loopback unless told otherwise, and is bounded so a slow or
 * hostile client cannot tie the daemon up: few connections, short header and
 * request time limits, small headers, and request bodies are never read.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DsrError } from '../../core/errors.ts';
import type { DsrMetrics, MetricsLogger } from './dsr-metrics.ts';

export const DEFAULT_METRICS_HOST = '127.0.0.1';
export const DEFAULT_METRICS_PATH = '/metrics';

export interface MetricsServerOptions {
  host?: string;
  /** 0 picks a free port (tests). */
  port: number;
  path?: string;
  maxConnections?: number;
  logger?: MetricsLogger;
}

export interface MetricsServer {
  readonly host: string;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

function reply(
  res: ServerResponse,
  status: number,
  text: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...headers });
  res.end(text);
}

export async function startMetricsServer(
  metrics: DsrMetrics,
  options: MetricsServerOptions,
): Promise<MetricsServer> {
  const host = options.host ?? DEFAULT_METRICS_HOST;
  const path = options.path ?? DEFAULT_METRICS_PATH;
  const server: Server = createServer(
    { maxHeaderSize: 8192, requestTimeout: 10_000, headersTimeout: 5_000, keepAliveTimeout: 5_000 },
    (req: IncomingMessage, res: ServerResponse) => {
      // Prometheus never sends a body; do not read one, and do not keep such a connection.
      if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) {
        res.shouldKeepAlive = false;
      }
      const target = (req.url ?? '').split('?')[0];
      if (target !== path) return reply(res, 404, 'not found\n');
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return reply(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
      metrics.scrape().then(
        (r) => {
          res.writeHead(200, { 'content-type': r.contentType, 'content-length': Buffer.byteLength(r.body) });
          res.end(req.method === 'HEAD' ? undefined : r.body);
        },
        (e: unknown) => {
          options.logger?.warn({ err: (e as Error).message }, 'metrics scrape failed');
          reply(res, 500, 'scrape failed\n');
        },
      );
    },
  );
  server.maxConnections = options.maxConnections ?? 16;
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    throw new DsrError(
      'E_METRICS_LISTEN',
      `metrics endpoint cannot listen on ${host}:${options.port}: ${(e as Error).message}`,
      { host, port: options.port },
      e,
    );
  }
  server.on('error', (e) => options.logger?.warn({ err: e.message }, 'metrics endpoint error'));
  const addr = server.address() as AddressInfo;
  const urlHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    host: addr.address,
    port: addr.port,
    url: `http://${urlHost}:${addr.port}${path}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
