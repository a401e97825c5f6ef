/** `dsrctl status`: the sorry server is one row, named as such, whoever reports it. */
import test from 'ava';
import type { DaemonStatus } from '../../admin/catalogue/status.ts';
import { electionLine } from '../../cli/format/election.ts';
import { formatStatus } from '../../cli/format/status.ts';
import { mergeView, viewFromConfig } from '../../daemon/status.ts';
import { fakeFiles, KEY_BYTES, parseOk, yaml } from '../config/helpers.ts';

const config = parseOk(
  yaml(
    'node:',
    '  id: lb1',
    'interfaces:',
    '  - name: eth0',
    'vip_groups:',
    '  - name: web',
    '    id: 1',
    '    vips: [198.18.100.10]',
    'services:',
    '  - name: http',
    '    vip: 198.18.100.10',
    '    protocol: tcp',
    '    port: 80',
    '    sorry_server: 198.18.200.9',
    '    real_servers:',
    '      - address: 198.18.200.1',
  ),
  fakeFiles({ '/etc/dsr/k1.key': { bytes: KEY_BYTES } }),
);

test('the sorry server is listed from the config, merged with the parts, and marked in the text', (t) => {
  const base = viewFromConfig(config);
  t.like(base.services[0].realServers[1], { address: '198.18.200.9', sorry: true, weight: 0 });
  const view = mergeView(base, [
    // The forwarder lists every backend, the idle sorry server at weight 0 ('draining').
    {
      services: [
        {
          name: 'http',
          realServers: [
            { address: '198.18.200.1', forwarding: 'active', activeFlows: 2 },
            { address: '198.18.200.9', forwarding: 'draining', activeFlows: 0 },
          ],
        },
      ],
    },
    {
      services: [
        {
          name: 'http',
          state: 'up',
          realServers: [
            { address: '198.18.200.1', weight: 1, configuredWeight: 1, state: 'up' },
            { address: '198.18.200.9', weight: 0, configuredWeight: 0, state: 'disabled', sorry: true },
          ],
        },
      ],
    },
  ]);
  t.is(view.services[0].realServers.length, 2);
  const status = {
    ...view,
    node: 'lb1',
    pid: 1,
    version: 'test',
    state: 'running',
    uptimeS: 1,
    config: { path: '/etc/dsr/dsrd.yaml', fingerprint: null, loadedAt: 'now', lastReload: null },
    log: { level: 'info' },
    eventLoop: { delayP99Ms: 1, delayMaxMs: 1, stalls: 0, lastStall: null },
    parts: [],
  } as unknown as DaemonStatus;
  const text = formatStatus(status);
  t.regex(text, /-> +198\.18\.200\.9:80 \(sorry\) +disabled +0 /);
  t.notRegex(text, /undefined|disabled\/draining/);
});

test('the election line shows the thread and what its advert keeper did, or why it does not run', (t) => {
  const keeper = {
    running: true,
    electionCpu: 1,
    keeperCpu: 0,
    scheduling: 'fifo 10',
    problems: [],
    covers: 3,
    advertsSent: 41,
    longestSilenceMs: 104.7,
    gaveUp: 0,
    sendErrors: 0,
  };
  const part = (k: unknown, stalls?: unknown) => [
    {
      name: 'election',
      state: 'running',
      status: { election: { thread: { scheduling: 'fifo 11' }, keeper: k, stalls } },
    },
  ];
  t.is(
    electionLine(part(keeper)),
    'Election thread fifo 11 on CPU 1; keeper on CPU 0: 3 covers, 41 adverts, longest silence 104.7 ms, limit reached 0\n',
  );
  t.is(
    electionLine(part({ ...keeper, running: false, covers: 0, problems: ['one CPU allowed'] })),
    'Election thread fifo 11 on CPU 1; keeper NOT RUNNING (one CPU allowed)\n',
  );
  t.regex(electionLine(part(null)), /keeper not reported/);
  t.regex(
    electionLine(part(keeper, { relearned: 2, covered: 25 })),
    /limit reached 0; stalls 2 relearned, 25 covered\n$/,
  );
  t.is(electionLine([{ name: 'election', status: {} }]), '', 'no election: no line');
  t.is(electionLine([{ name: 'election' }]), '');
});
