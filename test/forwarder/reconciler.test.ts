/**
 * Reconciler unit tests over the in-memory map store: minimal writes,
 * idempotence, write order, ids and generations, unresolved MACs, restore,
 * and bad input that changes nothing.
 */
import test from 'ava';
import { isDsrError } from '../../core/errors.ts';
import { formatMac } from '../../core/net/mac.ts';
import { FakeMapStore } from '../../forwarder/fake-map-store.ts';
import { DSR, parseMapAddress } from '../../forwarder/layout.ts';
import { buildMaglevTable } from '../../forwarder/maglev.ts';
import { type DesiredService, type DesiredState, Reconciler } from '../../forwarder/reconciler.ts';

const DIRECTOR = '02:d5:00:00:00:01';
const MACS = ['02:d5:00:00:10:01', '02:d5:00:00:10:02', '02:d5:00:00:10:03'];
const ADDRS = ['198.18.0.100', '198.18.0.101', '198.18.0.102'];

function web(weights = [1, 1, 1], macs: Array<string | null> = MACS): DesiredService {
  return {
    vip: '198.18.0.200',
    protocol: 'tcp',
    port: 80,
    maglevSize: 251,
    reals: ADDRS.map((address, i) => ({ address, weight: weights[i], mac: macs[i] })),
  };
}

function dns(): DesiredService {
  return {
    vip: '2001:2::200',
    protocol: 'udp',
    port: 53,
    maglevSize: 101,
    persistence: { timeoutSec: 60, prefixLen: 64 },
    reals: [{ address: '2001:2::10', weight: 1, mac: MACS[0] }],
  };
}

const state = (...services: DesiredService[]): DesiredState => ({ directorMac: DIRECTOR, services });

function setup(): { store: FakeMapStore; rec: Reconciler } {
  const store = new FakeMapStore();
  return { store, rec: Reconciler.restore(store, buildMaglevTable) };
}

test('a fresh state is written in a safe order; the same state again writes nothing', (t) => {
  const { store, rec } = setup();
  const report = rec.reconcile(state(web()));
  t.deepEqual(report.servicesAdded, ['tcp/198.18.0.200:80']);
  t.deepEqual(store.writes, [
    'putConfig',
    'putReal 0',
    'putReal 1',
    'putReal 2',
    'swap 0',
    'putService 0',
    'putServiceId 0',
  ]);
  t.is(report.writes, store.writes.length);
  const again = rec.reconcile(state(web()));
  t.is(again.writes, 0);
  t.is(store.writes.length, 7);
});

test('the Maglev table names real ids exactly as buildMaglevTable places the addresses', (t) => {
  const { store, rec } = setup();
  rec.reconcile(state(web([1, 2, 3])));
  const table = store.getMaglevTable(0)!;
  const want = buildMaglevTable(
    ADDRS.map((key, i) => ({ key, weight: i + 1 })),
    251,
  );
  t.is(table.length, 251);
  for (let i = 0; i < 251; i++) {
    const real = store.getReal(table[i])!;
    t.is(formatMac(real.mac), MACS[want[i]]);
  }
  const svc = store.getService(0)!;
  t.is(svc.maglevSize, 251);
  t.is(svc.flags, DSR.SVC_F_ACTIVE);
  t.is(
    store.lookupServiceId({ vip: parseMapAddress('198.18.0.200').bytes, port: 80, proto: 6, family: 4 }),
    0,
  );
});

test('a weight change swaps the table and rewrites only that real server', (t) => {
  const { store, rec } = setup();
  rec.reconcile(state(web()));
  const n = store.writes.length;
  const report = rec.reconcile(state(web([1, 0, 1])));
  t.deepEqual(store.writes.slice(n), ['putReal 1', 'swap 0']);
  t.deepEqual(report.tablesSwapped, ['tcp/198.18.0.200:80']);
  const drained = store.getReal(1)!;
  t.is(drained.flags, DSR.REAL_F_VALID | DSR.REAL_F_DRAIN);
  t.false(store.getMaglevTable(0)!.includes(1));
});

test('a drained real server that keeps its pinned clients: valid, no drain flag, not in the table', (t) => {
  const { store, rec } = setup();
  const svc = web([1, 0, 1]);
  svc.reals[1] = { ...svc.reals[1], keepPinned: true };
  rec.reconcile(state(svc));
  t.is(store.getReal(1)!.flags, DSR.REAL_F_VALID, 'persistence hits still reach it');
  t.false(store.getMaglevTable(0)!.includes(1), 'no new flows by the hash');
  t.is(rec.status()[0].reals[1].state, 'draining');
  t.is(
    Reconciler.restore(store, buildMaglevTable).status()[0].reals[1].state,
    'draining',
    'after a restart too',
  );
  // keepPinned means nothing at a positive weight, and is dropped with the drain.
  const up = web([1, 1, 1]);
  up.reals[1] = { ...up.reals[1], keepPinned: true };
  rec.reconcile(state(up));
  t.is(store.getReal(1)!.flags, DSR.REAL_F_VALID);
  t.true(store.getMaglevTable(0)!.includes(1));
  rec.reconcile(state(web([1, 0, 1])));
  t.is(store.getReal(1)!.flags, DSR.REAL_F_VALID | DSR.REAL_F_DRAIN);
});

test('moving the flows of a real server: not valid (hits are chosen anew), MAC kept, back when up', (t) => {
  const { store, rec } = setup();
  rec.reconcile(state(web()));
  const svc = web([1, 0, 1]);
  svc.reals[1] = { ...svc.reals[1], moveFlows: true };
  rec.reconcile(state(svc));
  t.is(store.getReal(1)!.flags, 0);
  t.is(formatMac(store.getReal(1)!.mac), MACS[1]);
  t.false(store.getMaglevTable(0)!.includes(1));
  rec.reconcile(state(web()));
  t.is(store.getReal(1)!.flags, DSR.REAL_F_VALID);
  t.true(store.getMaglevTable(0)!.includes(1));
  // Only a real server out of rotation moves its flows.
  const up = web();
  up.reals[1] = { ...up.reals[1], moveFlows: true };
  rec.reconcile(state(up));
  t.is(store.getReal(1)!.flags, DSR.REAL_F_VALID);
});

test('a MAC change rewrites the real server only', (t) => {
  const { store, rec } = setup();
  rec.reconcile(state(web()));
  const n = store.writes.length;
  rec.reconcile(state(web([1, 1, 1], [MACS[0], '02:d5:00:00:10:99', MACS[2]])));
  t.deepEqual(store.writes.slice(n), ['putReal 1']);
  t.is(formatMac(store.getReal(1)!.mac), '02:d5:00:00:10:99');
});

test('unresolved MACs get no new flows and are reported; a lost MAC is kept for existing flows', (t) => {
  const { store, rec } = setup();
  const r1 = rec.reconcile(state(web([1, 1, 1], [MACS[0], null, MACS[2]])));
  t.deepEqual(r1.unresolved, [{ service: 'tcp/198.18.0.200:80', address: '198.18.0.101' }]);
  t.is(store.getReal(1)!.flags, 0, 'never resolved: cannot carry anything');
  t.false(store.getMaglevTable(0)!.includes(1));
  t.is(rec.status()[0].reals[1].state, 'unresolved');

  rec.reconcile(state(web()));
  t.true(store.getMaglevTable(0)!.includes(1), 'resolved: takes new flows');

  const r3 = rec.reconcile(state(web([1, 1, 1], [null, MACS[1], MACS[2]])));
  t.deepEqual(r3.unresolved, [{ service: 'tcp/198.18.0.200:80', address: '198.18.0.100' }]);
  const lost = store.getReal(0)!;
  t.is(lost.flags, DSR.REAL_F_VALID | DSR.REAL_F_DRAIN);
  t.is(formatMac(lost.mac), MACS[0]);
  t.false(store.getMaglevTable(0)!.includes(0));
  t.is(rec.status()[0].reals[0].state, 'stale-mac');
});

test('removing a real server: table first, then the slot is freed; a reused id gets a new generation', (t) => {
  const { store, rec } = setup();
  rec.reconcile(state(web()));
  const gen = store.getReal(2)!.gen;
  const n = store.writes.length;
  const svc = web();
  svc.reals = svc.reals.slice(0, 2);
  rec.reconcile(state(svc));
  t.deepEqual(store.writes.slice(n), ['swap 0', 'putReal 2']);
  const freed = store.getReal(2)!;
  t.is(freed.flags, 0);
  t.is(freed.family, 0);
  t.is(freed.gen, gen);
  rec.reconcile(state(web()));
  t.is(store.getReal(2)!.gen, gen + 1);
});

test('removing a service: key first, then entry, table and real servers', (t) => {
  const { store, rec } = setup();
  rec.reconcile(state(web(), dns()));
  const n = store.writes.length;
  const report = rec.reconcile(state(dns()));
  t.deepEqual(report.servicesRemoved, ['tcp/198.18.0.200:80']);
  t.deepEqual(store.writes.slice(n), [
    'deleteServiceId',
    'putService 0',
    'clear 0',
    'putReal 0',
    'putReal 1',
    'putReal 2',
  ]);
  t.is(store.getService(0)!.flags, 0);
  t.is(store.listServiceIds().length, 1);
});

test('persistence settings reach the service entry', (t) => {
  const { store, rec } = setup();
  rec.reconcile(state(dns()));
  const svc = store.getService(0)!;
  t.is(svc.flags, DSR.SVC_F_ACTIVE | DSR.SVC_F_PERSIST);
  t.is(svc.persistTimeoutNs, 60_000_000_000n);
  t.deepEqual([...svc.mask], [...new Array(8).fill(0xff), ...new Array(8).fill(0)]);
});

test('settings and egress devices: only what changed is written', (t) => {
  const { store, rec } = setup();
  const s = state(web());
  s.services[0].reals[0].ifindex = 7;
  s.egressMacs = { 7: '02:d5:00:00:07:07' };
  rec.reconcile(s);
  t.deepEqual(store.listTxDevices(), [7]);
  t.is(formatMac(store.getReal(0)!.srcMac), '02:d5:00:00:07:07');
  t.is(formatMac(store.getReal(1)!.srcMac), DIRECTOR);
  const n = store.writes.length;
  rec.reconcile({ ...s, settings: { tcpEstablishedSec: 600 } });
  t.deepEqual(store.writes.slice(n), ['putConfig']);
  t.is(store.getConfig().tcpEstTimeoutNs, 600_000_000_000n);
  rec.reconcile({ ...state(web()), settings: { tcpEstablishedSec: 600 } });
  t.deepEqual(store.listTxDevices(), []);
});

test('a restarted reconciler restores ids from the maps and changes nothing but the tables', (t) => {
  const { store, rec } = setup();
  rec.reconcile(state(web([3, 1, 2]), dns()));
  const before = { reals: store.listReals(), services: store.listServices(), ids: store.listServiceIds() };
  const n = store.writes.length;
  const restarted = Reconciler.restore(store, buildMaglevTable);
  const report = restarted.reconcile(state(web([3, 1, 2]), dns()));
  t.deepEqual(report.servicesAdded, []);
  t.deepEqual(
    store.writes.slice(n),
    ['swap 0', 'swap 1'],
    'tables are rebuilt once (their contents are unknown)',
  );
  t.deepEqual(
    { reals: store.listReals(), services: store.listServices(), ids: store.listServiceIds() },
    before,
  );
  t.deepEqual(
    restarted.findReal('tcp/198.18.0.200:80', '198.18.0.102'),
    rec.findReal('tcp/198.18.0.200:80', '198.18.0.102'),
  );
  t.is(restarted.reconcile(state(web([3, 1, 2]), dns())).writes, 0);
});

test('bad desired states are refused before any write', (t) => {
  const { store, rec } = setup();
  rec.reconcile(state(web()));
  const n = store.writes.length;
  const bad: Array<[string, DesiredState]> = [
    ['bad MAC', state(web([1, 1, 1], [MACS[0], 'zz:00:00:00:00:00', MACS[2]]))],
    ['bad VIP', state({ ...web(), vip: '198.18.0.300' })],
    ['non-prime size', state({ ...web(), maglevSize: 100 })],
    ['negative weight', state(web([1, -1, 1]))],
    ['fractional weight', state(web([1, 0.5, 1]))],
    ['duplicate real', state({ ...web(), reals: [...web().reals, web().reals[0]] })],
    ['duplicate service', state(web(), web())],
    ['bad port', state({ ...web(), port: 70000 })],
    ['bad vlan', state({ ...web(), reals: [{ address: ADDRS[0], weight: 1, mac: MACS[0], vlan: 4095 }] })],
    ['bad director MAC', { directorMac: 'nope', services: [web()] }],
    ['bad timeout', { ...state(web()), settings: { udpSec: -1 } }],
  ];
  for (const [what, s] of bad) {
    const e = t.throws(() => rec.reconcile(s), undefined, what);
    t.true(
      isDsrError(e, 'E_FORWARDER_STATE') || isDsrError(e, 'E_ADDRESS_INVALID'),
      `${what}: ${e?.message}`,
    );
  }
  t.is(store.writes.length, n);
});

test('more services than the maps hold are refused before any write', (t) => {
  const { store, rec } = setup();
  const many = Array.from({ length: DSR.MAX_SERVICES + 1 }, (_, i) => ({
    ...web(),
    port: i + 1,
    maglevSize: 7,
    reals: [],
  }));
  const e = t.throws(() => rec.reconcile(state(...many)));
  t.true(isDsrError(e, 'E_FORWARDER_STATE'));
  t.is(store.writes.length, 0);
});
