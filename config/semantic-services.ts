/** Cross-field rules of services, real servers and their health checks. */
import { canonicalIp, parseIp } from '../core/net/ip.ts';
import type { IssueCollector } from './issues.ts';
import type { FieldPath } from './positions.ts';
import type { RawHealthCheck, RawHealthCheckRef, RawService } from './schema.ts';
import { familyName, listNames, reportDuplicates, type Sections } from './semantic-util.ts';

/** The kinds whose target port defaults to the service port (dns has its own default, exec none). */
const PORT_KINDS = new Set(['tcp', 'http', 'https', 'udp']);

export function checkHealthCheckSection(out: IssueCollector, s: Sections): void {
  if (!s.health_checks) return;
  const checks = s.health_checks;
  reportDuplicates(
    out,
    checks,
    (c) => c.name,
    (i) => ['health_checks', i, 'name'],
    'health check name',
  );
}

function checkRef(
  out: IssueCollector,
  s: Sections,
  service: RawService,
  ref: RawHealthCheckRef,
  path: FieldPath,
): void {
  let check: RawHealthCheck | undefined;
  if (typeof ref === 'string') {
    if (!s.health_checks) return;
    check = s.health_checks.find((c) => c.name === ref);
    if (check === undefined) {
      const names = s.health_checks.map((c) => c.name);
      out.add('semantic', path, `unknown health check "${ref}" (health_checks: ${listNames(names)})`);
      return;
    }
  } else {
    check = ref;
  }
  if (PORT_KINDS.has(check.kind) && service.port === 0 && (check as { port?: number }).port === undefined) {
    const where = typeof ref === 'string' ? ` (set port in health check "${ref}")` : ' (set its port)';
    out.add(
      'semantic',
      path,
      `a ${check.kind} check needs a port: the service port is 0 (every port)${where}`,
    );
  }
}

export function checkServices(out: IssueCollector, s: Sections): void {
  if (!s.services) return;
  const services = s.services;
  reportDuplicates(
    out,
    services,
    (v) => v.name,
    (i) => ['services', i, 'name'],
    'service name',
  );
  reportDuplicates(
    out,
    services,
    (v) => `${canonicalIp(v.vip)} ${v.protocol} ${v.port}`,
    (i) => ['services', i, 'port'],
    'service: same vip, protocol and port as another service',
  );

  const groupOfVip = new Map<string, string>();
  for (const g of s.vip_groups ?? []) for (const v of g.vips) groupOfVip.set(canonicalIp(v), g.name);

  services.forEach((svc, i) => {
    const at = (...rest: (string | number)[]): FieldPath => ['services', i, ...rest];
    const family = parseIp(svc.vip).family;
    if (s.vip_groups && !groupOfVip.has(canonicalIp(svc.vip))) {
      out.add(
        'semantic',
        at('vip'),
        `VIP ${svc.vip} is not in any vip_groups entry; add it to a group's vips`,
      );
    }
    reportDuplicates(
      out,
      svc.real_servers,
      (r) => canonicalIp(r.address),
      (j) => at('real_servers', j, 'address'),
      'real server address in this service',
    );
    svc.real_servers.forEach((rs, j) => {
      const rf = parseIp(rs.address).family;
      if (rf !== family) {
        out.add(
          'semantic',
          at('real_servers', j, 'address'),
          `expected an ${familyName(family)} address like the service's VIP, found ${familyName(rf)} ${rs.address}`,
        );
      }
      if (rs.health_check !== undefined)
        checkRef(out, s, svc, rs.health_check, at('real_servers', j, 'health_check'));
    });
    if (svc.health_check !== undefined) checkRef(out, s, svc, svc.health_check, at('health_check'));
    if (svc.sorry_server !== undefined) {
      const sf = parseIp(svc.sorry_server).family;
      if (sf !== family) {
        out.add(
          'semantic',
          at('sorry_server'),
          `expected an ${familyName(family)} address like the service's VIP, found ${familyName(sf)} ${svc.sorry_server}`,
        );
      }
    }
    if (svc.min_healthy > svc.real_servers.length) {
      out.add(
        'semantic',
        at('min_healthy'),
        `min_healthy ${svc.min_healthy} exceeds the ${svc.real_servers.length} real servers: the service could never be up`,
      );
    }
    // Maglev fills M slots from N backends' permutations; with M <= N some backend gets no slot.
    if (svc.scheduler.table_size <= svc.real_servers.length) {
      out.add(
        'semantic',
        at('scheduler', 'table_size'),
        `table_size ${svc.scheduler.table_size} must be larger than the number of real servers (${svc.real_servers.length})`,
      );
    }
  });
}
