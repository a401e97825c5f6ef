/**
 * BPF fixtures for the choice of real server: connection-table hits across a
 * weight change, persistence hits and expiry, connection expiry and TCP
 * state, services without usable real servers, and the events reported.
 */
import test from 'ava';
import { buildFrame, type FrameSpec, TCP_ACK, TCP_FIN, TCP_RST, TCP_SYN } from '../../forwarder/frames.ts';
import { DSR, type Flow, IPPROTO_TCP, parseMapAddress } from '../../forwarder/layout.ts';
import {
  CLIENT_MAC,
  DIRECTOR_MAC,
  dstMac,
  eventReader,
  instance,
  nowNs,
  REAL_MACS,
  REAL4,
  realIndex,
  reals,
  skipReason,
  standardDesired,
  VIP4,
  VIP4_PERSIST,
} from './support.ts';

const t0 = skipReason ? test.skip : test.serial;
if (skipReason) test.skip(`forwarder selection fixtures: ${skipReason}`, () => {});

const spec = (over: Partial<FrameSpec> = {}): FrameSpec => ({
  srcMac: CLIENT_MAC,
  dstMac: DIRECTOR_MAC,
  src: '198.18.1.10',
  dst: VIP4,
  proto: 'tcp',
  sport: 40000,
  dport: 80,
  tcpFlags: TCP_SYN,
  ...over,
});

function flowOf(s: FrameSpec): Flow {
  return {
    src: parseMapAddress(s.src).bytes,
    dst: parseMapAddress(s.dst).bytes,
    sport: s.sport ?? 0,
    dport: s.dport ?? 0,
    proto: s.proto === 'tcp' ? IPPROTO_TCP : 17,
    family: parseMapAddress(s.src).family,
  };
}

t0(
  'an established flow keeps its real server after a weight change; new flows follow the new weights',
  (t) => {
    const fwd = instance(t);
    const flows = Array.from({ length: 60 }, (_, i) => spec({ sport: 20000 + i }));
    const before = flows.map((f) => realIndex(fwd.run(buildFrame(f)).frame));
    t.true(before.every((i) => i >= 0));
    const victim = before[0];
    // Drain the real server of the first flow: weight 0.
    const weights = [1, 1, 1];
    weights[victim] = 0;
    const report = fwd.reconcile(standardDesired(weights));
    t.true(report.tablesSwapped.length > 0);
    const after = flows.map((f) => realIndex(fwd.run(buildFrame({ ...f, tcpFlags: TCP_ACK })).frame));
    t.deepEqual(after, before, 'every existing flow stays put');
    for (let i = 0; i < 200; i++) {
      const r = fwd.run(buildFrame(spec({ sport: 30000 + i })));
      t.not(realIndex(r.frame), victim, 'no new flow goes to the drained server');
    }
  },
);

t0('persistence: a client (and its /24) sticks to one real server; the entry expires', (t) => {
  const fwd = instance(t);
  const p = (src: string, sport: number) => spec({ src, dst: VIP4_PERSIST, dport: 443, sport });
  const first = fwd.run(buildFrame(p('198.18.1.10', 1000)));
  const chosen = realIndex(first.frame);
  t.true(chosen >= 0);
  for (let i = 1; i < 20; i++) t.is(realIndex(fwd.run(buildFrame(p('198.18.1.10', 1000 + i))).frame), chosen);
  for (let i = 0; i < 20; i++)
    t.is(realIndex(fwd.run(buildFrame(p(`198.18.1.${20 + i}`, 2000 + i))).frame), chosen);
  t.is(fwd.stats.reasons().tx_persist_hit.packets, 39n);

  // Point the persistence entry at another real server: a live entry wins over the hash...
  const other = (chosen + 1) % 3;
  const ids = fwd.reconciler.findReal(`tcp/${VIP4_PERSIST}:443`, REAL4[other])!;
  const key = { client: parseMapAddress('198.18.1.0').bytes, svcId: ids.svcId, family: 4 as const };
  const entry = fwd.tables.getPersist(key);
  t.truthy(entry);
  fwd.tables.putPersist(key, { ...entry!, realId: ids.realId, realGen: ids.realGen, lastSeenNs: nowNs() });
  t.is(realIndex(fwd.run(buildFrame(p('198.18.1.77', 3000))).frame), other);
  // ...and an expired one (older than the 600 s timeout) does not: the hash decides again.
  fwd.tables.putPersist(key, {
    ...entry!,
    realId: ids.realId,
    realGen: ids.realGen,
    lastSeenNs: nowNs() - 601_000_000_000n,
  });
  t.is(realIndex(fwd.run(buildFrame(p('198.18.1.78', 3001))).frame), chosen);
  t.is(
    fwd.tables.getPersist(key)!.realId,
    fwd.reconciler.findReal(`tcp/${VIP4_PERSIST}:443`, REAL4[chosen])!.realId,
  );
});

t0('persistence does not send new flows to a drained real server', (t) => {
  const fwd = instance(t);
  const p = (sport: number) => spec({ dst: VIP4_PERSIST, dport: 443, sport });
  const chosen = realIndex(fwd.run(buildFrame(p(1000))).frame);
  const weights = [1, 1, 1];
  weights[chosen] = 0;
  fwd.reconcile(standardDesired(weights));
  t.is(
    realIndex(fwd.run(buildFrame({ ...p(1000), tcpFlags: TCP_ACK })).frame),
    chosen,
    'existing flow stays',
  );
  t.not(realIndex(fwd.run(buildFrame(p(1001))).frame), chosen, 'new flow moves');
});

t0(
  'a drain that keeps persistence: pinned clients still reach the real server, no other client does',
  (t) => {
    const fwd = instance(t);
    const p = (src: string, sport: number) => spec({ src, dst: VIP4_PERSIST, dport: 443, sport });
    const chosen = realIndex(fwd.run(buildFrame(p('198.18.1.10', 1000))).frame);
    const weights = [1, 1, 1];
    weights[chosen] = 0;
    const desired = standardDesired(weights);
    const persist = desired.services.find((s) => s.port === 443)!;
    persist.reals[chosen] = { ...persist.reals[chosen], keepPinned: true };
    fwd.reconcile(desired);
    const ids = fwd.reconciler.findReal(`tcp/${VIP4_PERSIST}:443`, REAL4[chosen])!;
    t.is(fwd.reconciler.realById(ids.realId)!.state, 'draining');
    // A new connection from the pinned client (its /24) still goes to it...
    t.is(realIndex(fwd.run(buildFrame(p('198.18.1.10', 1001))).frame), chosen, 'pinned client kept');
    t.is(realIndex(fwd.run(buildFrame(p('198.18.1.77', 1002))).frame), chosen, 'its /24 too');
    // ...while clients with no entry never get it (weight 0 in the Maglev table).
    for (let i = 0; i < 40; i++) {
      const other = realIndex(fwd.run(buildFrame(p(`198.18.${10 + i}.5`, 2000 + i))).frame);
      t.not(other, chosen);
    }
  },
);

t0('a real server whose flows move (reschedule_on_down): its established flows are chosen anew', (t) => {
  const fwd = instance(t);
  const flows = Array.from({ length: 30 }, (_, i) => spec({ sport: 21000 + i }));
  const before = flows.map((f) => realIndex(fwd.run(buildFrame(f)).frame));
  const victim = before[0];
  const weights = [1, 1, 1];
  weights[victim] = 0;
  const desired = standardDesired(weights);
  const web = desired.services.find((s) => s.port === 80 && s.vip === VIP4)!;
  web.reals[victim] = { ...web.reals[victim], moveFlows: true };
  fwd.reconcile(desired);
  const after = flows.map((f) => realIndex(fwd.run(buildFrame({ ...f, tcpFlags: TCP_ACK })).frame));
  t.true(
    after.every((r) => r !== victim && r >= 0),
    'no flow stays on it',
  );
  after.forEach((r, i) => {
    if (before[i] !== victim) t.is(r, before[i], 'flows on other real servers stay where they are');
  });
  t.true(fwd.stats.reasons().conn_reselect.packets > 0n);
});

t0('connection entries expire by state timeout and are then chosen anew', (t) => {
  const fwd = instance(t);
  const s = spec({ sport: 45000 });
  const chosen = realIndex(fwd.run(buildFrame(s)).frame);
  const flow = flowOf(s);
  const other = (chosen + 1) % 3;
  const ids = fwd.reconciler.findReal(`tcp/${VIP4}:80`, REAL4[other])!;
  const entry = fwd.tables.getConn(flow)!;
  t.is(entry.state, DSR.CONN_TCP_SYN);
  // A live entry pointing elsewhere wins...
  fwd.tables.putConn(flow, { ...entry, realId: ids.realId, realGen: ids.realGen, lastSeenNs: nowNs() });
  t.is(realIndex(fwd.run(buildFrame({ ...s, tcpFlags: TCP_ACK })).frame), other);
  t.is(fwd.tables.getConn(flow)!.state, DSR.CONN_TCP_EST);
  // ...until it is idle longer than the established timeout (900 s).
  fwd.tables.putConn(flow, {
    ...fwd.tables.getConn(flow)!,
    lastSeenNs: nowNs() - 901_000_000_000n,
  });
  t.is(realIndex(fwd.run(buildFrame({ ...s, tcpFlags: TCP_ACK })).frame), chosen);
  t.is(fwd.stats.reasons().conn_reselect.packets, 1n);
});

t0('TCP state: SYN, established, closing; a SYN always opens a new connection, without a lookup', (t) => {
  const fwd = instance(t);
  const s = spec({ sport: 46000 });
  const flow = flowOf(s);
  fwd.run(buildFrame(s));
  t.is(fwd.tables.getConn(flow)!.state, DSR.CONN_TCP_SYN);
  fwd.run(buildFrame({ ...s, tcpFlags: TCP_ACK }));
  t.is(fwd.tables.getConn(flow)!.state, DSR.CONN_TCP_EST);
  fwd.run(buildFrame({ ...s, tcpFlags: TCP_FIN | TCP_ACK }));
  t.is(fwd.tables.getConn(flow)!.state, DSR.CONN_TCP_CLOSING);
  fwd.run(buildFrame({ ...s, tcpFlags: TCP_ACK }));
  t.is(fwd.tables.getConn(flow)!.state, DSR.CONN_TCP_CLOSING, 'ACKs after FIN keep it closing');
  const before = fwd.stats.reasons();
  fwd.run(buildFrame(s));
  t.is(fwd.tables.getConn(flow)!.state, DSR.CONN_TCP_SYN);
  const after = fwd.stats.reasons();
  t.is(after.conn_reselect.packets, before.conn_reselect.packets, 'no lookup, so nothing to reselect');
  t.is(after.tx_new_flow.packets, before.tx_new_flow.packets + 1n);
  // A SYN on an established entry is a new connection on reused ports, chosen afresh as well.
  fwd.run(buildFrame({ ...s, tcpFlags: TCP_ACK }));
  fwd.run(buildFrame(s));
  t.is(fwd.tables.getConn(flow)!.state, DSR.CONN_TCP_SYN);
  // RST closes too; UDP is UDP.
  fwd.run(buildFrame({ ...s, tcpFlags: TCP_RST }));
  t.is(fwd.tables.getConn(flow)!.state, DSR.CONN_TCP_CLOSING);
  const udp = spec({ sport: 46002, proto: 'udp', dport: 53 });
  fwd.run(buildFrame(udp));
  t.is(fwd.tables.getConn(flowOf(udp))!.state, DSR.CONN_UDP);
});

t0('a service whose real servers are all drained or unresolved drops new flows (counted)', (t) => {
  const desired = (rs: typeof reals extends () => infer R ? R : never) => ({
    directorMac: DIRECTOR_MAC,
    services: [{ vip: VIP4, protocol: 'tcp' as const, port: 80, reals: rs }],
  });
  const fwd = instance(t, desired(reals([0, 0, 0])));
  const r = fwd.run(buildFrame(spec()));
  t.is(r.verdict, 'drop');
  t.is(fwd.stats.reasons().drop_no_real.packets, 1n);
  // Unresolved MACs: no new flows, and the report says so.
  const report = fwd.reconcile(
    desired([
      { address: REAL4[0], weight: 1, mac: null },
      { address: REAL4[1], weight: 1, mac: REAL_MACS[1] },
    ]),
  );
  t.deepEqual(report.unresolved, [{ service: `tcp/${VIP4}:80`, address: REAL4[0] }]);
  for (let i = 0; i < 50; i++)
    t.is(dstMac(fwd.run(buildFrame(spec({ sport: 1000 + i }))).frame), REAL_MACS[1]);
});

t0('new flows, state changes and persistence entries are reported through the ring buffer', (t) => {
  const fwd = instance(t);
  const reader = eventReader(t, fwd);
  reader.drain();
  const s = spec({ sport: 47000 });
  const r = fwd.run(buildFrame(s));
  fwd.run(buildFrame({ ...s, tcpFlags: TCP_ACK }));
  fwd.run(buildFrame({ ...s, tcpFlags: TCP_ACK }));
  fwd.run(buildFrame(spec({ dst: VIP4_PERSIST, dport: 443 })));
  const events = reader.drain();
  const real = fwd.reconciler.findReal(`tcp/${VIP4}:80`, REAL4[realIndex(r.frame)])!;
  t.is(events.length, 4);
  t.like(events[0], {
    type: DSR.EV_NEW_CONN,
    state: DSR.CONN_TCP_SYN,
    realId: real.realId,
    svcId: real.svcId,
  });
  t.deepEqual(events[0].flow, flowOf(s));
  t.like(events[1], { type: DSR.EV_CONN_UPDATE, state: DSR.CONN_TCP_EST, realId: real.realId });
  t.is(events[2].type, DSR.EV_NEW_PERSIST);
  t.deepEqual(events[2].flow.src, parseMapAddress('198.18.1.0').bytes, 'masked client');
  t.is(events[3].type, DSR.EV_NEW_CONN);
});

t0('the event reader hands over every event queued when it is drained, in order', (t) => {
  const fwd = instance(t);
  const reader = eventReader(t, fwd);
  for (let i = 0; i < 3; i++) fwd.run(buildFrame(spec({ sport: 48000 + i })));
  fwd.run(buildFrame(spec({ sport: 48000, tcpFlags: TCP_ACK })));
  const got = reader.drain();
  t.is(got.length, 4, 'every event queued since, at the drain');
  t.deepEqual(
    got.map((e) => [e.flow.sport, e.type]),
    [
      [48000, DSR.EV_NEW_CONN],
      [48001, DSR.EV_NEW_CONN],
      [48002, DSR.EV_NEW_CONN],
      [48000, DSR.EV_CONN_UPDATE],
    ],
  );
  t.is(reader.drain().length, 0, 'a drain frees what it read');
});

t0(
  'SYN-only: a TCP packet of an unknown flow other than a SYN is forwarded, makes no entry and no event',
  (t) => {
    const fwd = instance(t);
    const reader = eventReader(t, fwd);
    const syn = spec({ sport: 48500 });
    const chosen = dstMac(fwd.run(buildFrame(syn)).frame);
    t.is(reader.drain().length, 1);
    // A flood of ACKs and RSTs from sources the table has never seen.
    for (let i = 0; i < 200; i++) {
      const r = fwd.run(
        buildFrame(
          spec({
            src: `198.18.${2 + (i >> 8)}.${i & 255}`,
            sport: 30000 + i,
            tcpFlags: i % 2 ? TCP_ACK : TCP_RST,
          }),
        ),
      );
      t.is(r.verdict, 'tx');
    }
    t.is(fwd.tables.countConns(), 1, 'no entry for the flood');
    t.is(reader.drain().length, 0, 'no event for the flood');
    t.is(fwd.stats.reasons().tx_stateless.packets, 200n);
    // The same flow's later packets go where its SYN went, with or without an entry.
    fwd.tables.deleteConn(flowOf(syn));
    t.deepEqual(dstMac(fwd.run(buildFrame({ ...syn, tcpFlags: TCP_ACK })).frame), chosen);
    // With SYN-only off, a packet picked up mid-stream makes an established entry, as before.
    fwd.reconcile({ ...standardDesired(), settings: { synOnly: false } });
    const mid = spec({ sport: 46001, tcpFlags: TCP_ACK });
    fwd.run(buildFrame(mid));
    t.is(fwd.tables.getConn(flowOf(mid))!.state, DSR.CONN_TCP_EST);
  },
);

t0('the userspace sweep removes exactly the entries the program treats as expired', (t) => {
  const fwd = instance(t);
  const specs = Array.from({ length: 10 }, (_, i) => spec({ sport: 49000 + i }));
  for (const s of specs) fwd.run(buildFrame(s));
  fwd.run(buildFrame(spec({ dst: VIP4_PERSIST, dport: 443, sport: 49100 })));
  const old = nowNs() - 901_000_000_000n;
  for (const s of specs.slice(0, 4))
    fwd.tables.putConn(flowOf(s), { ...fwd.tables.getConn(flowOf(s))!, lastSeenNs: old });
  t.is(fwd.tables.countConns(), 11);
  // One that stays is closing (a FIN was seen): counted apart.
  fwd.tables.putConn(flowOf(specs[9]), {
    ...fwd.tables.getConn(flowOf(specs[9]))!,
    state: DSR.CONN_TCP_CLOSING,
  });
  const live = { open: new Map<number, number>(), closing: new Map<number, number>() };
  t.is(fwd.tables.sweepConns(fwd.store.getConfig(), nowNs(), live), 4);
  const sum = (m: Map<number, number>) => [...m.values()].reduce((a, b) => a + b, 0);
  t.is(sum(live.open), 6, 'the open ones that stay, counted by real id');
  t.is(sum(live.closing), 1, 'the closing one apart');
  t.is(fwd.tables.countConns(), 7);
  t.is(fwd.tables.getConn(flowOf(specs[0])), null);
  t.truthy(fwd.tables.getConn(flowOf(specs[9])));
  // Persistence: entries of a service that is gone, or older than its timeout, go.
  const clients = new Map<number, number>();
  t.deepEqual(
    fwd.tables.sweepPersist(() => 600_000_000_000n, nowNs(), clients),
    { removed: 0, kept: 1 },
  );
  t.is(sum(clients), 1, 'the persistence entry that stays, counted by real id');
  t.deepEqual(
    fwd.tables.sweepPersist(() => null, nowNs()),
    { removed: 1, kept: 0 },
  );
});
