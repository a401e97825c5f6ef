/** Defaults: applied when a key is absent, and documented in config/README.md exactly as in defaults.ts. */
import { readFileSync } from 'node:fs';
import test from 'ava';
import { parse as parseYaml } from 'yaml';
import { DEFAULT_ADVERT_INTERVAL_MS, DEFAULTS } from '../../config/index.ts';
import { MINIMAL, PAIR, parseOk } from './helpers.ts';

function flatten(o: object, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const [k, v] of Object.entries(o)) {
    const path = prefix === '' ? k : `${prefix}.${k}`;
    if (v !== null && typeof v === 'object') for (const [p, x] of flatten(v, path)) out.set(p, x);
    else out.set(path, v);
  }
  return out;
}

test('the README defaults table lists exactly the values of defaults.ts', (t) => {
  const readme = readFileSync(new URL('../../config/README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('## Defaults'));
  const rows = new Map<string, unknown>();
  for (const m of section.matchAll(/^\| `([a-z_.0-9]+)` \| `([^`]*)` \|/gm)) {
    rows.set(m[1], parseYaml(m[2]));
  }
  const defaults = flatten(DEFAULTS);
  t.deepEqual([...rows.keys()].sort(), [...defaults.keys()].sort());
  for (const [key, value] of defaults) t.deepEqual(rows.get(key), value, key);
});

test('a minimal config gets every default', (t) => {
  const c = parseOk(MINIMAL);
  t.deepEqual(c.node, {
    id: 'lb1',
    priority: 100,
    role: 'director',
    address: null,
    stateDir: '/var/lib/dsr-director',
  });
  t.deepEqual(c.election, { mode: 'vrrp', raft: null, transport: 'unicast', port: 9777, multicast: null });
  t.deepEqual(c.peers, []);
  t.deepEqual(c.interfaces, [{ name: 'eth0', xdpMode: 'auto' }]);
  t.deepEqual(c.forwarder, { pinDir: '/sys/fs/bpf/dsr-director', synOnly: true });
  t.deepEqual(c.vipGroups, [
    {
      name: 'web',
      id: 1,
      interface: 'eth0',
      vips: ['198.18.100.10'],
      priority: 100,
      preempt: true,
      preemptDelayMs: 0,
      advertIntervalMs: DEFAULT_ADVERT_INTERVAL_MS,
      garp: { count: 5, intervalMs: 50, refreshS: 60 },
      track: { forwarder: true, interfaces: [], scripts: [], services: [] },
    },
  ]);
  t.deepEqual(c.services, []);
  t.deepEqual(c.timers, { tcpEstablishedS: 900, tcpClosingS: 120, udpS: 300 });
  t.deepEqual(c.tables, { connTableSize: 1_048_576, persistenceTableSize: 262_144 });
  t.deepEqual(c.keys, { election: null, sync: null });
  t.deepEqual(c.sync, {
    enabled: true,
    port: 9778,
    maxDatagramBytes: 1400,
    flushIntervalMs: 2,
    refreshS: 60,
    keepaliveMs: 100,
    lagAlertMs: 500,
    peers: [],
  });
  t.deepEqual(c.metrics, { enabled: true, host: '127.0.0.1', port: 9779, path: '/metrics' });
  t.deepEqual(c.admin, { socket: '/run/dsr-director/dsrd.sock', group: null, mode: 0o660 });
  t.deepEqual(c.log, { level: 'info' });
  t.deepEqual(c.alerts, {
    heartbeatS: 0,
    queueDir: '/var/lib/dsr-director/alerts',
    queueMaxEvents: 10_000,
    targets: [],
  });
});

test('derived defaults: peer port, sync peers, sync keys, group priority, service and check defaults', (t) => {
  const c = parseOk(PAIR);
  t.deepEqual(c.peers, [{ id: 'lb2', address: '198.18.0.12', family: 4, port: 9777, witness: false }]);
  t.deepEqual(c.sync.peers, [{ id: 'lb2', address: '198.18.0.12', port: 9778 }]);
  t.is(c.keys.sync, c.keys.election);
  t.is(c.keys.election?.sendId, 1);
  t.is(c.keys.election?.keys[0].file, '/etc/dsr/k1.key');
  t.is(c.vipGroups[0].priority, 150);
  const http = c.services[0];
  t.is(http.vipGroup, 'web');
  t.deepEqual(http.scheduler, { kind: 'maglev', tableSize: 65537 });
  t.deepEqual(http.persistence, { timeoutS: 600, netmaskV4: 24, netmaskV6: 128 });
  t.is(http.minHealthy, 1);
  t.is(http.sorryServer, null);
  t.deepEqual(http.drain, { keepPersistence: false, timeoutS: 600 });
  t.deepEqual(
    http.realServers.map((r) => [r.address, r.weight, r.healthCheck?.name]),
    [
      ['198.18.200.1', 1, 'tcp80'],
      ['198.18.200.2', 2, 'tcp80'],
      ['198.18.200.3', 1, 'tcp80'],
    ],
  );
  t.deepEqual(c.healthChecks, [
    { name: 'tcp80', kind: 'tcp', intervalMs: 2000, timeoutMs: 1000, rise: 2, fall: 3, port: null },
  ]);
  const dns = c.services[1].realServers[0].healthCheck;
  t.deepEqual(dns, {
    name: null,
    kind: 'dns',
    intervalMs: 2000,
    timeoutMs: 1000,
    rise: 2,
    fall: 3,
    port: 53,
    query: 'www.example.test',
    type: 'A',
    expectRcode: 'NOERROR',
  });
  t.is(c.services[1].vip, '2001:2::10');
  t.is(c.services[1].family, 6);
});
