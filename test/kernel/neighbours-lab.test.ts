/**
 * forwarder/neighbours.ts against the real kernel in throw-away `dsrl` namespaces: real-server MACs
 * resolved with no traffic at all, re-resolved after a flush, released when a server leaves.
 */
import test from 'ava';
import { interfaceIndex } from '../../core/kernel/libc.ts';
import { RtnlNeighbourTable } from '../../core/netlink/neighbour-table.ts';
import { RealServerNeighbours } from '../../forwarder/neighbours.ts';
import { requireRoot } from '../../lab/require-root.ts';
import { sleep, until } from '../../lab/wait.ts';
import { inNamespace, ip, makePair } from './netns.ts';

const skip = requireRoot();
const labTest = skip ? test.skip : test.serial;
if (skip) test('neighbour lab tests', (t) => t.log(`skipped: ${skip}`));

labTest(
  'real-server MACs: resolved without traffic, re-resolved after a flush, released on removal',
  async (t) => {
    const pair = makePair('rs', 205);
    t.teardown(() => pair.destroy());
    const { table, ifindex } = inNamespace(pair.a.ns, () => ({
      table: new RtnlNeighbourTable(),
      ifindex: interfaceIndex('veth0'),
    }));
    t.teardown(() => table.close());
    const changes: string[] = [];
    const n = new RealServerNeighbours({
      table,
      retryMs: 500,
      onChange: (a, m) => changes.push(`${a} ${m}`),
    });
    t.teardown(() => n.close());
    n.start();

    await n.setRealServers([
      { ifindex, address: pair.b.ipv4 },
      { ifindex, address: pair.b.ipv6 },
    ]);
    await until('every neighbour resolved', () => n.unresolved().length === 0, {
      limitMs: 3000,
      everyMs: 20,
      detail: () => JSON.stringify(n.status()),
    });
    t.is(n.macOf(pair.b.ipv4), pair.b.mac);
    t.is(n.macOf(pair.b.ipv6), pair.b.mac);
    t.true(changes.includes(`${pair.b.ipv4} ${pair.b.mac}`));

    // An operator flushes the table: the entries come back by themselves.
    ip('-n', pair.a.ns, 'neigh', 'flush', 'dev', 'veth0');
    await until(
      'the entries back after a flush',
      () => n.macOf(pair.b.ipv4) === pair.b.mac && n.macOf(pair.b.ipv6) === pair.b.mac,
      { limitMs: 3000, everyMs: 20 },
    );

    // A real server leaving the config: its managed entry is deleted.
    await n.setRealServers([{ ifindex, address: pair.b.ipv4 }]);
    t.is(n.macOf(pair.b.ipv6), undefined);
    t.is(ip('-n', pair.a.ns, 'neigh', 'show', pair.b.ipv6, 'dev', 'veth0').trim(), '');
    t.regex(ip('-n', pair.a.ns, 'neigh', 'show', pair.b.ipv4, 'dev', 'veth0'), /managed/);
  },
);

labTest('an unreachable real server is reported unresolved and has no MAC', async (t) => {
  const pair = makePair('ru', 206);
  t.teardown(() => pair.destroy());
  const { table, ifindex } = inNamespace(pair.a.ns, () => ({
    table: new RtnlNeighbourTable(),
    ifindex: interfaceIndex('veth0'),
  }));
  t.teardown(() => table.close());
  const n = new RealServerNeighbours({ table });
  t.teardown(() => n.close());
  n.start();
  const absent = '198.18.206.99'; // on the segment, but nobody holds it
  await n.setRealServers([{ ifindex, address: absent }]);
  await sleep(300);
  t.deepEqual(n.unresolved(), [absent]);
  t.regex(n.status()[0].state, /^(incomplete|failed)$/);
  t.is(n.macOf(absent), undefined);
});
