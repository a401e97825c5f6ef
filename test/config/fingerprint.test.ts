/** The fingerprint: equal across node-local differences, different when a shared part changes. */
import test from 'ava';
import { configFingerprint } from '../../config/index.ts';
import { PAIR, parseOk } from './helpers.ts';

const fp = (text: string) => configFingerprint(parseOk(text));

function variant(text: string, ...edits: [string, string][]): string {
  let out = text;
  for (const [from, to] of edits) {
    if (!out.includes(from)) throw new Error(`fixture does not contain ${from}`);
    out = out.replace(from, to);
  }
  return out;
}

test('the fingerprint is 64 hex digits and stable across loads', (t) => {
  t.regex(fp(PAIR), /^[0-9a-f]{64}$/);
  t.is(fp(PAIR), fp(PAIR));
});

test('the other director of the pair, with all its node-local differences, has the same fingerprint', (t) => {
  const lb2 = variant(
    PAIR,
    ['  id: lb1\n  priority: 150', '  id: lb2\n  priority: 100\n  address: 198.18.0.12'],
    ['  - id: lb2\n    address: 198.18.0.12', '  - id: lb1\n    address: 198.18.0.11'],
    ['  - name: eth0', '  - name: ens3\n    xdp_mode: generic'],
    [
      '    vips: [198.18.100.10, "2001:2::10"]',
      '    vips: [198.18.100.10, "2001:2::10"]\n    preempt: false\n    preempt_delay_ms: 5000\n    garp: {count: 2}\n    track: {forwarder: false, interfaces: [{name: ens4, weight: 10}]}',
    ],
    ['    kind: tcp', '    kind: tcp\n    interval_ms: 500\n    timeout_ms: 200\n    rise: 5'],
    ['    health_check: {kind: dns, query: www.example.test}', '    health_check: {kind: udp, send: ping}'],
    [
      '    keys: [{id: 1, file: k1.key}]',
      '    keys: [{id: 1, file: k1.key}]\nsync: {flush_interval_ms: 1, port: 9999}\nmetrics: {listen: "[::1]:9100"}\nlog: {level: debug}\nadmin: {group: ops}\nforwarder: {pin_dir: /sys/fs/bpf/other}\nalerts: {heartbeat_s: 60}',
    ],
  );
  const a = parseOk(PAIR);
  const b = parseOk(lb2);
  t.not(a.node.id, b.node.id);
  t.is(configFingerprint(a), configFingerprint(b));
});

test('order does not count where it means nothing, nor does the spelling of an IPv6 address', (t) => {
  const reordered = variant(
    PAIR,
    // real servers of a service
    [
      '      - address: 198.18.200.1\n      - address: 198.18.200.2\n        weight: 2\n      - address: 198.18.200.3',
      '      - address: 198.18.200.3\n      - address: 198.18.200.2\n        weight: 2\n      - address: 198.18.200.1',
    ],
    // VIPs of a group, one in another spelling
    ['    vips: [198.18.100.10, "2001:2::10"]', '    vips: ["2001:2:0:0:0:0:0:10", 198.18.100.10]'],
  );
  t.is(fp(reordered), fp(PAIR));
  // Services in the other order.
  const http = PAIR.slice(PAIR.indexOf('  - name: http'), PAIR.indexOf('  - name: dns6'));
  const dns = PAIR.slice(PAIR.indexOf('  - name: dns6'), PAIR.indexOf('keys:'));
  t.is(fp(PAIR.replace(http + dns, dns + http)), fp(PAIR));
});

const SHARED_CHANGES: [string, [string, string]][] = [
  [
    'a VIP added',
    ['    vips: [198.18.100.10, "2001:2::10"]', '    vips: [198.18.100.10, 198.18.100.11, "2001:2::10"]'],
  ],
  [
    'the advert interval',
    [
      '    vips: [198.18.100.10, "2001:2::10"]',
      '    vips: [198.18.100.10, "2001:2::10"]\n    advert_interval_ms: 200',
    ],
  ],
  ['a group id', ['    id: 1', '    id: 2']],
  ['a real-server weight', ['        weight: 2', '        weight: 3']],
  [
    'a real server added',
    ['      - address: 198.18.200.3', '      - address: 198.18.200.3\n      - address: 198.18.200.4'],
  ],
  ['the Maglev table size', ['    port: 80', '    port: 80\n    scheduler: {table_size: 251}']],
  ['the persistence timeout', ['timeout_s: 600', 'timeout_s: 601']],
  ['the persistence netmask', ['netmask_v4: 24', 'netmask_v4: 16']],
  ['the service port', ['    port: 80', '    port: 8080']],
  ['min_healthy', ['    port: 80', '    port: 80\n    min_healthy: 2']],
  ['the sorry server', ['    port: 80', '    port: 80\n    sorry_server: 198.18.200.99']],
  ['a conn-table timeout', ['keys:', 'timers: {udp_s: 60}\nkeys:']],
  ['a table size', ['keys:', 'tables: {conn_table_size: 2097152}\nkeys:']],
];

for (const [what, edit] of SHARED_CHANGES) {
  test(`the fingerprint changes with ${what}`, (t) => {
    t.not(fp(variant(PAIR, edit)), fp(PAIR));
  });
}
