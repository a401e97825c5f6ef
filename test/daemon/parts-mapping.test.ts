import test from 'ava';
import type { Config } from '../../config/index.ts';
import { parseConfigText } from '../../config/index.ts';
import { groupStatus, peerStatuses } from '../../daemon/election/report.ts';
import { RiseFall } from '../../daemon/election/tracked-script.ts';
import {
  backendAddresses,
  configBackends,
  desiredState,
  forwarderServiceName,
  healthBackends,
} from '../../daemon/forwarder/desired.ts';
import type { ElectionStatus } from '../../failover/index.ts';
import type { Backend } from '../../health/service-health.ts';

function config(): Config {
  const r = parseConfigText(
    `node:
  id: lb1
peers:
  - id: lb2
    address: 198.18.0.12
interfaces:
  - name: eth0
vip_groups:
  - name: web
    id: 51
    vips: [198.18.0.200, "2001:2::200"]
services:
  - name: web-http
    vip: 198.18.0.200
    protocol: tcp
    port: 80
    persistence:
      timeout_s: 120
      netmask_v4: 24
    sorry_server: 198.18.0.99
    real_servers:
      - address: 198.18.0.100
      - address: 198.18.0.101
        weight: 3
  - name: dns6
    vip: "2001:2::200"
    protocol: udp
    port: 0
    persistence:
      timeout_s: 30
      netmask_v6: 64
    real_servers:
      - address: "2001:2::100"
keys:
  election:
    keys:
      - id: 1
        file: /k
`,
    '/etc/dsr-director/dsrd.yaml',
    {
      files: {
        read: () => ({ ok: true, bytes: Buffer.alloc(32, 7), mode: 0o600 }),
        notExecutable: () => null,
      },
    },
  );
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.config;
}

test('desired state: services, persistence prefix per family, MACs, health weights over config weights', (t) => {
  const c = config();
  const d = desiredState(c, {
    directorMac: '02:00:00:00:00:01',
    backends: (s) =>
      s === 'web-http'
        ? [
            { id: '198.18.0.100', weight: 0 },
            { id: '198.18.0.101', weight: 3 },
            { id: '198.18.0.99', weight: 0 },
          ]
        : undefined,
    macOf: (a) => (a === '198.18.0.100' ? '02:00:00:00:01:00' : undefined),
  });
  t.is(d.directorMac, '02:00:00:00:00:01');
  t.deepEqual(d.services[0], {
    vip: '198.18.0.200',
    protocol: 'tcp',
    port: 80,
    maglevSize: 65537,
    persistence: { timeoutSec: 120, prefixLen: 24 },
    reals: [
      { address: '198.18.0.100', weight: 0, mac: '02:00:00:00:01:00' },
      { address: '198.18.0.101', weight: 3, mac: null },
      { address: '198.18.0.99', weight: 0, mac: null },
    ],
  });
  t.deepEqual(d.services[1].persistence, { timeoutSec: 30, prefixLen: 64 });
  t.deepEqual(
    d.services[1].reals,
    [{ address: '2001:2::100', weight: 1, mac: null }],
    'config weights without health',
  );
  t.deepEqual(d.settings, { tcpEstablishedSec: 900, tcpClosingSec: 120, udpSec: 300, synOnly: true });
});

test('config backends list the sorry server last with weight 0; addresses include it', (t) => {
  const c = config();
  t.deepEqual(configBackends(c.services[0]), [
    { id: '198.18.0.100', weight: 1 },
    { id: '198.18.0.101', weight: 3 },
    { id: '198.18.0.99', weight: 0 },
  ]);
  t.deepEqual(backendAddresses(c), ['198.18.0.100', '198.18.0.101', '198.18.0.99', '2001:2::100']);
});

test('health backends: only a drained real server that is up and allows persistence keeps its pinned clients', (t) => {
  const b = (id: string, over: Partial<Backend> = {}): Backend => ({
    id,
    weight: 0,
    health: 'up',
    drained: true,
    sorry: false,
    ...over,
  });
  const keeps = new Set(['198.18.0.100', '198.18.0.101', '198.18.0.102', '198.18.0.99']);
  t.deepEqual(
    healthBackends(
      [
        b('198.18.0.100'),
        b('198.18.0.101', { health: 'down' }),
        b('198.18.0.102', { drained: false }),
        b('198.18.0.103'),
        b('198.18.0.104', { weight: 2, drained: false }),
        b('198.18.0.99', { sorry: true, drained: false }),
      ],
      (rs) => keeps.has(rs),
    ),
    [
      { id: '198.18.0.100', weight: 0, keepPinned: true },
      { id: '198.18.0.101', weight: 0, down: true },
      { id: '198.18.0.102', weight: 0 },
      { id: '198.18.0.103', weight: 0 },
      { id: '198.18.0.104', weight: 2 },
      { id: '198.18.0.99', weight: 0 },
    ],
  );
  const d = desiredState(config(), {
    directorMac: '02:00:00:00:00:01',
    backends: (s) => (s === 'web-http' ? [{ id: '198.18.0.100', weight: 0, keepPinned: true }] : undefined),
    macOf: () => undefined,
  });
  t.deepEqual(d.services[0].reals, [{ address: '198.18.0.100', weight: 0, mac: null, keepPinned: true }]);
});

test('reschedule_on_down: the flows of a real server that failed its checks move, only where the service says so', (t) => {
  const c = config();
  const backends = (): { id: string; weight: number; down?: boolean }[] => [
    { id: '198.18.0.100', weight: 0, down: true },
    { id: '198.18.0.101', weight: 3 },
  ];
  const inputs = { directorMac: '02:00:00:00:00:01', backends, macOf: () => undefined };
  t.deepEqual(
    desiredState(c, inputs).services[0].reals.map((r) => r.moveFlows),
    [undefined, undefined],
    'default: established flows stay on a real server that goes down',
  );
  c.services[0].rescheduleOnDown = true;
  t.deepEqual(
    desiredState(c, inputs).services[0].reals.map((r) => r.moveFlows),
    [true, undefined],
  );
});

test('forwarder service names match the reconciler’s', (t) => {
  const c = config();
  t.is(forwarderServiceName(c.services[0]), 'tcp/198.18.0.200:80');
  t.is(forwarderServiceName(c.services[1]), 'udp/[2001:2::200]:0');
});

function electionStatus(over: Partial<ElectionStatus>): ElectionStatus {
  return {
    groupId: 51,
    nodeId: 1,
    state: 'backup',
    basePriority: 100,
    effectivePriority: 100,
    masterId: 2,
    advertIntervalMs: 100,
    masterAdverIntervalMs: 100,
    masterDownIntervalMs: 360,
    masterDownInMs: 200,
    preempt: true,
    preemptDelayMs: 0,
    preemptHold: false,
    syncReady: true,
    fingerprint: 'ab',
    conditions: [],
    peers: [],
    handover: null,
    drops: {},
    counters: {},
    transitions: [],
    ...over,
  };
}

test('group and peer status: names, remarks, freshest last-heard, any mismatch wins', (t) => {
  const c = config();
  const names = new Map([
    [1, 'lb1'],
    [2, 'lb2'],
  ]);
  const g = groupStatus(
    c,
    electionStatus({
      state: 'initialize',
      conditions: [{ name: 'link:eth0', failing: true, effect: 'fault' }],
      preemptHold: true,
      syncReady: false,
    }),
    names,
  );
  t.like(g, { name: 'web', id: 51, role: 'init', master: 'lb2', vips: ['198.18.0.200', '2001:2::200'] });
  t.is(g.reason, 'link:eth0 failing, preemption held, not in sync');
  const peer = (lastHeardAgoMs: number | null, fingerprintMatch: boolean | null) => ({
    nodeId: 2,
    state: 'master' as const,
    priority: 150,
    intervalMs: 100,
    syncReady: true,
    lastHeardAgoMs,
    lost: false,
    fingerprint: null,
    fingerprintMatch,
  });
  // The keys of the peer's last advert, as the transport saw them (node id 2 is lb2).
  const p = peerStatuses(
    c,
    [electionStatus({ peers: [peer(250.4, true)] }), electionStatus({ peers: [peer(40.2, false)] })],
    names,
    { 2: { sendsWith: 2, accepts: [1, 2] } },
  );
  t.deepEqual(p, [
    {
      id: 'lb2',
      address: '198.18.0.12',
      lastHeardMs: 40,
      fingerprintMatch: false,
      keys: { sendsWith: 2, accepts: [1, 2] },
    },
  ]);
  t.deepEqual(peerStatuses(c, [electionStatus({ peers: [peer(null, null)] })], names), [
    { id: 'lb2', address: '198.18.0.12', lastHeardMs: null, fingerprintMatch: null, keys: null },
  ]);
});

test('tracked script rise/fall: fine until `fall` failures in a row, back after `rise` successes', (t) => {
  const r = new RiseFall(2, 3);
  t.is(r.record(false), undefined);
  t.is(r.record(false), undefined);
  t.is(r.record(true), undefined, 'a success resets the failure streak');
  t.is(r.record(false), undefined);
  t.is(r.record(false), undefined);
  t.is(r.record(false), true, 'third failure in a row: failing');
  t.true(r.failing);
  t.is(r.record(true), undefined);
  t.is(r.record(false), undefined, 'a failure resets the success streak');
  t.is(r.record(true), undefined);
  t.is(r.record(true), false, 'second success in a row: fine again');
});
