/** Quorum mode's config: the raft section, witnesses among the peers, a witness's own config, and the rules across them. */
import test from 'ava';
import { issueLines, parseOk, yaml } from './helpers.ts';

const KEYS = ['keys:', '  election:', '    send_id: 1', '    keys: [{id: 1, file: /etc/dsr/k1.key}]'];
const DIRECTOR = [
  'interfaces:',
  '  - name: eth0',
  'vip_groups:',
  '  - name: web',
  '    id: 1',
  '    vips: [198.18.100.10]',
];
const PEERS = [
  'peers:',
  '  - id: lb2',
  '    address: 198.18.0.12',
  '  - id: w1',
  '    address: 198.18.0.13',
  '    witness: true',
];

test('a director of a pair with a witness: raft timing, the witness flagged', (t) => {
  const c = parseOk(yaml('node:', '  id: lb1', ...PEERS, 'election:', '  mode: raft', ...DIRECTOR, ...KEYS));
  t.deepEqual(c.election.raft, {
    port: 9780,
    electionTimeoutMs: 50,
    electionJitterMs: 25,
    heartbeatIntervalMs: 10,
  });
  t.deepEqual(
    c.peers.map((p) => [p.id, p.witness]),
    [
      ['lb2', false],
      ['w1', true],
    ],
  );
  t.is(c.node.role, 'director');
});

test('a witness: no interfaces, VIP groups, services or checks', (t) => {
  const peers = [
    'peers:',
    '  - id: lb1',
    '    address: 198.18.0.11',
    '  - id: lb2',
    '    address: 198.18.0.12',
  ];
  const c = parseOk(
    yaml('node:', '  id: w1', '  role: witness', ...peers, 'election:', '  mode: raft', ...KEYS),
  );
  t.is(c.node.role, 'witness');
  t.deepEqual([c.interfaces, c.vipGroups, c.services], [[], [], []]);
  t.deepEqual(
    issueLines(
      yaml(
        'node:',
        '  id: w1',
        '  role: witness',
        ...peers,
        'election:',
        '  mode: raft',
        ...DIRECTOR,
        ...KEYS,
      ),
    ),
    [
      'dsrd.yaml:11:1: interfaces: a witness forwards nothing and owns no VIP: remove interfaces (node.role is witness)',
      'dsrd.yaml:13:1: vip_groups: a witness forwards nothing and owns no VIP: remove vip_groups (node.role is witness)',
    ],
  );
});

test('the rules across sections: voters, witnesses, mode, timing, ports', (t) => {
  const pair = ['peers:', '  - id: lb2', '    address: 198.18.0.12'];
  t.deepEqual(
    issueLines(yaml('node:', '  id: lb1', ...pair, 'election:', '  mode: raft', ...DIRECTOR, ...KEYS)),
    [
      'dsrd.yaml:7:9: election.mode: quorum mode needs at least three voters (two directors and a witness, or three directors), found 2',
    ],
  );
  t.deepEqual(issueLines(yaml('node:', '  id: lb1', ...PEERS, ...DIRECTOR, ...KEYS)), [
    'dsrd.yaml:8:14: peers[1].witness: witnesses vote in quorum mode only: set election.mode: raft',
  ]);
  const threeWitnesses = [
    ...PEERS,
    ...['  - id: w2', '    address: 198.18.0.14', '    witness: true'],
    ...['  - id: w3', '    address: 198.18.0.15', '    witness: true'],
  ];
  t.deepEqual(
    issueLines(
      yaml('node:', '  id: lb1', ...threeWitnesses, 'election:', '  mode: raft', ...DIRECTOR, ...KEYS),
    ),
    [
      'dsrd.yaml:3:1: peers: too many witnesses: 3 of 5 voters hold no log, and 3 directors must hold an entry for it to commit',
    ],
  );
  const timing = [
    'election:',
    '  mode: raft',
    '  raft: {election_timeout_ms: 30, heartbeat_interval_ms: 20, port: 9778}',
  ];
  t.deepEqual(issueLines(yaml('node:', '  id: lb1', ...PEERS, ...timing, ...DIRECTOR, ...KEYS)), [
    'dsrd.yaml:11:58: election.raft.heartbeat_interval_ms: expected at most half of election.raft.election_timeout_ms (30), so a lease outlives a lost heartbeat, found 20',
    'dsrd.yaml:11:68: election.raft.port: expected a port other than sync.port (9778)',
  ]);
  t.deepEqual(
    issueLines(
      yaml(
        'node:',
        '  id: w1',
        '  role: witness',
        ...PEERS.slice(0, 3),
        '  - id: lb3',
        '    address: 198.18.0.13',
        ...KEYS,
      ),
    ),
    ['dsrd.yaml:3:9: node.role: a witness votes in quorum mode only: set election.mode: raft'],
  );
});
