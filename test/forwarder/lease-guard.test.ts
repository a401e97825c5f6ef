/**
 * The kernel's end of a VIP lease (forwarder/bpf/lease.h, quorum mode): with a VIP's lease ended,
 * the program drops ARP requests and neighbour solicitations for it, so the kernel stops answering
 * for the VIP whatever the daemon does; before, and for VIPs without an entry, they pass; the VIP's
 * flows are forwarded all the same. Real program, BPF_PROG_TEST_RUN.
 */
import test from 'ava';
import { buildArpRequest, buildFrame, buildNeighborSolicitation, TCP_SYN } from '../../forwarder/frames.ts';
import {
  CLIENT_MAC,
  CLIENT4,
  CLIENT6,
  DIRECTOR_MAC,
  instance,
  nowNs,
  realIndex,
  skipReason,
  VIP4,
  VIP4_ALL_PORTS,
  VIP6,
} from './support.ts';

const t0 = skipReason ? test.skip : test.serial;
if (skipReason) test.skip(`forwarder lease guard: ${skipReason}`, () => {});

const SECOND = 1_000_000_000n;

t0('ARP and NS for a VIP pass while its lease lasts and are dropped once it has ended', (t) => {
  const fwd = instance(t);
  const arp = buildArpRequest(CLIENT_MAC, CLIENT4, VIP4);
  const ns = buildNeighborSolicitation(CLIENT_MAC, CLIENT6, VIP6);
  t.is(fwd.run(arp).verdict, 'pass', 'no entry: not guarded (VRRP mode)');

  fwd.leases.set([VIP4, VIP6], nowNs() + 10n * SECOND);
  t.is(fwd.run(arp).verdict, 'pass');
  t.is(fwd.run(ns).verdict, 'pass');
  t.is(fwd.stats.reasons().drop_lease.packets, 0n);

  fwd.leases.set([VIP4, VIP6], nowNs() - 1n);
  t.is(fwd.run(arp).verdict, 'drop');
  t.is(fwd.run(ns).verdict, 'drop');
  t.is(fwd.stats.reasons().drop_lease.packets, 2n);

  // Another address, and the VIP's own traffic, are untouched.
  t.is(fwd.run(buildArpRequest(CLIENT_MAC, CLIENT4, VIP4_ALL_PORTS)).verdict, 'pass');
  const flow = fwd.run(
    buildFrame({
      ...{ srcMac: CLIENT_MAC, dstMac: DIRECTOR_MAC, src: CLIENT4, dst: VIP4 },
      ...{ proto: 'tcp', sport: 40000, dport: 80, tcpFlags: TCP_SYN },
    }),
  );
  t.is(flow.verdict, 'tx', 'the VIP is still forwarded: clients with this MAC cached lose nothing');
  t.true(realIndex(flow.frame) >= 0);

  fwd.leases.clear([VIP4, VIP6]);
  t.is(fwd.run(arp).verdict, 'pass', 'cleared: not guarded');
  t.is(fwd.leases.until(VIP4), null);
});

t0('a lease ends on its own time, with no write from userspace', async (t) => {
  const fwd = instance(t);
  const arp = buildArpRequest(CLIENT_MAC, CLIENT4, VIP4);
  fwd.leases.set([VIP4], nowNs() + 50_000_000n);
  t.is(fwd.run(arp).verdict, 'pass');
  await new Promise((resolve) => setTimeout(resolve, 60));
  t.is(fwd.run(arp).verdict, 'drop');
});
