/**
 * The dsrd metrics registry.
 *
 * Parts register a provider per area (`setProvider('forwarder', () => ...)`).
 * A scrape first calls each registered provider once (in parallel, each with a
 * time limit), turns the snapshots into samples, and only then renders the
 * prom-client registry, whose gauge and counter `collect()` callbacks copy
 * those samples in. So one scrape reads each part once, per-CPU BPF counters
 * are summed when Prometheus asks (never polled), and concurrent scrapes share
 * one collection.
 *
 * A provider that throws, times out or returns a bad value makes its families
 * disappear from that scrape (stale numbers are worse than none) and counts in
 * dsr_metrics_provider_errors_total{provider,kind}.
 */
import { Counter, collectDefaultMetrics, Gauge, Registry } from 'prom-client';
import { type AnyFamily, FAMILIES, type Sample } from './families.ts';
import { PROVIDER_NAMES, type Provider, type ProviderName, type Snapshots } from './snapshots.ts';

export interface MetricsLogger {
  warn(obj: object, msg: string): void;
}

export interface DsrMetricsOptions {
  /** Also export prom-client's process_* and nodejs_* metrics (default true). */
  defaultMetrics?: boolean;
  /** A provider slower than this is skipped for the scrape (default 2000 ms). */
  providerTimeoutMs?: number;
  logger?: MetricsLogger;
}

export interface ScrapeResult {
  contentType: string;
  body: string;
}

type ErrorKind = 'error' | 'timeout' | 'invalid_sample';

export class DsrMetrics {
  readonly registry = new Registry();
  readonly #providers = new Map<ProviderName, Provider<ProviderName>>();
  readonly #samples = new Map<string, Sample[]>();
  readonly #errors: Counter<'provider' | 'kind'>;
  readonly #timeoutMs: number;
  readonly #log: MetricsLogger | undefined;
  #scraping: Promise<ScrapeResult> | undefined;

  constructor(options: DsrMetricsOptions = {}) {
    this.#timeoutMs = options.providerTimeoutMs ?? 2000;
    this.#log = options.logger;
    this.#errors = new Counter({
      name: 'dsr_metrics_provider_errors_total',
      help: 'Scrapes in which a part could not give its metrics, by part and kind (error, timeout, invalid_sample).',
      labelNames: ['provider', 'kind'],
      registers: [this.registry],
    });
    for (const f of FAMILIES) this.#define(f);
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /** Registers (or, with undefined, removes) the provider of one area. */
  setProvider<P extends ProviderName>(name: P, provider: Provider<P> | undefined): void {
    if (!PROVIDER_NAMES.includes(name)) throw new RangeError(`unknown metrics provider "${name}"`);
    if (provider) this.#providers.set(name, provider as Provider<ProviderName>);
    else this.#providers.delete(name);
  }

  /** The exposition text for one scrape. Concurrent calls share one collection. */
  scrape(): Promise<ScrapeResult> {
    this.#scraping ??= this.#collect().finally(() => {
      this.#scraping = undefined;
    });
    return this.#scraping;
  }

  #define(f: AnyFamily): void {
    const samples = this.#samples;
    const config = { name: f.name, help: f.help, labelNames: [...f.labelNames], registers: [this.registry] };
    if (f.type === 'gauge') {
      new Gauge({
        ...config,
        collect() {
          this.reset();
          const list = samples.get(f.name) ?? [];
          for (const [labels, v] of list) this.set(labels, v);
          if (list.length === 0 && f.labelNames.length === 0) this.remove();
        },
      });
    } else {
      new Counter({
        ...config,
        collect() {
          this.reset();
          const list = samples.get(f.name) ?? [];
          for (const [labels, v] of list) this.inc(labels, v);
          if (list.length === 0 && f.labelNames.length === 0) this.remove();
        },
      });
    }
  }

  async #collect(): Promise<ScrapeResult> {
    const names = [...this.#providers.keys()];
    const snapshots = await Promise.all(names.map((n) => this.#call(n)));
    const byProvider = new Map<ProviderName, unknown>();
    names.forEach((n, i) => {
      if (snapshots[i] !== undefined) byProvider.set(n, snapshots[i]);
    });
    this.#samples.clear();
    const invalid = new Set<ProviderName>();
    for (const f of FAMILIES) {
      const snapshot = byProvider.get(f.provider);
      if (snapshot === undefined) continue;
      try {
        const list: Sample[] = [];
        for (const s of (f.samples as (x: unknown) => Iterable<Sample>)(snapshot)) {
          if (validSample(s, f.type)) list.push(s);
          else invalid.add(f.provider);
        }
        this.#samples.set(f.name, list);
      } catch (e) {
        this.#fail(f.provider, 'invalid_sample', e);
      }
    }
    for (const p of invalid)
      this.#fail(p, 'invalid_sample', new Error('non-finite or negative counter value'));
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }

  async #call(name: ProviderName): Promise<Snapshots[ProviderName] | undefined> {
    const provider = this.#providers.get(name)!;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.#timeoutMs);
    });
    try {
      const r = await Promise.race([Promise.resolve().then(provider), timeout]);
      if (r === 'timeout') {
        this.#fail(name, 'timeout', new Error(`no answer in ${this.#timeoutMs} ms`));
        return undefined;
      }
      if (typeof r !== 'object' || r === null) {
        this.#fail(name, 'invalid_sample', new Error('provider returned no object'));
        return undefined;
      }
      return r;
    } catch (e) {
      this.#fail(name, 'error', e);
      return undefined;
    } finally {
      clearTimeout(timer);
    }
  }

  #fail(provider: ProviderName, kind: ErrorKind, e: unknown): void {
    this.#errors.inc({ provider, kind });
    this.#log?.warn({ provider, kind, err: (e as Error)?.message }, 'metrics provider failed during scrape');
  }
}

function validSample(s: Sample, type: 'gauge' | 'counter'): boolean {
  const v = s[1];
  if (typeof v !== 'number' || Number.isNaN(v)) return false;
  for (const l of Object.values(s[0])) if (typeof l !== 'string') return false;
  if (type === 'counter') return v >= 0 && v !== Number.POSITIVE_INFINITY;
  return true;
}
