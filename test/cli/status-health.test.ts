/** `dsrctl status` as a health probe (cli/status-health.ts): what makes it exit non-zero. */
import test from 'ava';
import type { DaemonStatus } from '../../admin/catalogue/status.ts';
import { quorumLine } from '../../cli/format/quorum.ts';
import { statusProblems } from '../../cli/status-health.ts';

function status(over: Partial<DaemonStatus> = {}): DaemonStatus {
  return {
    node: 'lb1',
    pid: 1,
    version: '0.1.0',
    state: 'running',
    uptimeS: 10,
    config: { path: '/etc/dsr-director/dsrd.yaml', fingerprint: 'f', loadedAt: '', lastReload: null },
    log: { level: 'info' },
    eventLoop: { delayP99Ms: 1, delayMaxMs: 1, stalls: 0, maxGapMs: 0, lastStall: null },
    parts: [
      { name: 'forwarder', state: 'running' },
      { name: 'election', state: 'running' },
    ],
    groups: [
      { name: 'web', id: 51, role: 'master', priority: 150, effectivePriority: 150, master: 'lb1', vips: [] },
      {
        name: 'mail',
        id: 52,
        role: 'backup',
        priority: 100,
        effectivePriority: 100,
        master: 'lb2',
        vips: [],
      },
    ],
    peers: [],
    services: [],
    ...over,
  };
}

test('a running director, master of one group and backup of another, is healthy', (t) => {
  t.deepEqual(statusProblems(status()), []);
});

test('a part not running, a group in Fault, a daemon still starting: each named', (t) => {
  const s = status({
    state: 'starting',
    parts: [
      { name: 'forwarder', state: 'failed', error: 'XDP attach refused' },
      { name: 'election', state: 'running' },
    ],
    groups: [
      {
        name: 'web',
        id: 51,
        role: 'fault',
        priority: 150,
        effectivePriority: 0,
        master: null,
        vips: [],
        reason: 'link:eth0 failing',
      },
    ],
  });
  t.deepEqual(statusProblems(s), [
    'the daemon is starting',
    'part forwarder is failed: XDP attach refused',
    'VIP group web is in Fault (link:eth0 failing)',
  ]);
});

test('quorum mode: a voter that hears neither a majority nor a leader is not healthy; one with a quorum is, and its lines say so', (t) => {
  const quorum = (q: boolean) => ({
    role: 'follower',
    term: 4,
    leader: q ? 'lb2' : null,
    leaseLeftMs: 0,
    quorum: q,
    voters: [
      { name: 'lb1', witness: false, reachable: true },
      { name: 'lb2', witness: false, reachable: q },
      { name: 'w1', witness: true, reachable: false },
    ],
  });
  const parts = (q: boolean) => [
    { name: 'election', state: 'running' as const, status: { quorum: quorum(q) } },
  ];
  t.deepEqual(statusProblems(status({ parts: parts(true) })), []);
  t.deepEqual(statusProblems(status({ parts: parts(false) })), [
    'no quorum: this voter hears neither a majority of the voters nor a leader',
  ]);
  t.is(
    quorumLine(parts(false)),
    'Quorum mode: follower, term 4, leader none\n' +
      'Voters lb1 reachable, lb2 NOT HEARD, w1 (witness) NOT HEARD; NO QUORUM: no director may hold the VIPs from here\n',
  );
  t.is(quorumLine([{ name: 'election', status: { election: {} } }]), '', 'VRRP mode: no quorum line');
});
