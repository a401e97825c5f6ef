import test from 'ava';
import { isDsrError } from '../../core/errors.ts';
import { createChecker } from '../../health/checkers/create-checker.ts';
import { healthSpecFromConfig } from '../../health/from-config.ts';
import { planTargets } from '../../health/target-plan.ts';
import { fakeFiles, KEY_BYTES, parseOk, yaml } from '../config/helpers.ts';

const CONFIG = yaml(
  'node:',
  '  id: lb1',
  'interfaces:',
  '  - name: eth0',
  'vip_groups:',
  '  - name: web',
  '    id: 1',
  '    vips: [198.18.100.10, "2001:2::10"]',
  'health_checks:',
  '  - name: web-http',
  '    kind: http',
  '    path: /healthz',
  '    host: www.example.test',
  '    expect_status: 200-299',
  '    body_regex: "ok"',
  '    interval_ms: 1000',
  '    timeout_ms: 500',
  '    rise: 2',
  '    fall: 3',
  'services:',
  '  - name: http',
  '    vip: 198.18.100.10',
  '    protocol: tcp',
  '    port: 80',
  '    min_healthy: 2',
  '    sorry_server: 198.18.200.99',
  '    persistence: {timeout_s: 600}',
  '    drain: {timeout_s: 120, keep_persistence: false}',
  '    health_check: web-http',
  '    real_servers:',
  '      - address: 198.18.200.1',
  '      - address: 198.18.200.2',
  '        weight: 2',
  '        health_check: {kind: tcp, port: 8080}',
  '      - address: 198.18.200.3',
  '        health_check: {kind: exec, command: [/usr/bin/check-app, "--quiet"]}',
  '  - name: https',
  '    vip: 198.18.100.10',
  '    protocol: tcp',
  '    port: 443',
  '    health_check: {kind: https, sni: www.example.test, ca_file: /etc/dsr/ca.pem}',
  '    real_servers:',
  '      - address: 198.18.200.1',
  '  - name: dns6',
  '    vip: "2001:2::10"',
  '    protocol: udp',
  '    port: 53',
  '    health_check: {kind: dns, query: www.example.test, type: AAAA, expect_rcode: NXDOMAIN}',
  '    real_servers:',
  '      - address: "2001:2::200:1"',
  '  - name: game',
  '    vip: 198.18.100.10',
  '    protocol: udp',
  '    port: 7001',
  '    health_check: {kind: udp, send: "ping", expect_regex: "pong"}',
  '    real_servers:',
  '      - address: 198.18.200.4',
);

const files = fakeFiles({
  '/etc/dsr/k1.key': { bytes: KEY_BYTES },
  '/etc/dsr/ca.pem': { bytes: 'PEM' },
});

test('the config maps onto the health spec, every check builds', (t) => {
  const config = parseOk(CONFIG, files);
  const spec = healthSpecFromConfig(config, (path) => `contents of ${path}`);
  const [http, https, dns, udp] = spec.services;
  t.like(http, {
    name: 'http',
    port: 80,
    minHealthy: 2,
    sorryServer: '198.18.200.99',
    drainTimeoutMs: 120_000,
    drainStopsPersistence: true,
  });
  t.deepEqual(http.realServers[0], {
    id: '198.18.200.1',
    address: '198.18.200.1',
    weight: 1,
    checks: [
      {
        kind: 'http',
        intervalMs: 1000,
        timeoutMs: 500,
        rise: 2,
        fall: 3,
        method: 'GET',
        path: '/healthz',
        host: 'www.example.test',
        expectStatus: [200, 299],
        bodyRegex: 'ok',
      },
    ],
  });
  t.like(http.realServers[1], { weight: 2, checks: [{ kind: 'tcp', port: 8080 }] });
  t.like(http.realServers[2], { checks: [{ kind: 'exec', argv: ['/usr/bin/check-app', '--quiet'] }] });
  t.like(https.realServers[0].checks[0], {
    kind: 'https',
    sni: 'www.example.test',
    tlsSkipVerify: false,
    tlsCa: 'contents of /etc/dsr/ca.pem',
  });
  t.false(https.drainStopsPersistence, 'no persistence, nothing to stop');
  t.like(dns.realServers[0].checks[0], {
    kind: 'dns',
    port: 53,
    name: 'www.example.test',
    qtype: 'AAAA',
    expectRcodes: [3],
  });
  t.like(udp.realServers[0].checks[0], {
    kind: 'udp',
    payloadHex: Buffer.from('ping').toString('hex'),
    expectRegex: 'pong',
  });
  const plan = planTargets(spec, createChecker);
  t.is(plan.targets.size, 6);
  t.deepEqual(
    [...plan.targets.values()].map((p) => `${p.kind} ${p.address} ${p.port}`),
    [
      'http 198.18.200.1 80',
      'tcp 198.18.200.2 8080',
      'exec 198.18.200.3 80',
      'https 198.18.200.1 443',
      'dns 2001:2::200:1 53',
      'udp 198.18.200.4 7001',
    ],
  );
});

test('an unreadable CA file is a config read error', (t) => {
  const config = parseOk(CONFIG, files);
  const err = t.throws(() =>
    healthSpecFromConfig(config, () => {
      throw new Error('EACCES');
    }),
  );
  t.true(isDsrError(err, 'E_CONFIG_READ'));
});
