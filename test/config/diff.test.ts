/** diffConfig: each part reported on its own, so a reload applies only what changed. */
import test from 'ava';
import { type Config, diffConfig, formatConfigDiff } from '../../config/index.ts';
import { DEFAULT_FILES, fakeFiles, KEY_BYTES, PAIR, parseOk } from './helpers.ts';

function edit(text: string, ...edits: [string, string][]): string {
  let out = text;
  for (const [from, to] of edits) {
    if (!out.includes(from)) throw new Error(`fixture does not contain ${from}`);
    out = out.replace(from, to);
  }
  return out;
}

const base = (): Config => parseOk(PAIR);
const summary = (next: string): string[] => formatConfigDiff(diffConfig(base(), parseOk(next)));

test('identical configs, and a pure reorder, are no change', (t) => {
  const d = diffConfig(base(), base());
  t.true(d.empty);
  t.is(d.fingerprint, null);
  t.deepEqual(formatConfigDiff(d), ['no changes']);
  const reordered = edit(
    PAIR,
    ['      - address: 198.18.200.1\n', ''],
    ['      - address: 198.18.200.3', '      - address: 198.18.200.3\n      - address: 198.18.200.1'],
    ['    vips: [198.18.100.10, "2001:2::10"]', '    vips: ["2001:2::10", 198.18.100.10]'],
  );
  t.true(diffConfig(base(), parseOk(reordered)).empty);
});

test('a real server added to one service touches only that service', (t) => {
  const next = edit(PAIR, [
    '      - address: 198.18.200.3',
    '      - address: 198.18.200.3\n      - address: 198.18.200.4',
  ]);
  const d = diffConfig(base(), parseOk(next));
  t.false(d.empty);
  t.deepEqual(d.services.added, []);
  t.deepEqual(d.services.removed, []);
  t.deepEqual(d.services.changed, [
    {
      name: 'http',
      fields: [],
      realServers: { added: ['198.18.200.4'], removed: [], weight: [], healthCheck: [] },
    },
  ]);
  t.deepEqual(d.node, []);
  t.deepEqual(d.election, []);
  t.deepEqual(d.vipGroups, { added: [], removed: [], changed: [] });
  t.not(d.fingerprint, null);
  t.deepEqual(d.restartRequired, []);
  t.deepEqual(formatConfigDiff(d), [
    'service http: changed (real servers added: 198.18.200.4)',
    `fingerprint: ${d.fingerprint?.from.slice(0, 12)} -> ${d.fingerprint?.to.slice(0, 12)} (the peers need the same change)`,
  ]);
});

test('real server removed and re-weighted; service-level field changed', (t) => {
  const next = edit(
    PAIR,
    ['      - address: 198.18.200.1\n', ''],
    ['        weight: 2', '        weight: 5'],
    ['    port: 80', '    port: 80\n    min_healthy: 2'],
  );
  t.deepEqual(summary(next).slice(0, 1), [
    'service http: changed (min_healthy; real servers removed: 198.18.200.1; weight of 198.18.200.2 2 -> 5)',
  ]);
});

test('a named health check change shows on the check and on every real server using it', (t) => {
  const next = edit(PAIR, ['    kind: tcp', '    kind: tcp\n    rise: 4']);
  const d = diffConfig(base(), parseOk(next));
  t.deepEqual(d.healthChecks.changed, [{ name: 'tcp80', fields: ['rise'] }]);
  t.deepEqual(
    d.services.changed.map((s) => [s.name, s.realServers.healthCheck]),
    [['http', ['198.18.200.1', '198.18.200.2', '198.18.200.3']]],
  );
  t.is(d.fingerprint, null, 'health checks are not part of the fingerprint');
});

test('node-local changes: priority, log level, metrics, admin, alerts; nothing shared', (t) => {
  const next = edit(
    PAIR,
    [
      'keys:',
      'log: {level: debug}\nmetrics: {listen: "127.0.0.1:9100"}\nadmin: {group: ops}\nalerts:\n  heartbeat_s: 30\n  targets: [{name: am, kind: alertmanager, url: "http://198.18.0.70:9093/api/v2/alerts"}]\nkeys:',
    ],
    ['  priority: 150', '  priority: 120'],
  );
  const d = diffConfig(base(), parseOk(next));
  t.is(d.fingerprint, null);
  t.deepEqual(formatConfigDiff(d), [
    'node: changed (priority)',
    'vip group web: changed (priority)',
    'metrics: changed (port)',
    'admin: changed (group)',
    'log: changed (level)',
    'alerts: changed (heartbeat_s)',
    'alert target am: added',
  ]);
});

test('peers and election timers', (t) => {
  const next = edit(
    PAIR,
    ['    address: 198.18.0.12', '    address: 198.18.0.13\n  - id: lb3\n    address: 198.18.0.14'],
    [
      '    vips: [198.18.100.10, "2001:2::10"]',
      '    vips: [198.18.100.10, "2001:2::10"]\n    advert_interval_ms: 50',
    ],
  );
  t.deepEqual(summary(next).slice(0, 3), [
    'peer lb3: added',
    'peer lb2: changed (address)',
    'vip group web: changed (advert_interval_ms)',
  ]);
});

test('key rotation: a key added and the send id switched; bytes never shown', (t) => {
  const files = fakeFiles({
    '/etc/dsr/k1.key': { bytes: KEY_BYTES },
    '/etc/dsr/k2.key': { bytes: Buffer.alloc(32, 0x42) },
    '/etc/dsr/k1b.key': { bytes: Buffer.alloc(32, 0x43) },
  });
  const before = parseOk(PAIR, files);
  const rotated = parseOk(
    edit(PAIR, [
      '    keys: [{id: 1, file: k1.key}]',
      '    send_id: 2\n    keys: [{id: 1, file: k1.key}, {id: 2, file: k2.key}]',
    ]),
    files,
  );
  const d = diffConfig(before, rotated);
  t.deepEqual(d.keys.election, { added: [2], removed: [], replaced: [], sendId: { from: 1, to: 2 } });
  t.deepEqual(formatConfigDiff(d), [
    'keys.election: changed (key ids added: 2; send_id 1 -> 2)',
    'keys.sync: changed (key ids added: 2; send_id 1 -> 2)',
  ]);
  // Same id, other file with other bytes: replaced.
  const replaced = parseOk(edit(PAIR, ['file: k1.key', 'file: k1b.key']), files);
  t.deepEqual(diffConfig(before, replaced).keys.election?.replaced, [1]);
  // Same bytes read again: no change (secrets compare by content, not by their redacted JSON).
  t.true(diffConfig(before, parseOk(PAIR, DEFAULT_FILES)).empty);
});

test('restart-only changes are flagged', (t) => {
  const next = edit(
    PAIR,
    ['  id: lb1', '  id: lb9'],
    ['keys:', 'tables: {persistence_table_size: 524288}\nkeys:'],
  );
  const d = diffConfig(base(), parseOk(next));
  t.deepEqual(d.restartRequired, [
    'node.id (the director identity in election and sync)',
    'tables.persistenceTableSize (BPF map sizes are fixed when the maps are created)',
  ]);
});

test('a service and a VIP group added and removed', (t) => {
  const next = edit(
    PAIR,
    ['  - name: dns6', '  - name: dns6b'],
    ['health_checks:', '  - name: extra\n    id: 2\n    vips: [198.18.100.20]\nhealth_checks:'],
  );
  t.deepEqual(summary(next), [
    'vip group extra: added',
    'service dns6b: added',
    'service dns6: removed',
    `fingerprint: ${diffConfig(base(), parseOk(next)).fingerprint?.from.slice(0, 12)} -> ${diffConfig(base(), parseOk(next)).fingerprint?.to.slice(0, 12)} (the peers need the same change)`,
  ]);
});
