/** The reference model on its own (no kernel): the selection rules, over the in-memory maps. */
import test from 'ava';
import { FakeMapStore } from '../../forwarder/fake-map-store.ts';
import { DSR, type Flow, parseMapAddress } from '../../forwarder/layout.ts';
import { buildMaglevTable } from '../../forwarder/maglev.ts';
import { SelectionModel } from '../../forwarder/model.ts';
import { type DesiredState, Reconciler } from '../../forwarder/reconciler.ts';

const SYN = 0x02;
const ACK = 0x10;
const FIN = 0x01;

function desired(weights: number[]): DesiredState {
  const reals = weights.map((weight, i) => ({
    address: `198.18.0.${100 + i}`,
    weight,
    mac: `02:d5:00:00:10:0${i}`,
  }));
  return {
    directorMac: '02:d5:00:00:00:01',
    services: [
      { vip: '198.18.0.200', protocol: 'tcp', port: 80, maglevSize: 251, reals },
      {
        vip: '198.18.0.201',
        protocol: 'udp',
        port: 0,
        maglevSize: 251,
        persistence: { timeoutSec: 10, prefixLen: 24 },
        reals,
      },
    ],
  };
}

function setup(weights = [1, 1, 1]) {
  const store = new FakeMapStore();
  const rec = Reconciler.restore(store, buildMaglevTable);
  rec.reconcile(desired(weights));
  return { store, rec, model: new SelectionModel(store) };
}

const flow = (src: string, sport: number, dst = '198.18.0.200', dport = 80, proto = 6): Flow => ({
  src: parseMapAddress(src).bytes,
  dst: parseMapAddress(dst).bytes,
  sport,
  dport,
  proto,
  family: 4,
});

const S = 1_000_000_000n;

test('new flows go by Maglev, then stay on their real server across a drain', (t) => {
  const { rec, model } = setup();
  const flows = Array.from({ length: 30 }, (_, i) => flow('198.18.1.1', 1000 + i));
  const first = flows.map((f) => model.step({ flow: f, tcpFlags: SYN }, 0n));
  t.true(first.every((v) => v.action === 'forward' && v.via === 'maglev'));
  const reals = first.map((v) => (v.action === 'forward' ? v.realId : -1));
  rec.reconcile(desired([0, 1, 1]));
  const again = flows.map((f) => model.step({ flow: f, tcpFlags: ACK }, S));
  t.deepEqual(
    again.map((v) => (v.action === 'forward' ? v.realId : -1)),
    reals,
  );
  t.true(again.every((v) => v.action === 'forward' && v.via === 'conn'));
  const drained = rec.findReal('tcp/198.18.0.200:80', '198.18.0.100')!.realId;
  for (let i = 0; i < 50; i++) {
    const v = model.step({ flow: flow('198.18.1.2', 5000 + i), tcpFlags: SYN }, S);
    t.true(v.action === 'forward' && v.realId !== drained);
  }
});

test('entries expire by state: closing after 120 s, established after 900 s', (t) => {
  const { model } = setup();
  const f = flow('198.18.1.1', 2000);
  model.step({ flow: f, tcpFlags: SYN }, 0n);
  model.step({ flow: f, tcpFlags: ACK }, S);
  t.is([...model.conns.values()][0].state, DSR.CONN_TCP_EST);
  t.like(model.step({ flow: f, tcpFlags: ACK }, 800n * S), { via: 'conn' });
  model.step({ flow: f, tcpFlags: FIN | ACK }, 801n * S);
  t.like(model.step({ flow: f, tcpFlags: ACK }, 900n * S), { via: 'conn' });
  t.like(model.step({ flow: f, tcpFlags: ACK }, 1021n * S), { via: 'maglev' }, 'idle 121 s while closing');
});

test('persistence: one real server per /24 within the timeout, port-0 service', (t) => {
  const { model } = setup();
  const v1 = model.step({ flow: flow('198.18.5.1', 1, '198.18.0.201', 53, 17) }, 0n);
  t.like(v1, { action: 'forward', via: 'maglev' });
  const v2 = model.step({ flow: flow('198.18.5.99', 2, '198.18.0.201', 9999, 17) }, 5n * S);
  t.like(v2, { action: 'forward', via: 'persist' });
  t.true(v2.action === 'forward' && v1.action === 'forward' && v2.realId === v1.realId);
  // 10 s timeout, refreshed at 5 s: gone at 16 s (hash decides again; same hash, so same server).
  const v3 = model.step({ flow: flow('198.18.5.7', 3, '198.18.0.201', 1, 17) }, 16n * S);
  t.like(v3, { action: 'forward', via: 'maglev' });
});

test('no service: pass; no usable real server: drop; later fragments follow the first', (t) => {
  const { model, rec } = setup();
  t.like(model.step({ flow: flow('198.18.1.1', 1, '198.18.0.200', 22) }, 0n), {
    action: 'pass',
    reason: 'pass_not_service',
  });
  const f = flow('198.18.1.1', 7);
  const first = model.step({ flow: f, tcpFlags: SYN, frag: 'first', fragId: 9 }, 0n);
  const later = model.step({ flow: { ...f, sport: 0, dport: 0 }, frag: 'later', fragId: 9 }, S);
  t.like(later, {
    action: 'forward',
    via: 'fragment',
    realId: first.action === 'forward' ? first.realId : -1,
  });
  t.like(model.step({ flow: f, frag: 'later', fragId: 10 }, S), { action: 'pass', reason: 'pass_fragment' });
  rec.reconcile(desired([0, 0, 0]));
  t.like(model.step({ flow: flow('198.18.1.9', 9), tcpFlags: SYN }, S), {
    action: 'drop',
    reason: 'drop_no_real',
  });
});
