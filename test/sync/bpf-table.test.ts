/**
 * The forwarder's tables as the sync sees them (BpfTables over real BPF maps, the program driven by
 * BPF_PROG_TEST_RUN): what one director's program reports and another applies lands in its maps so
 * that its program sends the flow to the same real server, even where its own Maglev choice differs;
 * a bulk read recreates the tables elsewhere; copies live a refresh period longer; a sweep after a
 * bulk removes the peer's stale entries but never ours; the refresh walk reads only ours.
 */
import test, { type ExecutionContext } from 'ava';
import { parseIp } from '../../core/net/ip.ts';
import { Directory } from '../../forwarder/directory.ts';
import { buildFrame, type FrameSpec, TCP_ACK, TCP_SYN } from '../../forwarder/frames.ts';
import type { ForwarderInstance } from '../../forwarder/harness.ts';
import { BpfTables } from '../../sync/bpf-table.ts';
import { packEntries, readEntries, type SyncEntry } from '../../sync/entries.ts';
import type { Packed } from '../../sync/table.ts';
import { VipSet } from '../../sync/vip-set.ts';
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

const MARGIN_MS = 60_000;

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

function tables(
  t: ExecutionContext,
  fwd: ForwarderInstance,
  opts: { events?: boolean; ours?: readonly Uint8Array[] } = {},
): BpfTables {
  const m = fwd.loaded.maps;
  const bt = new BpfTables({
    maps: { conns4: m.conns4, conns6: m.conns6, persist: m.persist },
    events: opts.events ? m.events : null,
    directory: () => new Directory(fwd.reconciler.directory()),
    ours: () => new VipSet(opts.ours ?? []),
    marginMs: MARGIN_MS,
  });
  t.teardown(() => bt.close());
  return bt;
}

function decode(p: Packed): SyncEntry[] {
  const d = readEntries(p.entries, 0, p.entries.length, 1 << 20);
  if (!d.ok) throw new Error(d.reason);
  return d.entries;
}

function readBulk(bt: BpfTables): SyncEntry[] {
  const src = bt.openBulk();
  const all: SyncEntry[] = [];
  for (let chunk = src.next(); chunk !== null; chunk = src.next())
    all.push(...decode({ entries: chunk, count: 0 }));
  src.close();
  return all;
}

t0('what the active reports, applied on a standby, steers its program to the same real servers', (t) => {
  const active = instance(t);
  const source = tables(t, active, { events: true });
  const flows = [
    ...Array.from({ length: 12 }, (_, i) => spec({ sport: 41000 + i })),
    ...Array.from({ length: 6 }, (_, i) => spec({ src: '2001:2::1:10', dst: VIP6, sport: 42000 + i })),
    spec({ dst: VIP4_PERSIST, dport: 443, sport: 43000 }),
  ];
  const chosen = flows.map((f) => realIndex(active.run(buildFrame(f)).frame));
  const reported = source.changes();
  t.is(reported.count, flows.length + 1, 'one entry per new flow plus the persistence entry');
  t.is(source.counters.events, flows.length + 1);

  // The standby drains a server the active used, so its own hash would send those flows elsewhere.
  const persisted = chosen[chosen.length - 1];
  const weights = [1, 1, 1];
  weights[(persisted + 1) % 3] = 0;
  const standby = instance(t, standardDesired(weights));
  const sink = tables(t, standby);
  sink.write(reported.entries, 7, false);
  t.is(sink.counters.unknown, 0);
  const after = flows.map((f) => realIndex(standby.run(buildFrame({ ...f, tcpFlags: TCP_ACK })).frame));
  t.deepEqual(after, chosen);
  // The persistence entry came across too: another connection of that client follows it.
  t.is(
    realIndex(standby.run(buildFrame(spec({ dst: VIP4_PERSIST, dport: 443, sport: 43001 }))).frame),
    persisted,
  );
});

t0(
  'a bulk read recreates the tables elsewhere, with lifetimes; removal works; unknown ids are counted',
  (t) => {
    const a = instance(t);
    for (let i = 0; i < 20; i++) a.run(buildFrame(spec({ sport: 44000 + i })));
    a.run(buildFrame(spec({ dst: VIP4_PERSIST, dport: 443, sport: 44100 })));
    const bulk = readBulk(tables(t, a));
    t.is(bulk.filter((e) => e.kind === 'conn').length, 21);
    t.is(bulk.filter((e) => e.kind === 'persist').length, 1);
    for (const e of bulk) t.true(e.lifetimeMs > 0 && e.lifetimeMs <= 900_000, `lifetime ${e.lifetimeMs}`);
    const b = instance(t);
    const tb = tables(t, b);
    tb.write(packEntries(bulk), 3, true);
    t.is(b.tables.countConns(), 21);
    const first = bulk.find((e) => e.kind === 'conn' && e.clientPort === 44000)!;
    t.deepEqual(
      dstMac(b.run(buildFrame(spec({ sport: 44000, tcpFlags: TCP_ACK }))).frame),
      dstMac(a.run(buildFrame(spec({ sport: 44000, tcpFlags: TCP_ACK }))).frame),
    );
    tb.write(
      packEntries([{ ...first, kind: 'conn-delete', realServer: undefined, lifetimeMs: 0 }]),
      3,
      false,
    );
    t.is(b.tables.countConns(), 20);
    tb.write(
      packEntries([{ ...first, clientPort: 45000, realServer: parseIp('198.18.0.99').bytes }]),
      3,
      false,
    );
    t.is(
      tb.counters.unknown,
      1,
      'an entry for a real server this director does not have is counted, not applied',
    );
    t.is(b.tables.countConns(), 20);
  },
);

t0('a copy lives a refresh period longer than the original had left', (t) => {
  const a = instance(t);
  a.run(buildFrame(spec({ sport: 46000 })));
  const [entry] = readBulk(tables(t, a));
  const b = instance(t);
  tables(t, b).write(packEntries([entry]), 1, false);
  const flow = {
    src: parseIp('198.18.1.10').bytes,
    dst: parseIp(VIP4).bytes,
    sport: 46000,
    dport: 80,
    proto: 6,
    family: 4 as const,
  };
  const copy = b.tables.getConn(flow)!;
  const original = a.tables.getConn(flow)!;
  const ahead = Number(copy.lastSeenNs - original.lastSeenNs) / 1e6;
  t.true(ahead > MARGIN_MS - 1000 && ahead <= MARGIN_MS + 1000, `the copy's stamp is ${ahead} ms ahead`);
  t.is(copy.syncEpoch, 1, 'stamped with the epoch that wrote it');
});

t0("a sweep removes the peer's entries a bulk did not renew, and never ours", (t) => {
  const a = instance(t);
  for (let i = 0; i < 30; i++) a.run(buildFrame(spec({ sport: 47000 + i })));
  const bulk = readBulk(tables(t, a));
  const b = instance(t);
  // VIP6's group is B's own: the flows B's program made for it are B's, whatever the epoch, and
  // a peer's entries for it are not taken.
  for (let i = 0; i < 5; i++) b.run(buildFrame(spec({ src: '2001:2::1:10', dst: VIP6, sport: 47100 + i })));
  const tb = tables(t, b, { ours: [parseIp(VIP6).bytes] });
  tb.write(packEntries(bulk), 1, true); // an earlier bulk
  tb.write(packEntries(bulk.filter((e) => e.kind === 'conn' && e.clientPort < 47010)), 2, true); // renewed by the last one
  tb.sweep(2);
  for (let n = 0; n < 10 && tb.sweeping; n++) tb.work();
  t.false(tb.sweeping);
  t.is(tb.counters.swept, 20, 'the 20 IPv4 entries of epoch 1 went');
  t.is(b.tables.countConns(), 15, '10 renewed and the 5 of our own VIP stay');
});

t0(
  "a bulk's copies of our own VIP's entries are left out; the peer's live updates for it are written",
  (t) => {
    const a = instance(t);
    for (let i = 0; i < 5; i++) a.run(buildFrame(spec({ src: '2001:2::1:10', dst: VIP6, sport: 47200 + i })));
    const entries = packEntries(readBulk(tables(t, a)));
    const b = instance(t);
    const tb = tables(t, b, { ours: [parseIp(VIP6).bytes] });
    tb.write(entries, 1, true);
    t.is(b.tables.countConns(), 0, 'our table is the authority for our VIPs: the peer may hold old copies');
    tb.write(entries, 1, false);
    t.is(
      b.tables.countConns(),
      5,
      'flows the peer forwarded for our VIP a moment ago (a handover back) are new to us',
    );
  },
);

t0('the refresh walk reads only our live entries, and starts over at the end', (t) => {
  const a = instance(t);
  for (let i = 0; i < 40; i++) a.run(buildFrame(spec({ sport: 48000 + i })));
  for (let i = 0; i < 10; i++) a.run(buildFrame(spec({ src: '2001:2::1:10', dst: VIP6, sport: 48100 + i })));
  const ta = tables(t, a, { ours: [parseIp(VIP4).bytes] });
  let got: SyncEntry[] = [];
  let r = ta.refresh(16);
  got.push(...decode(r));
  for (let n = 0; n < 20 && !r.passDone; n++) {
    r = ta.refresh(16);
    got.push(...decode(r));
  }
  t.true(r.passDone);
  t.is(got.length, 40, 'every IPv4 entry of our VIP, none of the other');
  t.true(got.every((e) => e.vip.length === 4));
  got = decode(ta.refresh(1000));
  t.is(got.length, 40, 'the next pass reads them again');
  // A director that masters nothing has nothing to refresh: no walk at all.
  const r2 = tables(t, a).refresh(1000);
  t.deepEqual([r2.count, r2.read, r2.passDone], [0, 0, true]);
});
