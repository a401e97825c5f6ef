/**
 * What a health check asks and how often: the input the health part takes from the config.
 *
 * The config loader (config/) maps its YAML onto these types; the defaults live here so the daemon,
 * status output and tests agree on them.
 */

/** Scheduling and rise/fall, common to every kind. */
export interface CheckTiming {
  /** Time between the starts of two checks of one target (ms). Default 2000. */
  intervalMs?: number;
  /** Hard limit on one check (ms). Default min(interval, 1000). */
  timeoutMs?: number;
  /** Consecutive successes that bring a down target up. Default 2. */
  rise?: number;
  /** Consecutive failures that bring an up target down. Default 3. */
  fall?: number;
}

export interface TcpCheckSpec extends CheckTiming {
  kind: 'tcp';
  /** Port to connect to; default: the service port. */
  port?: number;
  /** Local address to send from (the director's own address, not the VIP). */
  source?: string;
}

export interface HttpCheckSpec extends CheckTiming {
  kind: 'http' | 'https';
  port?: number;
  source?: string;
  /** Default GET. HEAD is useful when the body does not matter. */
  method?: string;
  /** Default '/'. */
  path?: string;
  /** Host header; for https also the SNI name and the name the certificate must match. */
  host?: string;
  /** SNI name when it must differ from `host`. */
  sni?: string;
  /** Inclusive range of acceptable statuses. Default [200, 399]. */
  expectStatus?: [number, number];
  /** A regular expression the first `maxBodyBytes` of the body must match. */
  bodyRegex?: string;
  /** Bytes of body read for the regex (default 65536); the rest is not read. */
  maxBodyBytes?: number;
  /** https only: do not verify the certificate chain or name. Off by default. */
  tlsSkipVerify?: boolean;
  /** https only: PEM CA bundle to verify against instead of the system store. */
  tlsCa?: string;
}

export interface UdpCheckSpec extends CheckTiming {
  kind: 'udp';
  port?: number;
  source?: string;
  /** Datagram to send, as text (`payloadHex` wins when both are given). */
  payload?: string;
  payloadHex?: string;
  /** Regular expression the reply (decoded as latin1 so every byte maps) must match. */
  expectRegex?: string;
}

export const DNS_TYPES = {
  A: 1,
  NS: 2,
  CNAME: 5,
  SOA: 6,
  PTR: 12,
  MX: 15,
  TXT: 16,
  AAAA: 28,
  SRV: 33,
} as const;
export type DnsTypeName = keyof typeof DNS_TYPES;

export interface DnsCheckSpec extends CheckTiming {
  kind: 'dns';
  /** Default 53. */
  port?: number;
  source?: string;
  /** Name to query, e.g. 'www.example.com'. */
  name: string;
  /** Default 'A'. */
  qtype?: DnsTypeName;
  /** Response codes counted healthy (RFC 1035 4.1.1 RCODE). Default [0] (NOERROR). */
  expectRcodes?: number[];
  /** When set, one answer of type `qtype` must equal this (address, name or TXT text). */
  expectAnswer?: string;
  /** Set RD (recursion desired). Default false: we ask the server about its own data. */
  recursion?: boolean;
}

export interface ExecCheckSpec extends CheckTiming {
  kind: 'exec';
  /**
   * Program and arguments, run without a shell. The tokens `{address}` and `{port}` inside any
   * argument are replaced by the target's; no other expansion happens, so nothing can be injected.
   */
  argv: string[];
  /** Extra environment (the check also gets DSR_RS_ADDRESS and DSR_RS_PORT). */
  env?: Record<string, string>;
  /** Exit code counted healthy. Default 0. */
  expectExit?: number;
}

export type CheckSpec = TcpCheckSpec | HttpCheckSpec | UdpCheckSpec | DnsCheckSpec | ExecCheckSpec;

export interface ResolvedTiming {
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
}

export const DEFAULT_TIMING: ResolvedTiming = { intervalMs: 2000, timeoutMs: 1000, rise: 2, fall: 3 };

/** Fills the defaults in; the timeout never exceeds the interval unless asked for explicitly. */
export function resolveTiming(spec: CheckTiming): ResolvedTiming {
  const intervalMs = spec.intervalMs ?? DEFAULT_TIMING.intervalMs;
  const timeoutMs = spec.timeoutMs ?? Math.min(DEFAULT_TIMING.timeoutMs, intervalMs);
  return {
    intervalMs,
    timeoutMs,
    rise: spec.rise ?? DEFAULT_TIMING.rise,
    fall: spec.fall ?? DEFAULT_TIMING.fall,
  };
}
