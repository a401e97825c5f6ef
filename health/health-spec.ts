/**
 * The input of the health part: services, their real servers and the checks of each, with every
 * default applied. health/from-config.ts builds it from the daemon's Config; tests build it directly.
 */
import type { CheckSpec } from './check-spec.ts';
import type { DampingConfig } from './flap-damping.ts';
import type { Health } from './target-health.ts';

export interface HealthRealServerSpec {
  /** Stable name of the real server; its address unless the config names it otherwise. */
  id: string;
  /** Where the checks go. */
  address: string;
  weight: number;
  /** All must pass for the real server to be up; none: always up. */
  checks: CheckSpec[];
}

export interface HealthServiceSpec {
  name: string;
  /** The service port; checks without a port of their own probe this one. 0 = all ports. */
  port: number;
  /** The service is down while fewer real servers than this can take new flows. */
  minHealthy: number;
  /** Quorum hysteresis (see service-health.ts). Default 0. */
  hysteresis?: number;
  /** Receives new flows while the service is down; null = none. */
  sorryServer?: string | null;
  sorryWeight?: number;
  /** Default drain timeout for this service's real servers (0 = none). */
  drainTimeoutMs: number;
  /** Whether a drain also refuses new persistence entries (config `drain.keep_persistence: false`). */
  drainStopsPersistence: boolean;
  realServers: HealthRealServerSpec[];
}

export interface HealthSpec {
  services: HealthServiceSpec[];
  /** Flap damping for every target; null = off. Default DEFAULT_DAMPING. */
  damping?: DampingConfig | null;
  /** Status of a target before its first result (see target-health.ts). Default 'unknown'. */
  initial?: Health;
}
