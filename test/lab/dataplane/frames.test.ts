import test from 'ava';
import { buildFrame4, ipv4Bytes, macBytes, TCP_SYN } from '../../../lab/dataplane/frames.ts';
import { nftDsrRuleset } from '../../../lab/dataplane/nft-dsr.ts';
import type { Host } from '../../../lab/index.ts';

/** RFC 1071: the one's-complement sum over data that includes its checksum is 0xffff. */
function onesSum(...parts: Buffer[]): number {
  let sum = 0;
  for (const b of parts) for (let i = 0; i < b.length; i += 2) sum += (b[i] << 8) | (b[i + 1] ?? 0);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

function pseudo(f: Buffer): Buffer {
  const p = Buffer.alloc(12);
  f.copy(p, 0, 26, 34);
  p[9] = f[23];
  p.writeUInt16BE(f.length - 34, 10);
  return p;
}

const base = {
  srcMac: '02:d5:00:00:02:00',
  dstMac: '02:d5:00:00:01:00',
  srcIp: '198.18.0.10',
  dstIp: '198.18.0.200',
  sport: 40000,
  dport: 80,
};

test('TCP frame: addresses in place, IPv4 and TCP checksums verify', (t) => {
  const f = buildFrame4({ ...base, proto: 'tcp', tcpFlags: TCP_SYN, size: 80 });
  t.is(f.length, 80);
  t.deepEqual(f.subarray(0, 6), macBytes(base.dstMac));
  t.deepEqual(f.subarray(6, 12), macBytes(base.srcMac));
  t.is(f.readUInt16BE(12), 0x0800);
  t.deepEqual(f.subarray(26, 30), ipv4Bytes(base.srcIp));
  t.deepEqual(f.subarray(30, 34), ipv4Bytes(base.dstIp));
  t.is(f.readUInt16BE(16), 80 - 14, 'IP total length');
  t.is(onesSum(f.subarray(14, 34)), 0xffff, 'IPv4 header checksum');
  t.is(f[47], TCP_SYN);
  t.is(onesSum(pseudo(f), f.subarray(34)), 0xffff, 'TCP checksum');
});

test('UDP frame: checksum verifies, or is 0 when asked for none; minimum size 60', (t) => {
  const f = buildFrame4({ ...base, proto: 'udp', dport: 9 });
  t.is(f.length, 60);
  t.is(f.readUInt16BE(38), 60 - 34, 'UDP length');
  t.not(f.readUInt16BE(40), 0);
  t.is(onesSum(pseudo(f), f.subarray(34)), 0xffff, 'UDP checksum');
  const none = buildFrame4({ ...base, proto: 'udp', dport: 9, noUdpChecksum: true });
  t.is(none.readUInt16BE(40), 0);
});

test('bad addresses are refused', (t) => {
  t.throws(() => buildFrame4({ ...base, proto: 'udp', srcMac: '02:d5:00:00:02' }), { message: /E_BENCH/ });
  t.throws(() => buildFrame4({ ...base, proto: 'udp', dstIp: '198.18.0.256' }), { message: /E_BENCH/ });
});

test('nftables DSR peer: one ingress rule rewriting both MACs, jhash over the real servers, fwd back out', (t) => {
  const host = (name: string, mac: string) => ({ name, mac, ifname: 'eth0' }) as unknown as Host;
  const rules = nftDsrRuleset({
    director: host('d1', '02:d5:00:00:01:00'),
    reals: [host('r1', '02:d5:00:00:03:00'), host('r2', '02:d5:00:00:03:01')],
    vip: '198.18.0.200',
    port: 9,
  });
  t.regex(rules, /table netdev dsrbench/);
  t.regex(rules, /type filter hook ingress device "eth0" priority 0;/);
  t.regex(
    rules,
    /ip daddr 198\.18\.0\.200 udp dport 9 ether saddr set 02:d5:00:00:01:00 ether daddr set jhash ip saddr \. udp sport mod 2 map \{ 0 : 02:d5:00:00:03:00, 1 : 02:d5:00:00:03:01 \} fwd to "eth0"/,
  );
});
