/** forwarder/neighbours.ts over the fake neighbour table: resolution, freshness, static entries, resync. */
import test from 'ava';
import { NUD_PERMANENT } from '../../core/netlink/constants.ts';
import { FakeNeighbourTable } from '../../core/netlink/fake-neighbour-table.ts';
import { RealServerNeighbours } from '../../forwarder/neighbours.ts';

const settle = () => new Promise((r) => setImmediate(r));

function setup() {
  const table = new FakeNeighbourTable();
  const changes: [string, string | undefined][] = [];
  let tick: (() => void) | undefined;
  const n = new RealServerNeighbours({
    table,
    onChange: (a, m) => changes.push([a, m]),
    timers: {
      setInterval: (fn) => {
        tick = fn;
        return 1;
      },
      clearInterval: () => {
        tick = undefined;
      },
    },
  });
  n.start();
  return { table, n, changes, retry: () => tick?.() };
}

test('new real servers are resolved by the kernel; unresolved until the MAC is learnt', async (t) => {
  const { table, n, changes } = setup();
  await n.setRealServers([
    { ifindex: 2, address: '198.18.0.100' },
    { ifindex: 2, address: '2001:2:0:0::100' },
  ]);
  t.deepEqual(table.calls, ['resolve 2/198.18.0.100', 'resolve 2/2001:2::100']);
  t.deepEqual(n.unresolved(), ['198.18.0.100', '2001:2::100']);
  t.is(n.macOf('198.18.0.100'), undefined);
  t.is(n.status()[0].state, 'incomplete');

  table.learn(2, '198.18.0.100', '02:d5:00:00:00:64');
  t.is(n.macOf('198.18.0.100'), '02:d5:00:00:00:64');
  t.is(n.macOf('2001:2::100'), undefined);
  t.deepEqual(n.unresolved(), ['2001:2::100']);
  t.deepEqual(changes, [['198.18.0.100', '02:d5:00:00:00:64']]);
  t.deepEqual(n.status()[0], {
    address: '198.18.0.100',
    ifindex: 2,
    mac: '02:d5:00:00:00:64',
    state: 'reachable',
    resolved: true,
    static: false,
  });
});

test('a MAC change and a resolution failure are reported; failed servers are asked for again', async (t) => {
  const { table, n, changes, retry } = setup();
  await n.setRealServers([{ ifindex: 2, address: '198.18.0.100' }]);
  table.learn(2, '198.18.0.100', '02:d5:00:00:00:64');
  table.learn(2, '198.18.0.100', '02:d5:00:00:00:65');
  table.fail(2, '198.18.0.100');
  t.deepEqual(changes, [
    ['198.18.0.100', '02:d5:00:00:00:64'],
    ['198.18.0.100', '02:d5:00:00:00:65'],
    ['198.18.0.100', undefined],
  ]);
  t.deepEqual(n.unresolved(), ['198.18.0.100']);
  t.is(n.status()[0].state, 'failed');
  table.calls.length = 0;
  retry();
  await settle();
  t.deepEqual(table.calls, ['resolve 2/198.18.0.100']);
});

test('an existing entry is used at once; an operator static entry is never replaced nor deleted', async (t) => {
  const { table, n } = setup();
  table.setSilently(2, '198.18.0.100', '02:d5:00:00:00:64');
  table.setSilently(2, '198.18.0.101', '02:d5:00:00:00:65', NUD_PERMANENT);
  await n.setRealServers([
    { ifindex: 2, address: '198.18.0.100' },
    { ifindex: 2, address: '198.18.0.101' },
  ]);
  t.is(n.macOf('198.18.0.100'), '02:d5:00:00:00:64');
  t.is(n.macOf('198.18.0.101'), '02:d5:00:00:00:65');
  t.deepEqual(table.calls, ['resolve 2/198.18.0.100'], 'no resolve for the static entry');
  t.true(n.status()[1].static);
  await n.setRealServers([]);
  t.deepEqual(table.calls, ['resolve 2/198.18.0.100', 'release 2/198.18.0.100']);
  t.truthy(await table.lookup(2, '198.18.0.101'), 'static entry left in place');
});

test('a server leaving the set is released and reported unusable', async (t) => {
  const { table, n, changes } = setup();
  await n.setRealServers([{ ifindex: 2, address: '198.18.0.100' }]);
  table.learn(2, '198.18.0.100', '02:d5:00:00:00:64');
  await n.setRealServers([]);
  t.is(n.macOf('198.18.0.100'), undefined);
  t.deepEqual(n.status(), []);
  t.deepEqual(changes.at(-1), ['198.18.0.100', undefined]);
  t.deepEqual(table.calls.at(-1), 'release 2/198.18.0.100');
  t.is(await table.lookup(2, '198.18.0.100'), undefined);
});

test('a flushed entry is asked for again at once; events on other interfaces are ignored', async (t) => {
  const { table, n } = setup();
  await n.setRealServers([{ ifindex: 2, address: '198.18.0.100' }]);
  table.learn(2, '198.18.0.100', '02:d5:00:00:00:64');
  table.calls.length = 0;
  table.forget(2, '198.18.0.100');
  await settle();
  t.deepEqual(table.calls, ['resolve 2/198.18.0.100']);
  table.learn(3, '198.18.0.100', '02:d5:00:00:00:99');
  t.is(n.macOf('198.18.0.100'), undefined);
});

test('lost notifications: a resync re-reads the table', async (t) => {
  const { table, n, changes } = setup();
  await n.setRealServers([{ ifindex: 2, address: '198.18.0.100' }]);
  table.setSilently(2, '198.18.0.100', '02:d5:00:00:00:64');
  t.is(n.macOf('198.18.0.100'), undefined);
  table.overrun();
  await settle();
  t.is(n.macOf('198.18.0.100'), '02:d5:00:00:00:64');
  t.deepEqual(changes, [['198.18.0.100', '02:d5:00:00:00:64']]);
});

test('close stops following the table', async (t) => {
  const { table, n } = setup();
  await n.setRealServers([{ ifindex: 2, address: '198.18.0.100' }]);
  n.close();
  table.learn(2, '198.18.0.100', '02:d5:00:00:00:64');
  t.is(n.macOf('198.18.0.100'), undefined);
});
