/**
 * The rtnetlink drivers against a real kernel, inside throw-away `dsrl` namespaces: addresses
 * really appear in and vanish from `ip addr`, a link going down is reported, and the neighbour
 * table yields a real peer's MAC (after a ping, and by kernel-managed resolution).
 */
import test from 'ava';
import { isDsrError } from '../../core/errors.ts';
import { interfaceIndex } from '../../core/kernel/libc.ts';
import { RtnlAddressManager, removeAddressNow } from '../../core/netlink/address-manager.ts';
import { IFA_F_NODAD } from '../../core/netlink/constants.ts';
import { type LinkState, linkUsable, RtnlLinkMonitor } from '../../core/netlink/link-monitor.ts';
import { type NeighbourEvent, RtnlNeighbourTable } from '../../core/netlink/neighbour-table.ts';
import { requireRoot } from '../../lab/require-root.ts';
import { inNamespace, ip, makePair } from './netns.ts';

const skip = requireRoot();
const labTest = skip ? test.skip : test.serial;
if (skip) test('rtnetlink lab tests', (t) => t.log(`skipped: ${skip}`));

/** Resolves when `pred` holds for a value pushed into the returned sink, or fails after ms. */
function eventSink<T>(ms: number, pred: (v: T) => boolean): { push: (v: T) => void; done: Promise<T> } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const done = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  const timer = setTimeout(() => reject(new Error(`condition not met within ${ms} ms`)), ms);
  return {
    push: (v) => {
      if (pred(v)) {
        clearTimeout(timer);
        resolve(v);
      }
    },
    done,
  };
}

function addrShow(ns: string): string {
  return ip('-n', ns, 'addr', 'show', 'dev', 'veth0');
}

labTest('address add / list / remove really changes `ip addr` (IPv4 and IPv6 with nodad)', async (t) => {
  const pair = makePair('ad', 200);
  t.teardown(() => pair.destroy());
  const { mgr, ifindex } = inNamespace(pair.a.ns, () => ({
    mgr: new RtnlAddressManager(),
    ifindex: interfaceIndex('veth0'),
  }));
  t.teardown(() => mgr.close());

  t.is(await mgr.add(ifindex, '198.18.200.100', 32), 'added');
  t.is(await mgr.add(ifindex, '2001:2:0:200::100', 128, { noDad: true }), 'added');
  const shown = addrShow(pair.a.ns);
  t.regex(shown, /inet 198\.18\.200\.100\/32 /);
  t.regex(shown, /inet6 2001:2:0:200::100\/128 scope global nodad/);
  t.notRegex(shown, /2001:2:0:200::100\/128.*tentative/);

  const listed = await mgr.list(ifindex);
  const v6 = listed.find((a) => a.address === '2001:2:0:200::100');
  t.truthy(listed.find((a) => a.address === '198.18.200.100' && a.prefixLength === 32 && a.proto === 213));
  t.truthy(v6);
  t.is((v6?.flags ?? 0) & IFA_F_NODAD, IFA_F_NODAD);
  t.truthy(listed.find((a) => a.address === pair.a.ipv4 && a.prefixLength === 24));

  // Idempotent both ways, so re-applying desired state after a crash never fails.
  t.is(await mgr.add(ifindex, '198.18.200.100', 32), 'present');
  t.is(await mgr.remove(ifindex, '198.18.200.100', 32), 'removed');
  t.is(await mgr.remove(ifindex, '2001:2:0:200::100', 128), 'removed');
  t.is(await mgr.remove(ifindex, '198.18.200.100', 32), 'absent');
  const after = addrShow(pair.a.ns);
  t.notRegex(after, /198\.18\.200\.100/);
  t.notRegex(after, /2001:2:0:200::100/);

  // A real failure is an E_NETLINK naming the errno.
  const err = await t.throwsAsync(mgr.add(ifindex + 1000, '198.18.200.101', 32));
  t.true(isDsrError(err, 'E_NETLINK') && err.context.errnoName === 'ENODEV', String(err));
});

labTest(
  'removeAddressNow removes before it returns, with no event loop turn (the election thread)',
  async (t) => {
    const pair = makePair('an', 201);
    t.teardown(() => pair.destroy());
    const { mgr, ifindex } = inNamespace(pair.a.ns, () => ({
      mgr: new RtnlAddressManager(),
      ifindex: interfaceIndex('veth0'),
    }));
    t.teardown(() => mgr.close());
    t.is(await mgr.add(ifindex, '198.18.201.100', 32), 'added');
    t.is(await mgr.add(ifindex, '2001:2:0:201::100', 128, { noDad: true }), 'added');
    const removed = inNamespace(pair.a.ns, () => [
      removeAddressNow(ifindex, '198.18.201.100', 32),
      removeAddressNow(ifindex, '2001:2:0:201::100', 128),
      removeAddressNow(ifindex, '198.18.201.100', 32),
    ]);
    t.deepEqual(removed, ['removed', 'removed', 'absent']);
    const after = addrShow(pair.a.ns);
    t.notRegex(after, /198\.18\.201\.100/);
    t.notRegex(after, /2001:2:0:201::100/);
    const err = t.throws(() =>
      inNamespace(pair.a.ns, () => removeAddressNow(ifindex + 1000, '198.18.201.100', 32)),
    );
    t.true(isDsrError(err, 'E_NETLINK') && err.context.errno === 19, String(err));
  },
);

labTest('link monitor: get, then admin down and carrier loss arrive as events', async (t) => {
  const pair = makePair('lk', 201);
  t.teardown(() => pair.destroy());
  const { mon, ifindex } = inNamespace(pair.a.ns, () => ({
    mon: new RtnlLinkMonitor(),
    ifindex: interfaceIndex('veth0'),
  }));
  t.teardown(() => mon.close());

  const now = await mon.get(ifindex);
  t.is(now?.name, 'veth0');
  t.is(now?.mac, pair.a.mac);
  t.true(linkUsable(now));
  t.is(await mon.get(ifindex + 1000), undefined);

  // Carrier loss: the peer end goes down, our end stays admin-up but loses LOWER_UP.
  const carrier = eventSink<LinkState>(3000, (s) => s.ifindex === ifindex && s.adminUp && !s.lowerUp);
  mon.subscribe(carrier.push);
  ip('-n', pair.b.ns, 'link', 'set', 'veth0', 'down');
  t.false(linkUsable(await carrier.done));

  const admin = eventSink<LinkState>(3000, (s) => s.ifindex === ifindex && !s.adminUp);
  mon.subscribe(admin.push);
  ip('-n', pair.a.ns, 'link', 'set', 'veth0', 'down');
  await admin.done;

  const back = eventSink<LinkState>(3000, (s) => s.ifindex === ifindex && linkUsable(s));
  mon.subscribe(back.push);
  ip('-n', pair.a.ns, 'link', 'set', 'veth0', 'up');
  ip('-n', pair.b.ns, 'link', 'set', 'veth0', 'up');
  t.is((await back.done).operState, 'up');
});

labTest('neighbour table: lookup after a ping, and kernel-managed resolution with events', async (t) => {
  const pair = makePair('nb', 202);
  t.teardown(() => pair.destroy());
  const { table, ifindex } = inNamespace(pair.a.ns, () => ({
    table: new RtnlNeighbourTable(),
    ifindex: interfaceIndex('veth0'),
  }));
  t.teardown(() => table.close());

  t.is(await table.lookup(ifindex, pair.b.ipv4), undefined);
  ip('netns', 'exec', pair.a.ns, 'ping', '-c1', '-W2', pair.b.ipv4);
  const seen = await table.lookup(ifindex, pair.b.ipv4);
  t.is(seen?.mac, pair.b.mac);
  t.true(seen?.valid);
  t.truthy((await table.list(4)).find((e) => e.address === pair.b.ipv4 && e.mac === pair.b.mac));

  // No traffic at all: the kernel resolves a managed entry by itself and reports it.
  const resolved = eventSink<NeighbourEvent>(
    5000,
    (e) => e.kind === 'update' && e.entry.address === pair.b.ipv6 && e.entry.valid,
  );
  table.subscribe(resolved.push);
  await table.resolve(ifindex, pair.b.ipv6);
  const ev = await resolved.done;
  t.is(ev.kind === 'update' ? ev.entry.mac : undefined, pair.b.mac);
  t.regex(ip('-n', pair.a.ns, 'neigh', 'show', pair.b.ipv6), /managed/);

  const gone = eventSink<NeighbourEvent>(3000, (e) => e.kind === 'delete' && e.entry.address === pair.b.ipv6);
  table.subscribe(gone.push);
  await table.release(ifindex, pair.b.ipv6);
  await gone.done;
  await table.release(ifindex, pair.b.ipv6); // already gone: no error
  t.is(await table.lookup(ifindex, pair.b.ipv6), undefined);
});

labTest('an IPv6 address added deprecated is ours but never the source of our own traffic', async (t) => {
  const pair = makePair('dp', 202);
  t.teardown(() => pair.destroy());
  const { mgr, ifindex } = inNamespace(pair.a.ns, () => ({
    mgr: new RtnlAddressManager(),
    ifindex: interfaceIndex('veth0'),
  }));
  t.teardown(() => mgr.close());
  // A /128 VIP in the peer's own /64, with a longer match to the peer's address than ours: the
  // case where Linux would otherwise pick it as the source.
  const vip = '2001:2:0:202::3';
  const routeSource = () =>
    /src (\S+)/.exec(ip('-n', pair.a.ns, '-6', 'route', 'get', pair.b.ipv6))?.[1] ?? 'none';
  t.is(await mgr.add(ifindex, vip, 128, { noDad: true, deprecated: true }), 'added');
  t.regex(addrShow(pair.a.ns), new RegExp(`inet6 ${vip}/128 scope global nodad deprecated`));
  t.is(routeSource(), pair.a.ipv6, 'the interface address, not the VIP');
  // It still answers: the peer resolves and reaches it.
  t.notThrows(() => ip('netns', 'exec', pair.b.ns, 'ping', '-6', '-c', '1', '-W', '2', vip));
  t.is(await mgr.remove(ifindex, vip, 128), 'removed');
  // Not deprecated, the same VIP is the source: what the flag prevents.
  t.is(await mgr.add(ifindex, vip, 128, { noDad: true }), 'added');
  t.is(routeSource(), vip);
});
