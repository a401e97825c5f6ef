/**
 * Builds the checker for a check spec. Everything that can be wrong with a spec (a bad regex, a bad
 * DNS name, an empty argv) is found here, once, as a DsrError naming the check, so a reload with a
 * bad check is refused before anything changes.
 */
import { DsrError } from '../../core/errors.ts';
import { type CheckSpec, resolveTiming } from '../check-spec.ts';
import type { Checker } from '../checker.ts';
import { DnsChecker } from './dns-checker.ts';
import { ExecChecker } from './exec-checker.ts';
import { HttpChecker } from './http-checker.ts';
import { TcpChecker } from './tcp-checker.ts';
import { UdpChecker } from './udp-checker.ts';

export type CheckerFactory = (spec: CheckSpec) => Checker;

export const createChecker: CheckerFactory = (spec) => {
  const { timeoutMs } = resolveTiming(spec);
  if (!(timeoutMs > 0)) throw invalid(spec, 'timeout must be > 0 ms');
  try {
    switch (spec.kind) {
      case 'tcp':
        return new TcpChecker(spec, timeoutMs);
      case 'http':
      case 'https':
        return new HttpChecker(spec, timeoutMs);
      case 'udp':
        return new UdpChecker(spec, timeoutMs);
      case 'dns':
        return new DnsChecker(spec, timeoutMs);
      case 'exec':
        return new ExecChecker(spec, timeoutMs);
      default:
        throw new Error(`unknown check kind ${JSON.stringify((spec as { kind: unknown }).kind)}`);
    }
  } catch (err) {
    if (err instanceof DsrError) throw err;
    throw invalid(spec, err instanceof Error ? err.message : String(err), err);
  }
};

function invalid(spec: CheckSpec, reason: string, cause?: unknown): DsrError {
  return new DsrError(
    'E_CONFIG_INVALID',
    `health check (${spec.kind}): ${reason}`,
    { kind: spec.kind },
    cause,
  );
}
