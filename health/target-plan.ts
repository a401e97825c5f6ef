/**
 * Turns a HealthSpec into the set of check targets to run, validating everything on the way.
 *
 * A target is one probe of one address: (address, port, what is asked). Two services that check
 * the same real server the same way share one target, so it is probed once. Timing (interval,
 * timeout, rise, fall) is not part of a target's identity: a reload that only changes timing keeps
 * the target and its health.
 *
 * Every problem is a DsrError E_CONFIG_INVALID naming the service and real server, raised before
 * anything runs, so a bad reload leaves the running checks untouched.
 */
import { DsrError } from '../core/errors.ts';
import { type CheckSpec, type ResolvedTiming, resolveTiming } from './check-spec.ts';
import type { Checker } from './checker.ts';
import type { CheckerFactory } from './checkers/create-checker.ts';
import { validateDamping } from './flap-damping.ts';
import type { HealthServiceSpec, HealthSpec } from './health-spec.ts';
import { validateTargetConfig } from './target-health.ts';

export interface PlannedTarget {
  key: string;
  /** address and port only: a changed probe of the same place inherits the old verdict. */
  place: string;
  address: string;
  port: number;
  kind: CheckSpec['kind'];
  timing: ResolvedTiming;
  checker: Checker;
}

export interface PlannedService {
  spec: HealthServiceSpec;
  /** Real server id -> keys of its targets (empty: no checks, always up). */
  rsTargets: Map<string, string[]>;
}

export interface Plan {
  targets: Map<string, PlannedTarget>;
  services: Map<string, PlannedService>;
}

const TIMING_FIELDS = new Set(['intervalMs', 'timeoutMs', 'rise', 'fall']);
const PORT_OPTIONAL: ReadonlySet<string> = new Set(['exec', 'dns']);

function invalid(message: string, context: Record<string, unknown>): DsrError {
  return new DsrError('E_CONFIG_INVALID', message, context);
}

function probeKey(address: string, port: number, spec: CheckSpec): string {
  const probe = Object.fromEntries(
    Object.entries(spec)
      .filter(([k, v]) => !TIMING_FIELDS.has(k) && v !== undefined)
      .sort(([a], [b]) => a.localeCompare(b)),
  );
  return JSON.stringify([address, port, probe]);
}

function checkPort(svc: HealthServiceSpec, spec: CheckSpec): number {
  const own = 'port' in spec ? spec.port : undefined;
  if (own !== undefined) return own;
  if (spec.kind === 'dns' && svc.port === 0) return 53;
  return svc.port;
}

function validateService(svc: HealthServiceSpec, names: Set<string>): void {
  const where = { service: svc.name };
  if (!svc.name) throw invalid('a service has no name', where);
  if (names.has(svc.name)) throw invalid(`service ${svc.name} is listed twice`, where);
  names.add(svc.name);
  if (!Number.isInteger(svc.minHealthy) || svc.minHealthy < 0) {
    throw invalid(`service ${svc.name}: min healthy must be a whole number >= 0`, where);
  }
  const h = svc.hysteresis ?? 0;
  if (!Number.isInteger(h) || h < 0)
    throw invalid(`service ${svc.name}: quorum hysteresis must be >= 0`, where);
  if (!Number.isInteger(svc.drainTimeoutMs) || svc.drainTimeoutMs < 0) {
    throw invalid(`service ${svc.name}: drain timeout must be >= 0`, where);
  }
  const ids = new Set<string>();
  for (const rs of svc.realServers) {
    if (ids.has(rs.id)) throw invalid(`service ${svc.name}: real server ${rs.id} is listed twice`, where);
    ids.add(rs.id);
    if (!Number.isInteger(rs.weight) || rs.weight < 0 || rs.weight > 65535) {
      throw invalid(`service ${svc.name}: real server ${rs.id} weight must be 0-65535`, {
        ...where,
        rs: rs.id,
      });
    }
  }
}

export function planTargets(spec: HealthSpec, factory: CheckerFactory): Plan {
  if (spec.damping) {
    const problem = validateDamping(spec.damping);
    if (problem) throw invalid(`health damping: ${problem}`, {});
  }
  const targets = new Map<string, PlannedTarget>();
  const services = new Map<string, PlannedService>();
  const names = new Set<string>();
  for (const svc of spec.services) {
    validateService(svc, names);
    const rsTargets = new Map<string, string[]>();
    for (const rs of svc.realServers) {
      const keys: string[] = [];
      for (const check of rs.checks) {
        const where = { service: svc.name, rs: rs.id, kind: check.kind };
        const port = checkPort(svc, check);
        if (!PORT_OPTIONAL.has(check.kind) && !(port >= 1 && port <= 65535)) {
          throw invalid(
            `service ${svc.name}: the ${check.kind} check of ${rs.id} needs a port (the service has none)`,
            where,
          );
        }
        const timing = resolveTiming(check);
        const problem = validateTargetConfig({ rise: timing.rise, fall: timing.fall, damping: null });
        if (problem) throw invalid(`service ${svc.name}: check of ${rs.id}: ${problem}`, where);
        if (!(timing.intervalMs > 0)) throw invalid(`service ${svc.name}: check interval must be > 0`, where);
        const key = probeKey(rs.address, port, check);
        if (!targets.has(key)) {
          let checker: Checker;
          try {
            checker = factory(check);
          } catch (err) {
            const msg = err instanceof Error ? err.message : String(err);
            throw new DsrError(
              'E_CONFIG_INVALID',
              `service ${svc.name}: check of ${rs.id}: ${msg}`,
              where,
              err,
            );
          }
          targets.set(key, {
            key,
            place: `${rs.address}|${port}`,
            address: rs.address,
            port,
            kind: check.kind,
            timing,
            checker,
          });
        }
        keys.push(key);
      }
      rsTargets.set(rs.id, keys);
    }
    services.set(svc.name, { spec: svc, rsTargets });
  }
  return { targets, services };
}
