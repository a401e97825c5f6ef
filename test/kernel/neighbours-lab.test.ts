/**
 * forwarder/neighbours.ts against the real kernel in throw-away `dsrl` namespaces: real-server MACs
 * resolved with no traffic at all, re-resolved after a flush, released when a server leaves.
 */
import test from 'ava';
import { interfaceIndex } from '../../core/kernel/libc.ts';
import { RtnlNeighbourTable } from '../../core/netlink/neighbour-table.ts';
import { RealServerNeighbours } from '../../forwarder/neighbours.ts';
import { requireRoot } from '../../lab/require-root.ts';
import { inNamespace, ip, makePair } from './netns.ts';

const skip = requireRoot();
const labTest = skip ? test.skip : test.serial;
if (skip) test('neighbour lab tests', (t) => t.log(`skipped: ${skip}`));

async function until(ms: number, cond: () => boolean): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return cond();
}

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
    t.true(await until(3000, () => n.unresolved().length === 0), JSON.stringify(n.status()));
    t.is(n.macOf(pair.b.ipv4), pair.b.mac);
    t.is(n.macOf(pair.b.ipv6), pair.b.mac);
    t.true(changes.includes(`${pair.b.ipv4} ${pair.b.mac}`));

    // An operator flushes the table: the entries come back by themselves.
    ip('-n', pair.a.ns, 'neigh', 'flush', 'dev', 'veth0');
    t.true(
      await until(3000, () => n.macOf(pair.b.ipv4) === pair.b.mac && n.macOf(pair.b.ipv6) === pair.b.mac),
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
  await new Promise((r) => setTimeout(r, 300));
  t.deepEqual(n.unresolved(), [absent]);
  t.regex(n.status()[0].state, /^(incomplete|failed)$/);
  t.is(n.macOf(absent), undefined);
});
