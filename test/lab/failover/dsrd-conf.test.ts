import test from 'ava';
import { type FileAccess, formatConfigIssues, parseConfigText } from '../../../config/index.ts';
import { BENCH_GROUP, dsrdConf } from '../../../lab/failover/dsrd-conf.ts';
import { explainDsrdLog, missingParts } from '../../../lab/failover/dsrd-stack.ts';

const KEY = '/tmp/dsrl-bench/election.key';
const files: FileAccess = {
  read: (path) =>
    path === KEY ? { ok: true, bytes: Buffer.alloc(64, 0x61), mode: 0o600 } : { ok: false, reason: 'ENOENT' },
  notExecutable: () => 'ENOENT',
};

function conf(advertMs = 100) {
  return dsrdConf({
    self: { id: 'd1', address: '198.18.0.2', priority: 150 },
    peers: [{ id: 'd2', address: '198.18.0.3' }],
    vip: '198.18.0.200',
    port: 7001,
    reals: ['198.18.0.100', '198.18.0.101', '198.18.0.102'],
    advertMs,
    keyFile: KEY,
    adminSocket: '/tmp/dsrl-bench/dsrd-d1.sock',
    pinDir: '/sys/fs/bpf/dsrlabcd-d1',
    alertsDir: '/tmp/dsrl-bench/alerts-d1',
    stateDir: '/tmp/dsrl-bench/state-d1',
  });
}

test('the generated dsrd config passes the project config validator', (t) => {
  const r = parseConfigText(conf(), 'dsrd-d1.yaml', { files, baseDir: '/tmp/dsrl-bench' });
  t.true(r.ok, r.ok ? '' : formatConfigIssues(r.issues).join('\n'));
  if (!r.ok) return;
  const g = r.config.vipGroups.find((x) => x.name === BENCH_GROUP);
  t.truthy(g);
  t.deepEqual(g?.vips, ['198.18.0.200']);
  t.is(g?.advertIntervalMs, 100);
  t.false(g?.preempt);
  t.is(r.config.services.length, 1);
  t.is(r.config.services[0].realServers.length, 3);
  t.is(r.config.peers[0].address, '198.18.0.3');
});

test('the advert interval under test is the one in the config', (t) => {
  const r = parseConfigText(conf(30), 'dsrd-d1.yaml', { files, baseDir: '/tmp/dsrl-bench' });
  t.true(r.ok);
  if (r.ok) t.is(r.config.vipGroups[0].advertIntervalMs, 30);
});

test('host-wide default paths are replaced by per-director ones', (t) => {
  const text = conf();
  t.false(text.includes('/run/dsr-director'));
  t.false(text.includes('/var/lib/dsr-director'));
  t.true(text.includes('/sys/fs/bpf/dsrlabcd-d1'));
});

test('missingParts names the failover parts a daemon does not run', (t) => {
  const parts = (names: [string, string][]) => ({ parts: names.map(([name, state]) => ({ name, state })) });
  t.deepEqual(missingParts(parts([['admin', 'running']])), ['forwarder', 'vip', 'election']);
  t.deepEqual(
    missingParts(
      parts([
        ['forwarder', 'running'],
        ['vip', 'running'],
        ['election', 'failed'],
      ]),
    ),
    ['election'],
  );
  t.deepEqual(
    missingParts(
      parts([
        ['forwarder', 'running'],
        ['vip', 'running'],
        ['election', 'running'],
      ]),
    ),
    [],
  );
});

test('explainDsrdLog: transitions with their reasons and stalls, from the given time on', (t) => {
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s)).toISOString();
  const since = Date.parse(at(10));
  const lines = [
    `d1: {"level":30,"time":"${at(5)}","msg":"VIP group bench: backup -> master","reason":"startup"}`,
    `d2: {"level":30,"time":"${at(12)}","alert":{"kind":"stall-detected","gapMs":41.6},"msg":"election: stall-detected"}`,
    `d2: {"level":30,"time":"${at(12)}","msg":"VIP group bench: master -> backup","reason":"stall"}`,
    `d1: {"level":30,"time":"${at(13)}","msg":"VIP group bench: backup -> master","reason":"master-resigned"}`,
    `d1: {"level":30,"time":"${at(14)}","msg":"took over VIPs"}`,
    'd1: not json',
    'no host prefix',
  ];
  t.deepEqual(explainDsrdLog(lines, since), [
    '+2.0 s d2 stall 42 ms',
    '+2.0 s d2 bench: master -> backup (stall)',
    '+3.0 s d1 bench: backup -> master (master-resigned)',
  ]);
});
