/** Public surface of the metrics part. */
export { DsrMetrics, type DsrMetricsOptions, type MetricsLogger, type ScrapeResult } from './dsr-metrics.ts';
export { type AnyFamily, FAMILIES } from './families.ts';
export {
  DEFAULT_METRICS_HOST,
  DEFAULT_METRICS_PATH,
  type MetricsServer,
  type MetricsServerOptions,
  startMetricsServer,
} from './server.ts';
export type {
  AlertsSnapshot,
  DirectorRole,
  ElectionSnapshot,
  EventLoopSnapshot,
  ForwarderSnapshot,
  HealthSnapshot,
  InfoSnapshot,
  Provider,
  ProviderName,
  Snapshots,
  SyncSnapshot,
} from './snapshots.ts';
