/** `dsrctl status` as a health probe (cli/status-health.ts): what makes it exit non-zero. */
import test from 'ava';
import type { DaemonStatus } from '../../admin/catalogue/status.ts';
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
