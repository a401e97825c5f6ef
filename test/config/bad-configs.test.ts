/**
 * A catalogue of broken configs. Each asserts the exact `file:line:col: path: message` lines, so
 * the position, the field path and the words an operator reads are all pinned.
 */
import test from 'ava';
import { fakeFiles, issueLines, KEY_BYTES, parse, yaml } from './helpers.ts';

const HEAD = ['node:', '  id: lb1', 'interfaces:', '  - name: eth0'];
const GROUP = ['vip_groups:', '  - name: web', '    id: 1', '    vips: [198.18.100.10]'];

interface Case {
  name: string;
  text: string;
  expect: string[];
}

const cases: Case[] = [
  {
    name: 'unknown key, with a suggestion',
    text: yaml(...HEAD, ...GROUP, '    prempt: false'),
    expect: ['dsrd.yaml:9:5: vip_groups[0].prempt: unknown key "prempt" (did you mean "preempt"?)'],
  },
  {
    name: 'unknown key without a close match',
    text: yaml('node:', '  id: lb1', '  colour: blue', ...HEAD.slice(2), ...GROUP),
    expect: ['dsrd.yaml:3:3: node.colour: unknown key "colour"'],
  },
  {
    name: 'unknown top-level section',
    text: yaml(...HEAD, ...GROUP, 'servces: []'),
    expect: ['dsrd.yaml:9:1: servces: unknown section "servces" (did you mean "services"?)'],
  },
  {
    name: 'wrong type: a string where a boolean is expected (YAML 1.2 has no yes/no)',
    text: yaml(...HEAD, ...GROUP, '    preempt: yes'),
    expect: ['dsrd.yaml:9:14: vip_groups[0].preempt: expected true or false, found "yes"'],
  },
  {
    name: 'wrong type: a map where a list is expected',
    text: yaml(...HEAD, 'vip_groups:', '  name: web'),
    expect: ['dsrd.yaml:5:1: vip_groups: expected a list of VIP groups, found a map'],
  },
  {
    name: 'missing required field is reported at its parent',
    text: yaml('node:', '  priority: 100', ...HEAD.slice(2), ...GROUP),
    expect: [
      'dsrd.yaml:1:1: node.id: missing required field (expected a name: 1-63 letters, digits, ".", "_" or "-", starting with a letter or digit)',
    ],
  },
  {
    name: 'missing required section',
    text: yaml(...HEAD),
    expect: ['dsrd.yaml:1:1: vip_groups: missing required section (expected a list of VIP groups)'],
  },
  {
    name: 'missing required fields of a list entry',
    text: yaml(...HEAD, 'vip_groups:', '  - name: web'),
    expect: [
      'dsrd.yaml:6:5: vip_groups[0].id: missing required field (expected an integer from 1 to 255)',
      'dsrd.yaml:6:5: vip_groups[0].vips: missing required field (expected a list of addresses)',
    ],
  },
  {
    name: 'bad IPv4 address',
    text: yaml(...HEAD, 'vip_groups:', '  - name: web', '    id: 1', '    vips: [198.18.100.300]'),
    expect: [
      'dsrd.yaml:8:12: vip_groups[0].vips[0]: expected an IPv4 or IPv6 address, found "198.18.100.300"',
    ],
  },
  {
    name: 'an IPv6 address with a zone is not a config address',
    text: yaml(...HEAD, 'vip_groups:', '  - name: web', '    id: 1', '    vips: ["fe80::1%eth0"]'),
    expect: ['dsrd.yaml:8:12: vip_groups[0].vips[0]: expected an IPv4 or IPv6 address, found "fe80::1%eth0"'],
  },
  {
    name: 'a multicast VIP',
    text: yaml(...HEAD, 'vip_groups:', '  - name: web', '    id: 1', '    vips: [239.1.2.3]'),
    expect: [
      'dsrd.yaml:8:12: vip_groups[0].vips[0]: expected a unicast address (not unspecified, loopback, multicast, broadcast or link-local), found "239.1.2.3"',
    ],
  },
  {
    name: 'out of range port',
    text: yaml(...HEAD, ...GROUP, 'peers:', '  - id: lb2', '    address: 198.18.0.12', '    port: 70000'),
    expect: ['dsrd.yaml:12:11: peers[0].port: expected a port from 1 to 65535, found 70000'],
  },
  {
    name: 'a fraction where an integer is expected',
    text: yaml(...HEAD, ...GROUP, '    advert_interval_ms: 100.5'),
    expect: [
      'dsrd.yaml:9:25: vip_groups[0].advert_interval_ms: expected milliseconds from 10 to 40950, found 100.5',
    ],
  },
  {
    name: 'bad enum value',
    text: yaml(...HEAD, '    xdp_mode: fast', ...GROUP),
    expect: ['dsrd.yaml:5:15: interfaces[0].xdp_mode: expected one of native, generic, auto, found "fast"'],
  },
  {
    name: 'non-prime Maglev table size',
    text: yaml(
      ...HEAD,
      ...GROUP,
      'services:',
      '  - name: http',
      '    vip: 198.18.100.10',
      '    protocol: tcp',
      '    port: 80',
      '    scheduler: {table_size: 65536}',
      '    real_servers: [{address: 198.18.200.1}]',
    ),
    expect: [
      'dsrd.yaml:14:29: services[0].scheduler.table_size: expected a prime table size (Maglev needs a prime), such as 65537, found 65536',
    ],
  },
  {
    name: 'service VIP that no VIP group holds',
    text: yaml(
      ...HEAD,
      ...GROUP,
      'services:',
      '  - name: http',
      '    vip: 198.18.100.11',
      '    protocol: tcp',
      '    port: 80',
      '    real_servers: [{address: 198.18.200.1}]',
    ),
    expect: [
      "dsrd.yaml:11:10: services[0].vip: VIP 198.18.100.11 is not in any vip_groups entry; add it to a group's vips",
    ],
  },
  {
    name: 'duplicate names and ids, each at the repeat, naming the first',
    text: yaml(
      ...HEAD,
      'vip_groups:',
      '  - name: web',
      '    id: 1',
      '    vips: [198.18.100.10]',
      '  - name: web',
      '    id: 1',
      '    vips: [198.18.100.11]',
    ),
    expect: [
      'dsrd.yaml:9:11: vip_groups[1].name: duplicate VIP group name (first at line 6)',
      'dsrd.yaml:10:9: vip_groups[1].id: duplicate VIP group id (first at line 7)',
    ],
  },
  {
    name: 'a VIP in two groups, spelled differently',
    text: yaml(
      ...HEAD,
      'vip_groups:',
      '  - name: a',
      '    id: 1',
      '    vips: ["2001:2:0:0::10"]',
      '  - name: b',
      '    id: 2',
      '    vips: ["2001:2::10"]',
    ),
    expect: [
      'dsrd.yaml:11:12: vip_groups[1].vips[0]: duplicate VIP (a VIP belongs to one group) (first at line 8)',
    ],
  },
  {
    name: 'peer id equal to the node id, and a peer of the other family than node.address',
    text: yaml(
      'node:',
      '  id: lb1',
      '  address: 198.18.0.11',
      ...HEAD.slice(2),
      ...GROUP,
      'peers:',
      '  - id: lb1',
      '    address: "2001:2::12"',
      'keys: {election: {keys: [{id: 1, file: k1.key}]}}',
    ),
    expect: [
      'dsrd.yaml:11:9: peers[0].id: peer id "lb1" is this node\'s own id (node.id)',
      'dsrd.yaml:12:14: peers[0].address: expected an IPv4 address like node.address (the election socket binds it), found IPv6 2001:2::12',
    ],
  },
  {
    name: 'peers without keys',
    text: yaml(...HEAD, ...GROUP, 'peers:', '  - id: lb2', '    address: 198.18.0.12'),
    expect: [
      'dsrd.yaml:9:1: keys: missing required section (peers are configured, so election and sync messages must be authenticated: add keys.election)',
    ],
  },
  {
    name: 'multicast election without keys',
    text: yaml(...HEAD, ...GROUP, 'election:', '  transport: multicast'),
    expect: [
      'dsrd.yaml:10:3: keys: missing required section (the election uses multicast, so election and sync messages must be authenticated: add keys.election)',
    ],
  },
  {
    name: 'real server of the other family than the VIP, and a weight out of range',
    text: yaml(
      ...HEAD,
      ...GROUP,
      'services:',
      '  - name: http',
      '    vip: 198.18.100.10',
      '    protocol: tcp',
      '    port: 80',
      '    real_servers:',
      '      - address: "2001:2::200:1"',
      '        weight: 70000',
    ),
    expect: [
      'dsrd.yaml:16:17: services[0].real_servers[0].weight: expected an integer from 0 to 65535, found 70000',
    ],
  },
  {
    name: 'real server family (reported once the schema passes)',
    text: yaml(
      ...HEAD,
      ...GROUP,
      'services:',
      '  - name: http',
      '    vip: 198.18.100.10',
      '    protocol: tcp',
      '    port: 80',
      '    real_servers:',
      '      - address: "2001:2::200:1"',
    ),
    expect: [
      "dsrd.yaml:15:18: services[0].real_servers[0].address: expected an IPv4 address like the service's VIP, found IPv6 2001:2::200:1",
    ],
  },
  {
    name: 'unknown health check name, and a check that needs a port on a port-0 service',
    text: yaml(
      ...HEAD,
      ...GROUP,
      'health_checks:',
      '  - name: tcp-any',
      '    kind: tcp',
      'services:',
      '  - name: all',
      '    vip: 198.18.100.10',
      '    protocol: tcp',
      '    port: 0',
      '    health_check: tcp-any',
      '    real_servers:',
      '      - address: 198.18.200.1',
      '        health_check: tcp-nope',
    ),
    expect: [
      'dsrd.yaml:17:19: services[0].health_check: a tcp check needs a port: the service port is 0 (every port) (set port in health check "tcp-any")',
      'dsrd.yaml:20:23: services[0].real_servers[0].health_check: unknown health check "tcp-nope" (health_checks: tcp-any)',
    ],
  },
  {
    name: 'unknown key in an inline check of a real server: suggested from that kind',
    text: yaml(
      ...HEAD,
      ...GROUP,
      'services:',
      '  - name: https',
      '    vip: 198.18.100.10',
      '    protocol: tcp',
      '    port: 443',
      '    real_servers:',
      '      - address: 198.18.200.1',
      '        health_check: {kind: https, snii: www.example.test}',
    ),
    expect: [
      'dsrd.yaml:16:37: services[0].real_servers[0].health_check.snii: unknown key "snii" (did you mean "sni"?)',
    ],
  },
  {
    name: 'inline check: bad kind',
    text: yaml(
      ...HEAD,
      ...GROUP,
      'services:',
      '  - name: http',
      '    vip: 198.18.100.10',
      '    protocol: tcp',
      '    port: 80',
      '    health_check: {kind: htp}',
      '    real_servers: [{address: 198.18.200.1}]',
    ),
    expect: [
      'dsrd.yaml:14:26: services[0].health_check.kind: expected kind: one of tcp, http, https, udp, dns, exec, found "htp"',
    ],
  },
  {
    name: 'inline check: a key of another kind, and timeout longer than interval',
    text: yaml(
      ...HEAD,
      ...GROUP,
      'health_checks:',
      '  - name: h',
      '    kind: tcp',
      '    path: /',
      '  - name: slow',
      '    kind: http',
      '    interval_ms: 1000',
      '    timeout_ms: 2000',
    ),
    expect: [
      'dsrd.yaml:12:5: health_checks[0].path: unknown key "path"',
      'dsrd.yaml:16:17: health_checks[1].timeout_ms: expected at most interval_ms (1000), found 2000',
    ],
  },
  {
    name: 'bad regex and bad status range',
    text: yaml(
      ...HEAD,
      ...GROUP,
      'health_checks:',
      '  - name: h',
      '    kind: http',
      '    body_regex: "(unclosed"',
      '    expect_status: 200-99',
    ),
    expect: [
      'dsrd.yaml:12:17: health_checks[0].body_regex: expected a valid JavaScript regular expression, found "(unclosed"',
      'dsrd.yaml:13:20: health_checks[0].expect_status: expected an HTTP status or range such as 200 or "200-399", found "200-99"',
    ],
  },
  {
    name: 'exec check with a relative program path',
    text: yaml(
      ...HEAD,
      ...GROUP,
      'health_checks:',
      '  - name: h',
      '    kind: exec',
      '    command: [check.sh]',
    ),
    expect: [
      'dsrd.yaml:12:15: health_checks[0].command[0]: expected an absolute program path as the first element (no $PATH lookup), found "check.sh"',
    ],
  },
  {
    name: 'exec check program that does not exist',
    text: yaml(
      ...HEAD,
      ...GROUP,
      'health_checks:',
      '  - name: h',
      '    kind: exec',
      '    command: [/opt/nope]',
    ),
    expect: [
      'dsrd.yaml:12:15: health_checks[0].command[0]: cannot run /opt/nope: ENOENT: no such file or directory',
    ],
  },
  {
    name: 'VIP group on an interface that is not listed',
    text: yaml(...HEAD, ...GROUP, '    interface: eth9'),
    expect: ['dsrd.yaml:9:16: vip_groups[0].interface: unknown interface "eth9" (interfaces: eth0)'],
  },
  {
    name: 'tracked service that does not exist',
    text: yaml(...HEAD, ...GROUP, '    track:', '      services: [{name: nope}]'),
    expect: [
      'dsrd.yaml:10:25: vip_groups[0].track.services[0].name: unknown service "nope" (services: none defined)',
    ],
  },
  {
    name: 'octal mode written as a YAML number',
    text: yaml(...HEAD, ...GROUP, 'admin:', '  mode: 0660'),
    expect: [
      'dsrd.yaml:10:9: admin.mode: number 0660 has a leading zero, which YAML 1.2 reads as decimal 660: write 660, or quote it ("0660") if it is an octal mode',
      'dsrd.yaml:10:9: admin.mode: expected a quoted octal file mode such as "0660", found 660',
    ],
  },
  {
    name: 'socket mode open to everyone',
    text: yaml(...HEAD, ...GROUP, 'admin:', '  mode: "0666"'),
    expect: ['dsrd.yaml:10:9: admin.mode: expected a mode that gives others no access, found "0666"'],
  },
  {
    name: 'metrics listen without a port',
    text: yaml(...HEAD, ...GROUP, 'metrics:', '  listen: "::1"'),
    expect: [
      'dsrd.yaml:10:11: metrics.listen: expected ADDRESS:PORT, e.g. 127.0.0.1:9779 or [::1]:9779, found "::1"',
    ],
  },
  {
    name: 'metrics listen on port 0',
    text: yaml(...HEAD, ...GROUP, 'metrics:', '  listen: "127.0.0.1:0"'),
    expect: [
      'dsrd.yaml:10:11: metrics.listen: expected ADDRESS:PORT, e.g. 127.0.0.1:9779 or [::1]:9779, found "127.0.0.1:0"',
    ],
  },
  {
    name: 'two keys without send_id, duplicate key id',
    text: yaml(
      ...HEAD,
      ...GROUP,
      'keys:',
      '  election:',
      '    keys:',
      '      - {id: 1, file: k1.key}',
      '      - {id: 1, file: k2.key}',
    ),
    expect: [
      'dsrd.yaml:10:3: keys.election.send_id: missing required field (expected the id of the key to sign with, one of 1, while two keys are listed)',
      'dsrd.yaml:13:14: keys.election.keys[1].id: duplicate key id (first at line 12)',
    ],
  },
  {
    name: 'three keys',
    text: yaml(
      ...HEAD,
      ...GROUP,
      'keys:',
      '  election:',
      '    keys: [{id: 1, file: a}, {id: 2, file: b}, {id: 3, file: c}]',
    ),
    expect: [
      'dsrd.yaml:11:5: keys.election.keys: expected one or two keys (two only while rotating), found a list',
    ],
  },
  {
    name: 'unreadable key file, relative path resolved against the config directory',
    text: yaml(...HEAD, ...GROUP, 'keys:', '  election:', '    keys: [{id: 1, file: missing.key}]'),
    expect: [
      "dsrd.yaml:11:26: keys.election.keys[0].file: cannot read key file /etc/dsr/missing.key: ENOENT: no such file or directory, open '/etc/dsr/missing.key'",
    ],
  },
  {
    name: 'sync peer that is not a peer',
    text: yaml(
      ...HEAD,
      ...GROUP,
      'peers: [{id: lb2, address: 198.18.0.12}]',
      'keys: {election: {keys: [{id: 1, file: k1.key}]}}',
      'sync:',
      '  peers: [{id: lb3}]',
    ),
    expect: ['dsrd.yaml:12:16: sync.peers[0].id: unknown peer "lb3" (peers: lb2)'],
  },
  {
    name: 'alert target: no url, unknown event, secret on slack',
    text: yaml(
      ...HEAD,
      ...GROUP,
      'alerts:',
      '  targets:',
      '    - name: chat',
      '      kind: slack',
      '      secret_file: webhook.secret',
      '    - name: hook',
      '      kind: generic',
      '      url: https://198.18.0.50/x',
      '      events: [became_master, became_boss]',
    ),
    expect: [
      'dsrd.yaml:11:7: alerts.targets[0].url: missing required field (expected url or url_file)',
      'dsrd.yaml:13:20: alerts.targets[0].secret_file: secret_file signs generic (Standard Webhooks) deliveries only; kind slack does not use it',
      'dsrd.yaml:17:31: alerts.targets[1].events[1]: expected one of became_master, became_backup, became_fault, failover_completed, peer_lost, peer_recovered, quorum_lost, quorum_regained, leader_changed, split_brain_detected, split_brain_resolved, vip_conflict, fingerprint_mismatch, fingerprint_match, real_server_down, real_server_up, service_down, service_up, drain_complete, sync_lag_high, sync_lag_normal, drill_result, heartbeat, found "became_boss"',
    ],
  },
  {
    name: 'alert target rules across fields',
    text: yaml(
      ...HEAD,
      ...GROUP,
      'alerts:',
      '  targets:',
      '    - name: chat',
      '      kind: slack',
      '      secret_file: webhook.secret',
      '      backoff_initial_ms: 5000',
      '      backoff_max_ms: 1000',
    ),
    expect: [
      'dsrd.yaml:11:7: alerts.targets[0].url: missing required field (expected url or url_file)',
      'dsrd.yaml:13:20: alerts.targets[0].secret_file: secret_file signs generic (Standard Webhooks) deliveries only; kind slack does not use it',
      'dsrd.yaml:15:23: alerts.targets[0].backoff_max_ms: expected at least backoff_initial_ms (5000), found 1000',
    ],
  },
];

for (const c of cases) {
  test(`bad config: ${c.name}`, (t) => {
    t.deepEqual(issueLines(c.text), c.expect);
  });
}

test('YAML syntax errors carry a position and the E_CONFIG_PARSE code', (t) => {
  const r = parse(yaml('node:', '  id: lb1', '  id: lb2', 'interfaces: [eth0'));
  t.false(r.ok);
  if (r.ok) return;
  t.is(r.code, 'E_CONFIG_PARSE');
  t.deepEqual(
    r.issues.map((i) => `${i.line}:${i.col} ${i.kind}`),
    ['3:3 syntax', '5:1 syntax'],
  );
  t.regex(r.issues[0].message, /^YAML: Map keys must be unique/);
});

test('tabs used for indentation are a syntax error at their line', (t) => {
  const r = parse('node:\n\tid: lb1\n');
  t.false(r.ok);
  if (r.ok) return;
  t.is(r.code, 'E_CONFIG_PARSE');
  t.is(r.issues[0].line, 2);
});

test('empty file and non-map document', (t) => {
  t.deepEqual(issueLines(''), [
    'dsrd.yaml:1:1: the file is empty: expected a map with at least node, interfaces and vip_groups',
  ]);
  t.deepEqual(issueLines('- a\n'), [
    'dsrd.yaml:1:1: expected a map of sections (node, peers, interfaces, ...), found a list',
  ]);
});

test('every error of every section is returned, not only the first', (t) => {
  const lines = issueLines(
    yaml(
      'node:',
      '  id: "bad name"',
      'interfaces:',
      '  - name: eth0',
      '    xdp_mode: fast',
      'vip_groups:',
      '  - name: web',
      '    id: 0',
      '    vips: [198.18.100.10]',
      'log: {level: loud}',
    ),
  );
  t.deepEqual(
    lines.map((l) => l.split(': ')[1]),
    ['node.id', 'interfaces[0].xdp_mode', 'vip_groups[0].id', 'log.level'],
  );
});

test('key file problems: world-readable, too short; only file problems give E_CONFIG_READ', (t) => {
  const files = fakeFiles({
    '/etc/dsr/open.key': { bytes: KEY_BYTES, mode: 0o644 },
    '/etc/dsr/short.key': { bytes: 'abc\n' },
  });
  const text = yaml(
    ...HEAD,
    ...GROUP,
    'keys:',
    '  election: {keys: [{id: 1, file: open.key}]}',
    '  sync: {keys: [{id: 1, file: short.key}]}',
  );
  t.deepEqual(issueLines(text, files), [
    'dsrd.yaml:10:35: keys.election.keys[0].file: key file /etc/dsr/open.key is readable by every user (mode 0644); chmod 0600 or 0640',
    'dsrd.yaml:11:31: keys.sync.keys[0].file: key file /etc/dsr/short.key holds 3 bytes, expected at least 32',
  ]);
  const r = parse(text, 'dsrd.yaml', files);
  t.is(r.ok ? null : r.code, 'E_CONFIG_READ');
});
