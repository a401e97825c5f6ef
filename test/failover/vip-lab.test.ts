/**
 * VIP ownership against the real kernel, in two throw-away `dsrl` namespaces joined by a veth:
 * "dir" takes over the VIPs with the real rtnetlink and AF_PACKET drivers; "peer" had the VIPs
 * cached at an old MAC (the previous master's) and must switch to dir's MAC from the gratuitous
 * ARP and the unsolicited NA alone: the effect that matters for failover. A packet socket in the
 * peer namespace also checks the frames as they arrived.
 */
import test, { type ExecutionContext } from 'ava';
import { type FdWatch, watchReadable } from '../../core/kernel/fd-watch.ts';
import {
  AF_PACKET,
  closeFd,
  interfaceIndex,
  openSocket,
  recvFrom,
  SOCK_RAW,
} from '../../core/kernel/libc.ts';
import { RtnlAddressManager } from '../../core/netlink/address-manager.ts';
import { RtnlLinkMonitor } from '../../core/netlink/link-monitor.ts';
import { ElectionThread, mainClockOriginNs } from '../../failover/thread/election-thread.ts';
import type { ReportedOutput } from '../../failover/thread/protocol.ts';
import { PacketAnnouncer } from '../../failover/vip/announcer.ts';
import { bindPacketSocket } from '../../failover/vip/claim-sockets.ts';
import { VipOwner } from '../../failover/vip/vip-owner.ts';
import { requireRoot } from '../../lab/require-root.ts';
import { until } from '../../lab/wait.ts';
import { inNamespace, ip, makePair, type Pair } from '../kernel/netns.ts';

const skip = requireRoot();
const labTest = skip ? test.skip : test.serial;
if (skip) test('VIP lab tests', (t) => t.log(`skipped: ${skip}`));

const OLD_MAC = '02:d5:ee:ee:ee:ee';
const ETH_P_ALL = 0x0003;
const ETH_P_ALL_BE = 0x0300; // htons(ETH_P_ALL), as socket(2) takes it

/** Every frame arriving on `ifname` in namespace `ns`, through a non-blocking AF_PACKET socket. */
function capture(ns: string, ifname: string): { frames: Buffer[]; stop: () => void } {
  const { fd, ifindex } = inNamespace(ns, () => ({
    fd: openSocket(AF_PACKET, SOCK_RAW, ETH_P_ALL_BE),
    ifindex: interfaceIndex(ifname),
  }));
  bindPacketSocket(fd, ifindex, ETH_P_ALL);
  const frames: Buffer[] = [];
  const buf = Buffer.alloc(2048);
  const watch: FdWatch = watchReadable(
    fd,
    () => {
      for (let got = recvFrom(fd, buf, 20); got !== undefined; got = recvFrom(fd, buf, 20)) {
        frames.push(Buffer.from(buf.subarray(0, Math.min(got.length, buf.length))));
      }
    },
    () => {},
  );
  return {
    frames,
    stop: () => {
      watch.close();
      closeFd(fd);
    },
  };
}

function neighMac(pair: Pair, address: string): string | undefined {
  const line = ip('-n', pair.b.ns, 'neigh', 'show', address, 'dev', 'veth0');
  return /lladdr (\S+)/.exec(line)?.[1];
}

function director(pair: Pair, vip4: string, vip6: string) {
  return inNamespace(pair.a.ns, () => {
    const addresses = new RtnlAddressManager();
    const announcer = new PacketAnnouncer();
    const links = new RtnlLinkMonitor();
    const ifindex = interfaceIndex('veth0');
    const owner = new VipOwner({
      group: 'lab',
      vips: [
        { address: vip4, prefixLength: 32, ifindex },
        { address: vip6, prefixLength: 128, ifindex },
      ],
      addresses,
      announcer,
      links,
      announce: { count: 3, intervalMs: 50, refreshMs: 0 },
    });
    return {
      owner,
      addresses,
      ifindex,
      close: () => {
        owner.close();
        addresses.close();
        announcer.close();
        links.close();
      },
    };
  });
}

/** A pair on 198.18.`net`.0/24 whose peer has the two VIPs cached at the previous master's MAC. */
function pairWithStalePeer(t: ExecutionContext, tag: string, net: number) {
  const pair = makePair(tag, net);
  t.teardown(() => pair.destroy());
  const vip4 = `198.18.${net}.200`;
  const vip6 = `2001:2:0:${net}::200`;
  for (const vip of [vip4, vip6]) {
    ip('-n', pair.b.ns, 'neigh', 'replace', vip, 'lladdr', OLD_MAC, 'dev', 'veth0', 'nud', 'stale');
  }
  return { pair, vip4, vip6 };
}

labTest('takeover: the peer re-learns the VIPs at our MAC from GARP and unsolicited NA alone', async (t) => {
  const { pair, vip4, vip6 } = pairWithStalePeer(t, 'vp', 203);
  const cap = capture(pair.b.ns, 'veth0');
  t.teardown(() => cap.stop());
  const dir = director(pair, vip4, vip6);
  t.teardown(() => dir.close());

  // Control: the addresses alone (no announcement) leave the peer's caches at the old MAC, so
  // what changes them below is our frames, not something the kernel sends on address add.
  await dir.addresses.add(dir.ifindex, vip4, 32);
  await dir.addresses.add(dir.ifindex, vip6, 128, { noDad: true });
  await new Promise((res) => setTimeout(res, 300));
  t.is(neighMac(pair, vip4), OLD_MAC);
  t.is(neighMac(pair, vip6), OLD_MAC);

  const r = await dir.owner.takeOver();
  t.true(r.ok, JSON.stringify(r.errors));
  const shown = ip('-n', pair.a.ns, 'addr', 'show', 'dev', 'veth0');
  t.regex(shown, /inet 198\.18\.203\.200\/32/);
  t.regex(shown, /inet6 2001:2:0:203::200\/128 scope global nodad/);

  await until(`the ARP cache entry for ${vip4} on a's MAC`, () => neighMac(pair, vip4) === pair.a.mac, {
    limitMs: 2000,
    everyMs: 20,
    detail: () => `ARP cache: ${neighMac(pair, vip4)}`,
  });
  await until(`the ND cache entry for ${vip6} on a's MAC`, () => neighMac(pair, vip6) === pair.a.mac, {
    limitMs: 2000,
    everyMs: 20,
    detail: () => `ND cache: ${neighMac(pair, vip6)}`,
  });

  // The frames as the peer received them: 3 rounds of ARP request + ARP reply + NA.
  const macHex = pair.a.mac.replaceAll(':', '');
  const vip4Hex = 'c612cbc8'; // 198.18.203.200
  const garps = (op: number) =>
    cap.frames.filter(
      (f) =>
        f.subarray(6, 12).toString('hex') === macHex &&
        f.readUInt16BE(12) === 0x0806 &&
        f.readUInt16BE(20) === op &&
        f.subarray(28, 32).toString('hex') === vip4Hex &&
        f.subarray(38, 42).toString('hex') === vip4Hex,
    );
  const nas = () =>
    cap.frames.filter(
      (f) =>
        f.subarray(6, 12).toString('hex') === macHex &&
        f.readUInt16BE(12) === 0x86dd &&
        f[20] === 58 &&
        f[54] === 136 &&
        f.readUInt32BE(58) === 0x20000000,
    );
  // Three rounds: each an ARP request, an ARP reply and an unsolicited NA, as the peer received them.
  await until('9 announcements', () => garps(1).length + garps(2).length + nas().length >= 9, {
    limitMs: 1000,
    everyMs: 20,
  });
  await new Promise((res) => setTimeout(res, 100));
  t.is(garps(1).length, 3);
  t.is(garps(2).length, 3);
  t.is(nas().length, 3);
  t.is(nas()[0][21], 255, 'hop limit 255');
  t.is(nas()[0].subarray(0, 6).toString('hex'), '333300000001');

  // The peer now reaches the VIP at the director.
  ip('netns', 'exec', pair.b.ns, 'ping', '-c1', '-W2', vip4);
  ip('netns', 'exec', pair.b.ns, 'ping', '-6', '-c1', '-W2', vip6);

  const rel = await dir.owner.release();
  t.deepEqual(rel.changed, [`${vip4}/32`, `${vip6}/128`]);
  t.notRegex(ip('-n', pair.a.ns, 'addr', 'show', 'dev', 'veth0'), /203\.200|203::200/);
});

labTest('start-up: VIPs a crashed run left on the interface are removed', async (t) => {
  const pair = makePair('vl', 204);
  t.teardown(() => pair.destroy());
  const vip4 = '198.18.204.200';
  const vip6 = '2001:2:0:204::200';
  ip('-n', pair.a.ns, 'addr', 'add', `${vip4}/32`, 'dev', 'veth0');
  ip('-n', pair.a.ns, 'addr', 'add', `${vip6}/128`, 'dev', 'veth0', 'nodad');
  const dir = director(pair, vip4, vip6);
  t.teardown(() => dir.close());
  const r = await dir.owner.removeLeftovers();
  t.deepEqual(r.changed, [`${vip4}/32`, `${vip6}/128`]);
  const shown = ip('-n', pair.a.ns, 'addr', 'show', 'dev', 'veth0');
  t.notRegex(shown, /204\.200|204::200/);
  t.regex(shown, /inet 198\.18\.204\.1\/24/, 'the host address stays');
});

labTest('takeover: the election thread announces as it decides, before any VIP is added', async (t) => {
  const { pair, vip4, vip6 } = pairWithStalePeer(t, 'vt', 205);
  const dir = director(pair, vip4, vip6);
  t.teardown(() => dir.close());
  // The VIP part learns its interfaces at start-up; what it would announce goes to the thread.
  await dir.owner.removeLeftovers();
  const targets = dir.owner.announceTargets();
  t.deepEqual(targets, [{ ifindex: dir.ifindex, mac: pair.a.mac, addresses: [vip4, vip6] }]);

  const outputs: ReportedOutput[] = [];
  // The worker's thread is created in the director's namespace, and its packet socket with it.
  const thread = await inNamespace(pair.a.ns, () =>
    ElectionThread.start(
      {
        nodeId: 1,
        groups: [
          {
            groupId: 9,
            nodeId: 1,
            priority: 100,
            advertIntervalMs: 10,
            fingerprint: new Uint8Array(16),
            peers: [],
          },
        ],
        transport: null,
        clockOriginNs: mainClockOriginNs(),
        scheduling: null,
        snapshotIntervalMs: 50,
        announce: { arpForms: ['request', 'reply'], groups: { 9: targets } },
        heartbeat: null,
        vips: {},
      },
      { onOutput: (_id, o) => outputs.push(o), onSocketError: () => {}, onFailure: () => {} },
    ),
  );
  t.teardown(() => thread.stop());
  t.is(thread.announceError, null);
  thread.startGroups();
  await until(
    'a become-master effect',
    () => outputs.some((o) => o.effects.some((e) => e.type === 'become-master')),
    {
      limitMs: 3000,
      everyMs: 20,
    },
  );
  const master = outputs.find((o) => o.effects.some((e) => e.type === 'become-master'));
  t.deepEqual(master?.announced, { sent: 3, failed: 0 }, 'ARP request + reply + NA, one round');

  // Nobody added the VIPs: the peer's caches moved to our MAC from the thread's frames alone.
  await until(`the ARP cache entry for ${vip4} on a's MAC`, () => neighMac(pair, vip4) === pair.a.mac, {
    limitMs: 2000,
    everyMs: 20,
    detail: () => `ARP cache: ${neighMac(pair, vip4)}`,
  });
  await until(`the ND cache entry for ${vip6} on a's MAC`, () => neighMac(pair, vip6) === pair.a.mac, {
    limitMs: 2000,
    everyMs: 20,
    detail: () => `ND cache: ${neighMac(pair, vip6)}`,
  });
  t.notRegex(ip('-n', pair.a.ns, 'addr', 'show', 'dev', 'veth0'), /205\.200|205::200/);

  // The VIP part counts the thread's round with its own.
  dir.owner.recordRound(master?.announced ?? { sent: 0, failed: 0 });
  t.like(dir.owner.status(), { rounds: 1, framesSent: 3, framesFailed: 0 });
});
