/**
 * The Prometheus endpoint as a daemon part. The registry (DsrMetrics) exists from construction,
 * so the parts built after this one can register their providers (metrics.setProvider(...)) in
 * their own start(); the HTTP server starts here when `metrics.enabled`.
 */

import type { MetricsConfig } from '../../config/index.ts';
import { configFingerprint } from '../../config/index.ts';
import type { Logger } from '../../core/log.ts';
import { type ConfigChange, touches } from '../change.ts';
import type { DaemonPart, PartContext } from '../part.ts';
import { DsrMetrics, type MetricsServer, startMetricsServer } from './index.ts';

export class MetricsPart implements DaemonPart {
  readonly name = 'metrics';
  readonly metrics: DsrMetrics;
  readonly #version: string;
  #log: Logger | undefined;
  #server: MetricsServer | undefined;

  constructor(version: string) {
    this.#version = version;
    this.metrics = new DsrMetrics({ logger: { warn: (obj, msg) => this.#log?.warn(obj, msg) } });
  }

  async start(ctx: PartContext): Promise<void> {
    this.#log = ctx.log;
    this.metrics.setProvider('info', () => {
      const c = ctx.currentConfig();
      return { node: c.node.id, version: this.#version, configFingerprint: configFingerprint(c) };
    });
    this.metrics.setProvider('eventLoop', () => {
      const s = ctx.eventLoop.status();
      return {
        delay: { meanMs: s.delay.meanMs, p50Ms: s.delay.p50Ms, p99Ms: s.delay.p99Ms, maxMs: s.delay.maxMs },
        stalls: s.stalls,
      };
    });
    await this.#listen(ctx.config.metrics);
  }

  async #listen(m: MetricsConfig): Promise<void> {
    if (!m.enabled) return;
    this.#server = await startMetricsServer(this.metrics, {
      host: m.host,
      port: m.port,
      path: m.path,
      logger: this.#log,
    });
    this.#log?.info({ url: this.#server.url }, 'metrics endpoint listening');
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    await server?.close();
    this.metrics.setProvider('info', undefined);
    this.metrics.setProvider('eventLoop', undefined);
  }

  affectedBy(change: ConfigChange): boolean {
    return touches(change, 'metrics');
  }

  /** Moves the endpoint: the old one closes first (the new address may be the same port). */
  async reload(change: ConfigChange): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    await server?.close();
    await this.#listen(change.next.metrics);
  }

  status(): unknown {
    return { url: this.#server?.url ?? null };
  }
}
