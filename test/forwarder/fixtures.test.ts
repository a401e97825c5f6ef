/**
 * BPF fixtures: frames through BPF_PROG_TEST_RUN, checking the verdict and
 * the frame that comes out, for the parsing and forwarding rules of issue 3.
 */
import test from 'ava';
import {
  buildArpRequest,
  buildFrame,
  buildNeighborSolicitation,
  buildTooBig,
  type FrameSpec,
  IPPROTO_ICMP,
  IPV6_DSTOPTS,
  IPV6_HOPOPTS,
  TCP_ACK,
  TCP_SYN,
} from '../../forwarder/frames.ts';
import {
  CLIENT_MAC,
  CLIENT4,
  CLIENT6,
  DIRECTOR_MAC,
  dstMac,
  instance,
  REAL_MACS,
  REAL4,
  realIndex,
  skipReason,
  srcMac,
  VIP4,
  VIP4_ALL_PORTS,
  VIP6,
} from './support.ts';

const t0 = skipReason ? test.skip : test.serial;
if (skipReason) test.skip(`forwarder BPF fixtures: ${skipReason}`, () => {});

const tcp4 = (over: Partial<FrameSpec> = {}): FrameSpec => ({
  srcMac: CLIENT_MAC,
  dstMac: DIRECTOR_MAC,
  src: CLIENT4,
  dst: VIP4,
  proto: 'tcp',
  sport: 40000,
  dport: 80,
  tcpFlags: TCP_SYN,
  payload: 32,
  ...over,
});

const tcp6 = (over: Partial<FrameSpec> = {}): FrameSpec => tcp4({ src: CLIENT6, dst: VIP6, ...over });

/** Everything after the two MACs is untouched by a plain (no VLAN change) forward. */
function assertOnlyMacsChanged(
  t: import('ava').ExecutionContext,
  input: Uint8Array,
  output: Uint8Array,
): void {
  t.is(output.length, input.length);
  t.deepEqual(output.subarray(12), input.subarray(12));
  t.is(srcMac(output), DIRECTOR_MAC);
  t.true(REAL_MACS.includes(dstMac(output)), `dst ${dstMac(output)} is a real server`);
}

t0('IPv4 TCP to a service is sent to a real server (XDP_TX, only MACs rewritten)', (t) => {
  const fwd = instance(t);
  const frame = buildFrame(tcp4());
  const r = fwd.run(frame);
  t.is(r.verdict, 'tx');
  assertOnlyMacsChanged(t, frame, r.frame);
  const reasons = fwd.stats.reasons();
  t.is(reasons.tx_new_flow.packets, 1n);
});

t0('IPv4 UDP to a service and to a port-0 service is forwarded', (t) => {
  const fwd = instance(t);
  for (const spec of [
    tcp4({ proto: 'udp', dport: 53 }),
    tcp4({ proto: 'udp', dst: VIP4_ALL_PORTS, dport: 9999 }),
  ]) {
    const frame = buildFrame(spec);
    const r = fwd.run(frame);
    t.is(r.verdict, 'tx');
    assertOnlyMacsChanged(t, frame, r.frame);
  }
});

t0('traffic that is not for a service passes untouched', (t) => {
  const fwd = instance(t);
  const cases = [
    tcp4({ dport: 22 }), // VIP, other port
    tcp4({ proto: 'udp', dport: 80 }), // VIP, other protocol
    tcp4({ dst: REAL4[0] }), // another host
    tcp4({ proto: IPPROTO_ICMP, payload: 16 }), // ICMP echo-like to the VIP
    tcp6({ dport: 443 }),
  ];
  for (const spec of cases) {
    const frame = buildFrame(spec);
    const r = fwd.run(frame);
    t.is(r.verdict, 'pass');
    t.deepEqual(r.frame, frame);
  }
  t.is(fwd.stats.reasons().pass_not_service.packets, BigInt(cases.length));
});

t0('ARP and neighbour discovery pass untouched', (t) => {
  const fwd = instance(t);
  const arp = buildArpRequest(CLIENT_MAC, CLIENT4, VIP4);
  const ns = buildNeighborSolicitation(CLIENT_MAC, CLIENT6, VIP6);
  for (const frame of [arp, ns]) {
    const r = fwd.run(frame);
    t.is(r.verdict, 'pass');
    t.deepEqual(r.frame, frame);
  }
  const reasons = fwd.stats.reasons();
  t.is(reasons.pass_not_ip.packets, 1n);
  t.is(reasons.pass_not_service.packets, 1n);
});

t0(
  'a frame for another MAC (promiscuous NIC, veth, flooding switch) passes untouched and records no flow',
  (t) => {
    const fwd = instance(t);
    const other = [tcp4({ dstMac: '02:d5:00:00:01:09' }), tcp6({ dstMac: '02:d5:00:00:01:09' })];
    for (const spec of other) {
      const frame = buildFrame(spec);
      const r = fwd.run(frame);
      t.is(r.verdict, 'pass');
      t.deepEqual(r.frame, frame);
    }
    t.is(fwd.stats.reasons().pass_other_mac.packets, BigInt(other.length));
    t.is(fwd.tables.countConns(), 0, 'nothing was recorded for them');
    // The same flow sent to this director is forwarded.
    t.is(fwd.run(buildFrame(tcp4())).verdict, 'tx');
    t.is(fwd.tables.countConns(), 1);
  },
);

t0('802.1Q-tagged service traffic keeps its tag', (t) => {
  const fwd = instance(t);
  const frame = buildFrame(tcp4({ vlan: 42 }));
  const r = fwd.run(frame);
  t.is(r.verdict, 'tx');
  assertOnlyMacsChanged(t, frame, r.frame);
  t.is(fwd.run(buildFrame(tcp4({ vlan: 42, dport: 22 }))).verdict, 'pass');
});

t0('a real server on another VLAN: the tag is rewritten, pushed or popped', (t) => {
  const desired = (vlan: number | 'untagged') => ({
    directorMac: DIRECTOR_MAC,
    services: [
      {
        vip: VIP4,
        protocol: 'tcp' as const,
        port: 80,
        reals: [{ address: REAL4[0], weight: 1, mac: REAL_MACS[0], vlan }],
      },
    ],
  });
  const fwd = instance(t, desired(7));
  // tagged 42 -> 7, priority bits kept
  const tagged = buildFrame(tcp4({ vlan: (5 << 13) | 42 }));
  let r = fwd.run(tagged);
  t.is(r.verdict, 'tx');
  t.is(dstMac(r.frame), REAL_MACS[0]);
  t.is((r.frame[14] << 8) | r.frame[15], (5 << 13) | 7);
  t.deepEqual(r.frame.subarray(16), tagged.subarray(16));
  // untagged -> pushed tag 7
  const plain = buildFrame(tcp4({ sport: 40001 }));
  r = fwd.run(plain);
  t.is(r.verdict, 'tx');
  t.is(r.frame.length, plain.length + 4);
  t.deepEqual([...r.frame.subarray(12, 16)], [0x81, 0x00, 0x00, 0x07]);
  t.deepEqual(r.frame.subarray(16), plain.subarray(12));
  // tagged -> untagged
  fwd.reconcile(desired('untagged'));
  r = fwd.run(buildFrame(tcp4({ vlan: 42, sport: 40002 })));
  t.is(r.verdict, 'tx');
  t.is(r.frame.length, tagged.length - 4);
  t.deepEqual([...r.frame.subarray(12, 14)], [0x08, 0x00]);
  t.is(dstMac(r.frame), REAL_MACS[0]);
  t.is(srcMac(r.frame), DIRECTOR_MAC);
});

t0('IPv6 TCP to a service is forwarded, also behind extension headers', (t) => {
  const fwd = instance(t);
  for (const spec of [
    tcp6(),
    tcp6({ sport: 40001, ipv6Ext: [IPV6_HOPOPTS, IPV6_DSTOPTS] }),
    tcp6({ vlan: 3, sport: 40002 }),
  ]) {
    const frame = buildFrame(spec);
    const r = fwd.run(frame);
    t.is(r.verdict, 'tx');
    assertOnlyMacsChanged(t, frame, r.frame);
  }
});

t0('ICMP frag-needed and ICMPv6 packet-too-big go to the real server of the quoted flow', (t) => {
  const fwd = instance(t);
  for (const v6 of [false, true]) {
    // Open several flows so that more than one real server is in use.
    const byPort = new Map<number, number>();
    for (let port = 41000; port < 41012; port++) {
      const r = fwd.run(buildFrame(v6 ? tcp6({ sport: port }) : tcp4({ sport: port })));
      byPort.set(port, realIndex(r.frame));
    }
    t.true(new Set(byPort.values()).size > 1, 'flows spread over real servers');
    for (const [port, real] of byPort) {
      const frame = buildTooBig({
        srcMac: CLIENT_MAC,
        dstMac: DIRECTOR_MAC,
        router: v6 ? '2001:2::fe' : '198.18.0.254',
        vip: v6 ? VIP6 : VIP4,
        client: v6 ? CLIENT6 : CLIENT4,
        proto: 'tcp',
        vipPort: 80,
        clientPort: port,
        mtu: 1400,
      });
      const r = fwd.run(frame);
      t.is(r.verdict, 'tx');
      t.is(realIndex(r.frame), real, `port ${port}`);
      t.deepEqual(r.frame.subarray(12), frame.subarray(12));
    }
  }
  t.is(fwd.stats.reasons().tx_icmp.packets, 24n);
});

t0('an ICMP error quoting a flow of no service passes', (t) => {
  const fwd = instance(t);
  const frame = buildTooBig({
    srcMac: CLIENT_MAC,
    dstMac: DIRECTOR_MAC,
    router: '198.18.0.254',
    vip: VIP4,
    client: CLIENT4,
    proto: 'tcp',
    vipPort: 22,
    clientPort: 5000,
    mtu: 1400,
  });
  const r = fwd.run(frame);
  t.is(r.verdict, 'pass');
  t.deepEqual(r.frame, frame);
  t.is(fwd.stats.reasons().pass_icmp.packets, 1n);
});

t0('fragments: later fragments follow the first; unmatched ones pass and are counted', (t) => {
  const fwd = instance(t);
  for (const v6 of [false, true]) {
    const base = v6 ? tcp6({ ipId: 777 }) : tcp4({ proto: 'udp', dport: 53, ipId: 777 });
    const first = fwd.run(buildFrame({ ...base, moreFragments: true, fragOffset: 0, payload: 64 }));
    t.is(first.verdict, 'tx');
    const later = fwd.run(buildFrame({ ...base, moreFragments: false, fragOffset: 72, payload: 40 }));
    t.is(later.verdict, 'tx');
    t.is(dstMac(later.frame), dstMac(first.frame));
    const stray = buildFrame({ ...base, ipId: 778, fragOffset: 72, payload: 40 });
    const r = fwd.run(stray);
    t.is(r.verdict, 'pass');
    t.deepEqual(r.frame, stray);
  }
  const reasons = fwd.stats.reasons();
  t.is(reasons.tx_fragment.packets, 2n);
  t.is(reasons.pass_fragment.packets, 2n);
});

t0('truncated and malformed headers pass untouched and are counted', (t) => {
  const fwd = instance(t);
  const good = buildFrame(tcp4());
  const good6 = buildFrame(tcp6());
  const badVersion = good.slice();
  badVersion[14] = 0x65; // version 6 in an IPv4 EtherType
  const shortIhl = good.slice();
  shortIhl[14] = 0x44; // IHL 4 (< 5 words)
  const cases = [
    good.subarray(0, 14 + 10), // IPv4 header cut
    good.subarray(0, 14 + 20 + 10), // TCP header cut
    good6.subarray(0, 14 + 30), // IPv6 header cut
    good6.subarray(0, 14 + 40 + 12), // TCP after IPv6 cut
    buildFrame(tcp4({ vlan: 5 })).subarray(0, 16), // 802.1Q tag cut
    buildFrame(tcp4({ proto: 'udp', dport: 53 })).subarray(0, 14 + 20 + 4), // UDP header cut
    badVersion,
    shortIhl,
  ];
  for (const frame of cases) {
    const r = fwd.run(frame);
    t.is(r.verdict, 'pass', `frame of ${frame.length} bytes`);
    t.deepEqual(r.frame, frame);
  }
  t.is(fwd.stats.reasons().pass_malformed.packets, BigInt(cases.length));
});

t0('IPv4 options are skipped to find the ports', (t) => {
  const fwd = instance(t);
  const frame = buildFrame(tcp4({ ipv4Options: 12 }));
  const r = fwd.run(frame);
  t.is(r.verdict, 'tx');
  assertOnlyMacsChanged(t, frame, r.frame);
  t.is(fwd.run(buildFrame(tcp4({ ipv4Options: 12, dport: 22 }))).verdict, 'pass');
});

t0('a double-tagged (QinQ) frame is not ours: passed', (t) => {
  const fwd = instance(t);
  const inner = buildFrame(tcp4({ vlan: 10 }));
  const frame = new Uint8Array(inner.length + 4);
  frame.set(inner.subarray(0, 12));
  frame.set([0x81, 0x00, 0x00, 0x14], 12);
  frame.set(inner.subarray(12), 16);
  const r = fwd.run(frame);
  t.is(r.verdict, 'pass');
  t.deepEqual(r.frame, frame);
});

t0('packets, bytes and new flows are counted per service and per real server', (t) => {
  const fwd = instance(t);
  const frame = buildFrame(tcp4());
  const first = fwd.run(frame);
  fwd.run(buildFrame(tcp4({ tcpFlags: TCP_ACK })));
  fwd.run(buildFrame(tcp4({ tcpFlags: TCP_ACK })));
  const ids = fwd.reconciler.findReal(`tcp/${VIP4}:80`, REAL4[realIndex(first.frame)]);
  t.truthy(ids);
  // One flow: the SYN made its entry; the ACKs found it.
  const three = { packets: 3n, bytes: BigInt(3 * frame.length), flows: 1n };
  t.deepEqual(fwd.stats.service(ids!.svcId), three);
  t.deepEqual(fwd.stats.real(ids!.realId), three);
  fwd.run(buildFrame(tcp4({ sport: 40001 })));
  fwd.run(buildFrame(tcp4({ sport: 40002 })));
  t.is(fwd.stats.service(ids!.svcId).flows, 3n, 'two more SYNs: two more flows');
});
