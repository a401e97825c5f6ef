/**
 * The IPv6 conflict watch against the real kernel (issue 21), in two throw-away `dsrl` namespaces
 * joined by a veth: "dir" watches, "peer" sends raw frames from its end. The socket filter is
 * proved by what userspace reads: a burst of IPv6 UDP and other ICMPv6 that an unfiltered IPv6
 * packet socket beside it receives in full never reaches the filtered one, and a Neighbor
 * Advertisement does. The watch reports an NA for a watched address from another MAC, and nothing
 * else, keeps watching across a link flap, and opens a socket only for a family it has VIPs of.
 */
import { readFileSync } from 'node:fs';
import test, { type ExecutionContext } from 'ava';
import {
  AF_PACKET,
  closeFd,
  interfaceIndex,
  openSocket,
  recvFrom,
  SOCK_RAW,
  sendTo,
} from '../../core/kernel/libc.ts';
import { parseIp } from '../../core/net/ip.ts';
import { parseMac } from '../../core/net/mac.ts';
import { sockaddrLl } from '../../failover/vip/announcer.ts';
import { bindPacketSocket, openNeighbourAdvertSocket } from '../../failover/vip/claim-sockets.ts';
import { PacketConflictWatch, type VipConflict } from '../../failover/vip/conflict-watch.ts';
import { internetChecksum, unsolicitedNeighbourAdvert } from '../../failover/vip/frames.ts';
import { requireRoot } from '../../lab/require-root.ts';
import { sleep, until } from '../../lab/wait.ts';
import { inNamespace, ip, makePair, type Pair } from '../kernel/netns.ts';

const skip = requireRoot();
const labTest = skip ? test.skip : test.serial;
if (skip) test('conflict watch lab tests', (t) => t.log(`skipped: ${skip}`));

const OTHER = '02:d5:00:00:09:09';
const UDP_BURST = 200;
const ETH_P_IPV6 = 0x86dd;
const htons = (n: number): number => ((n & 0xff) << 8) | (n >> 8);

/** An IPv6 UDP datagram from `pair.b` to `to` at pair.a's MAC: the kind of frame a director forwards. */
function udpFrame(pair: Pair, to: string, seq: number): Buffer {
  const src = parseIp(pair.b.ipv6).bytes;
  const dst = parseIp(to).bytes;
  const udp = Buffer.alloc(8 + 32, seq & 0xff);
  udp.writeUInt16BE(40000 + (seq % 1000), 0);
  udp.writeUInt16BE(7001, 2);
  udp.writeUInt16BE(udp.length, 4);
  udp.writeUInt16BE(0, 6);
  const pseudo = Buffer.alloc(40);
  src.copy(pseudo, 0);
  dst.copy(pseudo, 16);
  pseudo.writeUInt32BE(udp.length, 32);
  pseudo[39] = 17;
  udp.writeUInt16BE(internetChecksum([pseudo, udp]) || 0xffff, 6);
  const ip6 = Buffer.alloc(40);
  ip6.writeUInt32BE(0x60000000, 0);
  ip6.writeUInt16BE(udp.length, 4);
  ip6[6] = 17;
  ip6[7] = 64;
  src.copy(ip6, 8);
  dst.copy(ip6, 24);
  const eth = Buffer.concat([parseMac(pair.a.mac), parseMac(pair.b.mac), Buffer.from([0x86, 0xdd])]);
  return Buffer.concat([eth, ip6, udp]);
}

/** A frame with the ICMPv6 type at byte 54 changed (the filter reads only that byte of ICMPv6). */
function withIcmpType(frame: Buffer, type: number): Buffer {
  const f = Buffer.from(frame);
  f[54] = type;
  return f;
}

/** Sends raw frames out of the peer's end of the veth. */
function peerSender(t: ExecutionContext, pair: Pair): (frames: Buffer[]) => void {
  const { fd, ifindex } = inNamespace(pair.b.ns, () => ({
    fd: openSocket(AF_PACKET, SOCK_RAW, 0),
    ifindex: interfaceIndex('veth0'),
  }));
  t.teardown(() => closeFd(fd));
  return (frames) => {
    for (const f of frames) t.true(sendTo(fd, f, sockaddrLl(ifindex, f)) > 0, 'frame sent');
  };
}

/** Every frame queued on `fd` now. */
function drain(fd: number): Buffer[] {
  const buf = Buffer.alloc(2048);
  const frames: Buffer[] = [];
  for (let r = recvFrom(fd, buf, 20); r !== undefined; r = recvFrom(fd, buf, 20)) {
    frames.push(Buffer.from(buf.subarray(0, Math.min(r.length, buf.length))));
  }
  return frames;
}

const isUdp = (f: Buffer): boolean => f.readUInt16BE(12) === ETH_P_IPV6 && f[20] === 17;
const isNa = (f: Buffer): boolean => f.readUInt16BE(12) === ETH_P_IPV6 && f[20] === 58 && f[54] === 136;

function dirPair(t: ExecutionContext, tag: string, net: number): Pair {
  const pair = makePair(tag, net);
  t.teardown(() => pair.destroy());
  return pair;
}

labTest(
  'the NA socket reads Neighbor Advertisements only: IPv6 data traffic stays in the kernel',
  async (t) => {
    const pair = dirPair(t, 'cf', 207);
    const vip = '2001:2:0:207::200';
    const { filtered, unfiltered } = inNamespace(pair.a.ns, () => {
      const ifindex = interfaceIndex('veth0');
      const all = openSocket(AF_PACKET, SOCK_RAW, htons(ETH_P_IPV6));
      bindPacketSocket(all, ifindex, ETH_P_IPV6);
      return { filtered: openNeighbourAdvertSocket(ifindex), unfiltered: all };
    });
    t.teardown(() => {
      closeFd(filtered);
      closeFd(unfiltered);
    });
    const send = peerSender(t, pair);
    await sleep(100);
    drain(filtered);
    drain(unfiltered);

    // Data to an address the director does not hold (it does not forward here, so the kernel
    // answers nothing), and ICMPv6 that is not an NA: an echo request, a Neighbor Solicitation.
    const na = unsolicitedNeighbourAdvert(OTHER, vip);
    const burst = Array.from({ length: UDP_BURST }, (_, i) => udpFrame(pair, '2001:2:0:207::99', i));
    const notNa = [withIcmpType(na, 128), withIcmpType(na, 135)];
    send([...burst, ...notNa]);
    // The control: the unfiltered IPv6 socket beside it receives every one of them.
    const control: Buffer[] = [];
    await until(
      'the whole burst at the unfiltered socket',
      () => {
        control.push(...drain(unfiltered));
        return control.filter(isUdp).length >= UDP_BURST && control.filter((f) => f[20] === 58).length >= 2;
      },
      { limitMs: 2000, everyMs: 20, detail: () => `${control.length} frames` },
    );
    t.is(control.filter(isUdp).length, UDP_BURST);
    const read = drain(filtered);
    t.is(read.length, 0, `the filtered socket read ${read.length} frames of ${UDP_BURST + notNa.length}`);

    send([na]);
    await sleep(100);
    const nas = drain(filtered);
    t.is(nas.length, 1);
    t.true(nas.every(isNa));
    t.deepEqual(nas[0], na, 'the NA as sent, whole');
  },
);

labTest(
  'the watch reports an NA for a watched address from another MAC, and keeps watching across a link flap',
  async (t) => {
    const pair = dirPair(t, 'cw', 208);
    const vip = '2001:2:0:208::200';
    const unwatched = '2001:2:0:208::201';
    const seen: VipConflict[] = [];
    const watch = new PacketConflictWatch();
    t.teardown(() => watch.stop());
    inNamespace(pair.a.ns, () =>
      watch.watch(interfaceIndex('veth0'), pair.a.mac, [vip], (c) => seen.push(c)),
    );
    const sockets = packetSockets(pair.a.ns);
    t.deepEqual(sockets, ['86dd'], 'an IPv6 socket only: the group has no IPv4 VIP');
    const send = peerSender(t, pair);

    send([
      unsolicitedNeighbourAdvert(pair.a.mac, vip), // our own MAC: no conflict
      unsolicitedNeighbourAdvert(OTHER, unwatched), // not one of ours
      unsolicitedNeighbourAdvert(OTHER, vip),
    ]);
    await until('the conflict reported', () => seen.length > 0, { limitMs: 2000, everyMs: 20 });
    await sleep(150);
    t.deepEqual(seen, [{ address: vip, mac: OTHER }]);

    // A link flap: the socket reports ENETDOWN once, then receives again once the link is back.
    ip('-n', pair.a.ns, 'link', 'set', 'veth0', 'down');
    await sleep(200);
    ip('-n', pair.a.ns, 'link', 'set', 'veth0', 'up');
    await until('the veth up again', () => /state UP/.test(ip('-n', pair.a.ns, 'link', 'show', 'veth0')), {
      limitMs: 5000,
      everyMs: 50,
    });
    send([unsolicitedNeighbourAdvert('02:d5:00:00:08:08', vip)]);
    await until('the conflict after the flap', () => seen.length > 1, { limitMs: 2000, everyMs: 20 });
    t.deepEqual(seen[1], { address: vip, mac: '02:d5:00:00:08:08' });

    watch.stop();
    // A process another test file forks meanwhile holds a copy of the fd until it execs (the
    // sockets are close-on-exec): give that a moment before reading what is left.
    await until('the socket gone', () => packetSockets(pair.a.ns).length === 0, {
      limitMs: 1000,
      everyMs: 20,
    }).catch(() => {});
    t.deepEqual(packetSockets(pair.a.ns), [], 'stop() closed the socket');
    inNamespace(pair.a.ns, () =>
      watch.watch(interfaceIndex('veth0'), pair.a.mac, ['198.18.208.200', vip], () => {}),
    );
    t.deepEqual(packetSockets(pair.a.ns).sort(), ['0806', '86dd'], 'one socket per family with VIPs');
  },
);

/**
 * The protocol (hex, as /proc/net/packet shows it) of each packet socket open in namespace `ns`,
 * read from this thread's view while it is in `ns` (ava runs a file in a worker thread).
 */
function packetSockets(ns: string): string[] {
  const text = inNamespace(ns, () => readFileSync('/proc/thread-self/net/packet', 'utf8'));
  return text
    .trim()
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/)[3]);
}
