/**
 * serializeConfigInput: a config document a program builds (ConfigInput, defaults left out) is
 * written as YAML that loads into the Config the document says, with the defaults filled in.
 */
import test from 'ava';
import { type ConfigInput, DEFAULTS, serializeConfig, serializeConfigInput } from '../../config/index.ts';
import { parseOk } from './helpers.ts';

const doc: ConfigInput = {
  node: { id: 'lb1', priority: 150, address: '198.18.0.2' },
  peers: [{ id: 'lb2', address: '198.18.0.3' }],
  interfaces: [{ name: 'eth0' }],
  vip_groups: [
    {
      name: 'web',
      id: 51,
      vips: ['198.18.0.200', '2001:2:0::200'],
      advert_interval_ms: 100,
      track: { forwarder: false },
    },
  ],
  services: [
    {
      name: 'echo-udp',
      vip: '198.18.0.200',
      protocol: 'udp',
      port: 7001,
      // A string YAML 1.1 would read as a boolean, and one that looks like a number.
      health_check: { kind: 'udp', send: 'yes', expect_regex: '0660', interval_ms: 1000, timeout_ms: 500 },
      real_servers: [{ address: '198.18.0.100' }, { address: '198.18.0.101', weight: 3 }],
    },
  ],
  keys: { election: { keys: [{ id: 1, file: '/etc/dsr/k1.key' }] } },
  sync: { enabled: true },
  metrics: { enabled: false },
  // A mode is a quoted octal string in the file: written unquoted, YAML 1.2 would read decimal 640.
  admin: { socket: '/run/dsrl-test/lb1.sock', mode: '0640' },
  alerts: { queue_dir: '/run/dsrl-test/alerts', heartbeat_s: undefined },
};

test('a document loads as written, with the defaults for what it leaves out', (t) => {
  const text = serializeConfigInput(doc);
  t.false(text.includes('heartbeat_s'), 'a field left undefined is not written');
  const c = parseOk(text);
  t.like(c.node, { id: 'lb1', priority: 150, address: '198.18.0.2' });
  t.like(c.peers[0], { id: 'lb2', address: '198.18.0.3', port: DEFAULTS.election.port });
  t.like(c.vipGroups[0], {
    vips: ['198.18.0.200', '2001:2::200'],
    advertIntervalMs: 100,
    preempt: DEFAULTS.vip_groups.preempt,
    priority: 150,
  });
  t.false(c.vipGroups[0].track.forwarder);
  const s = c.services[0];
  t.like(s.realServers[0].healthCheck, { kind: 'udp', sendHex: Buffer.from('yes').toString('hex') });
  t.like(s.realServers[0].healthCheck, { expectRegex: '0660', intervalMs: 1000, timeoutMs: 500 });
  t.deepEqual(
    s.realServers.map((r) => [r.address, r.weight]),
    [
      ['198.18.0.100', DEFAULTS.services.real_servers.weight],
      ['198.18.0.101', 3],
    ],
  );
  t.is(c.admin.mode, 0o640);
  t.false(c.metrics.enabled);
  t.is(c.alerts.heartbeatS, DEFAULTS.alerts.heartbeat_s);
  t.is(c.sync.port, DEFAULTS.sync.port);
});

test('the effective config written back is a document of the same config', (t) => {
  const a = parseOk(serializeConfigInput(doc));
  const b = parseOk(serializeConfig(a));
  t.deepEqual(JSON.parse(JSON.stringify(b)), JSON.parse(JSON.stringify(a)));
});
