import test from 'ava';
import {
  type FileAccess,
  formatConfigIssues,
  parseConfigText,
  serializeConfigInput,
} from '../../../config/index.ts';
import {
  type PairDirectorConfig,
  pairDirectorConfig,
  syncServices,
  UDP_ECHO,
} from '../../../lab/pair/config.ts';

const KEY = '/tmp/dsr-lab-pair-x/election.key';
const files: FileAccess = {
  read: (path) =>
    path === KEY ? { ok: true, bytes: Buffer.alloc(32, 0x61), mode: 0o600 } : { ok: false, reason: 'ENOENT' },
  notExecutable: () => 'ENOENT',
};

function load(extra: Partial<PairDirectorConfig> = {}) {
  const doc = pairDirectorConfig({
    self: { id: 'd1', address: '198.18.0.2', priority: 150 },
    peer: { id: 'd2', address: '198.18.0.3' },
    vip: '198.18.0.200',
    advertMs: 100,
    services: [UDP_ECHO],
    reals: ['198.18.0.100', '198.18.0.101', '198.18.0.102'],
    keyFile: KEY,
    pinDir: '/run/dsrl-pair-1-0/d1',
    alertsDir: '/tmp/dsr-lab-pair-x/alerts-d1',
    stateDir: '/tmp/dsr-lab-pair-x/state-d1',
    adminSocket: '/tmp/dsr-lab-pair-x/d1.sock',
    ...extra,
  });
  const text = serializeConfigInput(doc);
  const r = parseConfigText(text, 'd1.yaml', { files, baseDir: '/tmp/dsr-lab-pair-x' });
  if (!r.ok) throw new Error(formatConfigIssues(r.issues).join('\n'));
  return { text, config: r.config };
}

test('a director of the pair: its peer, the VIP group, the UDP echo with its check', (t) => {
  const { text, config } = load();
  t.like(config.node, { id: 'd1', priority: 150, address: '198.18.0.2' });
  t.deepEqual(
    config.peers.map((p) => [p.id, p.address]),
    [['d2', '198.18.0.3']],
  );
  t.like(config.vipGroups[0], { name: 'web', id: 51, vips: ['198.18.0.200'], advertIntervalMs: 100 });
  const s = config.services[0];
  t.like(s, { name: 'echo-udp', protocol: 'udp', port: 7001, vip: '198.18.0.200' });
  t.is(s.realServers.length, 3);
  t.like(s.realServers[0].healthCheck, { kind: 'udp', intervalMs: 1000, timeoutMs: 500 });
  t.false(config.metrics.enabled);
  t.true(config.sync.enabled, "dsrd's default");
  t.false(text.includes('/run/dsr-director'), 'no host-wide admin socket');
  t.false(text.includes('/var/lib/dsr-director'), 'no host-wide alert spool or state directory');
  t.false(text.includes('/sys/fs/bpf/dsr-director'), 'no host-wide pin directory');
});

test('each service takes the first n real servers; the options reach the VIP group, sync and alerts', (t) => {
  const { config } = load({
    services: syncServices({ echo: 2, http: 3 }),
    vipGroup: { track: { forwarder: false } },
    sync: { enabled: false },
    alertTargets: [{ name: 'hook', kind: 'generic', url: 'http://198.18.0.10:8099/hook' }],
  });
  t.deepEqual(
    config.services.map((s) => [s.name, s.port, s.realServers.map((r) => r.address)]),
    [
      ['echo', 7000, ['198.18.0.100', '198.18.0.101']],
      ['http', 80, ['198.18.0.100', '198.18.0.101', '198.18.0.102']],
    ],
  );
  t.is(config.services[1].persistence?.timeoutS, 300);
  t.false(config.vipGroups[0].track.forwarder);
  t.false(config.sync.enabled);
  t.deepEqual(
    config.alerts.targets.map((x) => x.name),
    ['hook'],
  );
});
