/**
 * Loader pins: a reload reuses the pinned maps (restore, never flush), so a
 * connection entry survives an unload/reload; mismatched sizes are refused;
 * uninstall removes the pins.
 */
import { existsSync, readdirSync } from 'node:fs';
import test from 'ava';
import { isDsrError } from '../../core/errors.ts';
import { buildFrame, TCP_ACK, TCP_SYN } from '../../forwarder/frames.ts';
import { createForwarderInstance } from '../../forwarder/harness.ts';
import { MAP_NAMES, pinDirFor, removePins } from '../../forwarder/loader.ts';
import { CLIENT_MAC, DIRECTOR_MAC, dstMac, realIndex, skipReason, standardDesired, VIP4 } from './support.ts';

const t0 = skipReason ? test.skip : test.serial;
if (skipReason) test.skip(`loader pin tests: ${skipReason}`, () => {});

/**
 * Right under /sys/fs/bpf, not under the daemon's root (/sys/fs/bpf/dsr-director): removePins
 * removes the directory it pinned in, so the teardown leaves nothing behind, not even a root.
 */
function uniquePinDir(): string {
  return pinDirFor(`dsrl-pins-${process.pid}-${Math.floor(Math.random() * 1e9)}`, '/sys/fs/bpf');
}

const syn = buildFrame({
  srcMac: CLIENT_MAC,
  dstMac: DIRECTOR_MAC,
  src: '198.18.1.10',
  dst: VIP4,
  proto: 'tcp',
  sport: 40000,
  dport: 80,
  tcpFlags: TCP_SYN,
});
const ack = buildFrame({
  srcMac: CLIENT_MAC,
  dstMac: DIRECTOR_MAC,
  src: '198.18.1.10',
  dst: VIP4,
  proto: 'tcp',
  sport: 40000,
  dport: 80,
  tcpFlags: TCP_ACK,
});

t0('a reload keeps the pinned tables: the connection goes on to its real server', (t) => {
  const pinDir = uniquePinDir();
  t.teardown(() => removePins(pinDir));
  const load = { pinDir, connEntries: 4096, persistEntries: 1024 };
  const first = createForwarderInstance({ desired: standardDesired(), load });
  const r1 = first.run(syn);
  t.is(r1.verdict, 'tx');
  const conns = first.tables.countConns();
  const ids = first.reconciler.status();
  first.close();
  t.deepEqual(readdirSync(pinDir).sort(), [...MAP_NAMES].sort(), 'every map stays pinned after close');

  // The restarted daemon comes back with other weights: the flow must not move.
  const weights = [1, 1, 1];
  weights[realIndex(r1.frame)] = 0;
  const second = createForwarderInstance({ desired: standardDesired(weights), load });
  t.teardown(() => second.destroy());
  t.deepEqual([...second.loaded.restored].sort(), [...MAP_NAMES].sort());
  t.is(second.tables.countConns(), conns);
  t.deepEqual(
    second.reconciler.status().map((s) => ({ ...s, reals: s.reals.map((r) => r.id) })),
    ids.map((s) => ({ ...s, reals: s.reals.map((r) => r.id) })),
    'service and real server ids restored',
  );
  const r2 = second.run(ack);
  t.is(r2.verdict, 'tx');
  t.is(dstMac(r2.frame), dstMac(r1.frame));
  t.is(second.stats.reasons().tx_new_flow.packets, 1n, 'counters survive too');
});

t0('pins of another shape are refused with a clear error, and nothing is flushed', (t) => {
  const pinDir = uniquePinDir();
  t.teardown(() => removePins(pinDir));
  const first = createForwarderInstance({ desired: standardDesired(), load: { pinDir, connEntries: 4096 } });
  first.run(syn);
  first.close();
  const e = t.throws(() =>
    createForwarderInstance({ desired: standardDesired(), load: { pinDir, connEntries: 8192 } }),
  );
  t.true(isDsrError(e, 'E_BPF_PIN'));
  t.regex(e!.message, /conns4.*max entries 4096 vs 8192/);
  const again = createForwarderInstance({ desired: standardDesired(), load: { pinDir, connEntries: 4096 } });
  t.teardown(() => again.destroy());
  t.is(again.tables.countConns(), 1);
});

t0('maps without flows pinned in another shape are started afresh; the flows stay', (t) => {
  const pinDir = uniquePinDir();
  t.teardown(() => removePins(pinDir));
  const load = { pinDir, connEntries: 4096, eventsBytes: 1 << 16 };
  const first = createForwarderInstance({ desired: standardDesired(), load });
  first.run(syn);
  first.close();
  // Another ring size: the event ring holds no flow, so it is replaced rather than refused.
  const again = createForwarderInstance({
    desired: standardDesired(),
    load: { ...load, eventsBytes: 1 << 17 },
  });
  t.teardown(() => again.destroy());
  t.deepEqual(again.loaded.replaced, ['events']);
  t.true(again.loaded.restored.includes('conns4'));
  t.is(again.tables.countConns(), 1, 'the connection table was kept');
  t.is(again.loaded.maps.events.maxEntries, 1 << 17);
});

t0('uninstall removes the pins and the directory', (t) => {
  const pinDir = uniquePinDir();
  t.teardown(() => removePins(pinDir));
  const fwd = createForwarderInstance({ desired: standardDesired(), load: { pinDir, connEntries: 4096 } });
  t.true(existsSync(pinDir));
  fwd.destroy();
  t.false(existsSync(pinDir));
});
