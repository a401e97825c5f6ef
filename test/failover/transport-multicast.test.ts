/**
 * Multicast election between two namespaces joined by a veth pair (198.18.250.0/24, group
 * 239.192.77.18 confined to the pair). Needs root; skipped otherwise.
 */
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { run, runIn } from '../../lab/exec.ts';
import { LabProcess } from '../../lab/process.ts';
import { requireRoot } from '../../lab/require-root.ts';
import { deleteNamespaceSync } from '../../lab/sweep.ts';
import { sleep } from '../../lab/wait.ts';

const NODE = process.execPath;
const FIXTURE = fileURLToPath(new URL('./fixtures/election-node.ts', import.meta.url));
const skip = requireRoot();

(skip === null ? test : test.skip)(
  `multicast adverts elect one master across a veth pair${skip ? ` (${skip})` : ''}`,
  async (t) => {
    const ns = [`dsrlmc${process.pid}a`, `dsrlmc${process.pid}b`];
    const children: LabProcess[] = [];
    t.teardown(() => {
      for (const c of children) c.signal('SIGKILL');
      for (const n of ns) deleteNamespaceSync(n);
    });
    for (const n of ns) await run('ip', ['netns', 'add', n]);
    await run('ip', [
      'link',
      'add',
      'eth0',
      'netns',
      ns[0],
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      ns[1],
    ]);
    const addresses = ['198.18.250.1', '198.18.250.2'];
    for (const [i, n] of ns.entries()) {
      await runIn(n, 'ip', ['addr', 'add', `${addresses[i]}/24`, 'dev', 'eth0']);
      await runIn(n, 'ip', ['link', 'set', 'eth0', 'up']);
      await runIn(n, 'ip', ['link', 'set', 'lo', 'up']);
    }
    const spawnNode = (i: number, priority: number) => {
      const args = {
        nodeId: i + 1,
        priority,
        bind: addresses[i],
        port: 9777,
        peer: { nodeId: 2 - i, address: addresses[1 - i] },
        multicast: { group: '239.192.77.18', ttl: 1, interface: 'eth0' },
      };
      const child = new LabProcess(ns[i], NODE, [FIXTURE, JSON.stringify(args)]);
      children.push(child);
      return child;
    };
    const a = spawnNode(0, 200);
    const b = spawnNode(1, 100);
    await a.waitForLine(/"state":"master"/, 20_000);
    // b must have heard a as master before a resigns (on a loaded machine b may start late).
    await b.waitForLine(/"state":"backup"/, 20_000);
    await sleep(300);
    a.signal('SIGTERM');
    // b takes over on a's priority-0 multicast advert, not on a timeout.
    const takeover = await b.waitForLine(/"state":"master","reason":"master-resigned"/, 20_000);
    const stats = JSON.parse(takeover).stats;
    t.true(stats.accepted > 0);
    t.deepEqual(stats.drops, {}, 'no drops: the sender does not hear its own multicast');
  },
);
