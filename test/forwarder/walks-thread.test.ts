/**
 * The forwarder part's table worker against real (unpinned, unattached) BPF maps: counts, sweep
 * and the conns listing come back from the worker thread. Needs root (BPF).
 */
import { readdirSync, readFileSync } from 'node:fs';
import test from 'ava';
import { ForwarderInstance } from '../../forwarder/harness.ts';
import { TableThread } from '../../forwarder/walks/thread.ts';
import { requireRoot } from '../../lab/index.ts';

const skip = requireRoot();
if (skip) console.log(`table worker test skipped: ${skip}`);

(skip ? test.skip : test)(
  'table worker: counts per real, conns filtered by client prefix and service',
  async (t) => {
    const inst = new ForwarderInstance({
      load: { connEntries: 16_384 },
      desired: {
        directorMac: '02:00:00:00:00:01',
        services: [
          {
            vip: '198.18.0.200',
            protocol: 'tcp',
            port: 80,
            reals: [
              { address: '198.18.0.100', weight: 1, mac: '02:00:00:00:00:02' },
              { address: '198.18.0.101', weight: 1, mac: '02:00:00:00:00:03' },
            ],
          },
        ],
      },
    });
    const thread = new TableThread(inst as never);
    t.teardown(async () => {
      await thread.close();
      inst.loaded.close();
    });
    // Clients 198.18.0.0 + (i >> 10), ports 1024 + (i & 1023) (harness.ts).
    inst.fillConnTable(3000, { service: 'tcp/198.18.0.200:80', real: '198.18.0.100' });
    inst.fillConnTable(500, { service: 'tcp/198.18.0.200:80', real: '198.18.0.101', dport: 80 });
    const ids = new Map(inst.reconciler.status()[0].reals.map((r) => [r.address, r.id]));
    const r = await thread.tick();
    t.is(r.swept.conns, 0, 'fresh entries are not swept');
    t.is(r.counts.total, 3000, 'the second fill rewrote 500 of the same flows (same clients and ports)');
    t.is(r.counts.open.get(ids.get('198.18.0.100')!), 2500);
    t.is(r.counts.open.get(ids.get('198.18.0.101')!), 500);
    t.is(r.counts.closing.size, 0, 'no FIN seen: none closing');
    const names = new Map([...ids].map(([address, id]) => [id, { service: 'web', address }]));
    const onlyFirstClient = await thread.conns(names, { client: '198.18.0.0/32', limit: 5 });
    t.is(onlyFirstClient.total, 1024);
    t.is(onlyFirstClient.entries.length, 5);
    t.like(onlyFirstClient.entries[0], {
      service: 'web',
      client: '198.18.0.0',
      vip: '198.18.0.200',
      vipPort: 80,
    });
    const none = await thread.conns(names, { service: 'other', limit: 5 });
    t.deepEqual(none, { entries: [], total: 0 });
    const bad = await t.throwsAsync(thread.conns(names, { client: '198.18.0.0/40', limit: 1 }));
    t.regex(bad.message, /prefix length must be 0..32/);
  },
);

/** A thread's nice value from its stat file (proc(5): field 19). */
const niceIn = (stat: string): number => Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);

/** This process's threads and their nice values. */
function threadNices(): Map<string, number> {
  const nices = new Map<string, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      nices.set(tid, niceIn(readFileSync(`/proc/self/task/${tid}/stat`, 'utf8')));
    } catch {
      // the thread ended meanwhile
    }
  }
  return nices;
}

(skip ? test.skip : test)(
  'the table worker runs at nice 19: a walk of a million entries yields the CPU to the sync and the event loop',
  async (t) => {
    const before = threadNices();
    const inst = new ForwarderInstance({ load: { connEntries: 1024 } });
    const thread = new TableThread(inst as never);
    t.teardown(async () => {
      await thread.close();
      inst.loaded.close();
    });
    await thread.tick(); // the worker has run its start
    // Other test files run in this process too: the new thread is among the threads that appeared.
    const appeared = [...threadNices()].filter(([tid]) => !before.has(tid));
    t.true(
      appeared.some(([, nice]) => nice === 19),
      `threads that appeared: ${appeared.map(([tid, n]) => `${tid} nice ${n}`).join(', ')}`,
    );
    t.is(
      niceIn(readFileSync('/proc/thread-self/stat', 'utf8')),
      0,
      'the thread that started it keeps its own',
    );
  },
);
