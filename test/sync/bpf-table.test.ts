/**
 * The BPF-backed SyncTable and event conversion: what one director reports
 * and another applies lands in its maps so that its program sends the flow
 * to the same real server, even where its own Maglev choice differs.
 */
import test from 'ava';
import { parseIp } from '../../core/net/ip.ts';
import { buildFrame, type FrameSpec, TCP_ACK, TCP_SYN } from '../../forwarder/frames.ts';
import type { ForwarderEvent } from '../../forwarder/layout.ts';
import { BpfSyncTable, eventToSyncEntry } from '../../sync/bpf-table.ts';
import {
  CLIENT_MAC,
  DIRECTOR_MAC,
  dstMac,
  instance,
  realIndex,
  skipReason,
  standardDesired,
  VIP4,
  VIP4_PERSIST,
  VIP6,
} from '../forwarder/support.ts';

const t0 = skipReason ? test.skip : test.serial;
if (skipReason) test.skip(`sync table tests: ${skipReason}`, () => {});

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

t0('events of the active, applied on a standby, steer its program to the same real servers', (t) => {
  const active = instance(t);
  const events: ForwarderEvent[] = [];
  const reader = active.events((e) => events.push(e));
  t.teardown(() => reader.close());
  const flows = [
    ...Array.from({ length: 12 }, (_, i) => spec({ sport: 41000 + i })),
    ...Array.from({ length: 6 }, (_, i) => spec({ src: '2001:2::1:10', dst: VIP6, sport: 42000 + i })),
    spec({ dst: VIP4_PERSIST, dport: 443, sport: 43000 }),
  ];
  const chosen = flows.map((f) => realIndex(active.run(buildFrame(f)).frame));
  reader.drain();
  t.is(events.length, flows.length + 1, 'one event per new flow plus the persistence entry');

  // The standby drains a server the active used, so its own hash would send those flows elsewhere.
  const persisted = chosen[chosen.length - 1];
  const weights = [1, 1, 1];
  weights[(persisted + 1) % 3] = 0;
  const standby = instance(t, standardDesired(weights));
  const table = new BpfSyncTable({
    tables: standby.tables,
    reconciler: standby.reconciler,
    view: standby.store,
  });
  for (const e of events) {
    const entry = eventToSyncEntry(e, { reconciler: active.reconciler, view: active.store });
    t.truthy(entry);
    table.upsert(entry!);
  }
  t.is(table.unknown, 0);
  const after = flows.map((f) => realIndex(standby.run(buildFrame({ ...f, tcpFlags: TCP_ACK })).frame));
  t.deepEqual(after, chosen);
  // The persistence entry came across too: another connection of that client follows it.
  t.is(
    realIndex(standby.run(buildFrame(spec({ dst: VIP4_PERSIST, dport: 443, sport: 43001 }))).frame),
    persisted,
  );
});

t0('a bulk of entries() recreates the tables elsewhere, with lifetimes; removal works', (t) => {
  const a = instance(t);
  for (let i = 0; i < 20; i++) a.run(buildFrame(spec({ sport: 44000 + i, tcpFlags: TCP_ACK })));
  a.run(buildFrame(spec({ dst: VIP4_PERSIST, dport: 443, sport: 44100 })));
  const tableA = new BpfSyncTable({ tables: a.tables, reconciler: a.reconciler, view: a.store });
  const bulk = [...tableA.entries()];
  t.is(bulk.filter((e) => e.kind === 'conn').length, 21);
  t.is(bulk.filter((e) => e.kind === 'persist').length, 1);
  for (const e of bulk) {
    t.true(e.lifetimeMs > 0 && e.lifetimeMs <= 900_000, `lifetime ${e.lifetimeMs}`);
  }
  const b = instance(t);
  const tableB = new BpfSyncTable({ tables: b.tables, reconciler: b.reconciler, view: b.store });
  for (const e of bulk) tableB.upsert(e);
  t.is(b.tables.countConns(), 21);
  const first = bulk.find((e) => e.kind === 'conn' && e.clientPort === 44000)!;
  t.deepEqual(
    dstMac(b.run(buildFrame(spec({ sport: 44000, tcpFlags: TCP_ACK }))).frame),
    dstMac(a.run(buildFrame(spec({ sport: 44000, tcpFlags: TCP_ACK }))).frame),
  );
  tableB.remove({ ...first, kind: 'conn-delete' });
  t.is(b.tables.countConns(), 20);
  // An entry for a real server this director does not have is counted, not applied.
  tableB.upsert({ ...first, clientPort: 45000, realServer: parseIp('198.18.0.99').bytes });
  t.is(tableB.unknown, 1);
  t.is(b.tables.countConns(), 20);
});
