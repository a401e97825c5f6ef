/**
 * The drill's flow census through the forwarder part's table worker, against real (unpinned,
 * unattached) BPF maps: live flows, and those with more than a margin left to live. Needs root.
 */
import test from 'ava';
import { ForwarderInstance } from '../../forwarder/harness.ts';
import type { ConnEntry, Flow } from '../../forwarder/layout.ts';
import { TableThread } from '../../forwarder/walks/thread.ts';
import { requireRoot } from '../../lab/index.ts';

const skip = requireRoot();
if (skip) console.log(`drill census test skipped: ${skip}`);

const S = 1_000_000_000n;

(skip ? test.skip : test)('census: live flows, and those with more than the margin left', async (t) => {
  const inst = new ForwarderInstance({
    load: { connEntries: 16_384 },
    desired: {
      directorMac: '02:00:00:00:00:01',
      services: [
        {
          vip: '198.18.0.200',
          protocol: 'tcp',
          port: 80,
          reals: [{ address: '198.18.0.100', weight: 1, mac: '02:00:00:00:00:02' }],
        },
      ],
    },
  });
  const thread = new TableThread(inst as never);
  t.teardown(async () => {
    await thread.close();
    inst.loaded.close();
  });
  inst.fillConnTable(2000, { service: 'tcp/198.18.0.200:80', real: '198.18.0.100' });
  // Age 500 flows by 10 minutes and expire 300 (idle longer than the 900 s established timeout).
  const all: [Flow, ConnEntry][] = [];
  inst.tables.forEachConn((flow, e) => {
    all.push([flow, e]);
  });
  const now = process.hrtime.bigint();
  const aged = all
    .slice(0, 500)
    .map(([f, e]): [Flow, ConnEntry] => [f, { ...e, lastSeenNs: now - 600n * S }]);
  const gone = all
    .slice(500, 800)
    .map(([f, e]): [Flow, ConnEntry] => [f, { ...e, lastSeenNs: now - 1000n * S }]);
  inst.tables.putConns([...aged, ...gone]);

  t.deepEqual(await thread.census(0), { live: 1700, longLived: 1700 });
  // Fresh flows have ~900 s left, the aged ones ~300 s.
  t.deepEqual(await thread.census(360_000), { live: 1700, longLived: 1200 });
  t.deepEqual(await thread.census(200_000), { live: 1700, longLived: 1700 });
  t.deepEqual(await thread.census(901_000), { live: 1700, longLived: 0 });
});
