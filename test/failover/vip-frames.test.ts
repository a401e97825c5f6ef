/**
 * Gratuitous ARP and unsolicited NA frames against byte vectors written out field by field (the NA
 * checksum computed independently, outside this code base).
 */
import test from 'ava';
import fc from 'fast-check';
import { roundFrames } from '../../failover/vip/announcer.ts';
import { gratuitousArp, internetChecksum, unsolicitedNeighbourAdvert } from '../../failover/vip/frames.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const MAC = '02:d5:00:00:00:02';

test('gratuitous ARP, request form (RFC 5227 §2.3 announcement)', (t) => {
  t.deepEqual(
    gratuitousArp(MAC, '198.18.0.200', 'request'),
    hex(`
      ffffffffffff 02d500000002 0806
      0001 0800 06 04 0001
      02d500000002 c61200c8
      000000000000 c61200c8`),
  );
});

test('gratuitous ARP, reply form (RFC 5944 §4.6): target hardware address = sender', (t) => {
  t.deepEqual(
    gratuitousArp(MAC, '198.18.0.200', 'reply'),
    hex(`
      ffffffffffff 02d500000002 0806
      0001 0800 06 04 0002
      02d500000002 c61200c8
      02d500000002 c61200c8`),
  );
});

test('unsolicited NA (RFC 4861 §7.2.6): ff02::1, hop limit 255, O flag, TLLA option, checksum', (t) => {
  const f = unsolicitedNeighbourAdvert(MAC, '2001:2::200');
  t.deepEqual(
    f,
    hex(`
      333300000001 02d500000002 86dd
      60000000 0020 3a ff
      20010002000000000000000000000200
      ff020000000000000000000000000001
      88 00 0fc3 20000000
      20010002000000000000000000000200
      02 01 02d500000002`),
  );
});

test('NA checksum verifies to zero over pseudo-header + message for any VIP and MAC', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: 16, maxLength: 16 }),
      fc.uint8Array({ minLength: 6, maxLength: 6 }),
      (ip, mac) => {
        const words = Buffer.from(ip)
          .toString('hex')
          .match(/.{4}/g)!
          .map((w) => w.replace(/^0+(?=.)/, ''))
          .join(':');
        const f = unsolicitedNeighbourAdvert(Buffer.from(mac), words);
        const icmp = f.subarray(54);
        const pseudo = Buffer.concat([f.subarray(22, 54), hex('00000020 0000003a')]);
        return internetChecksum([pseudo, icmp]) === 0 && f[21] === 255 && icmp.readUInt32BE(4) === 0x20000000;
      },
    ),
    { numRuns: 500 },
  );
  t.pass();
});

test('internetChecksum: RFC 1071 example and odd lengths', (t) => {
  // RFC 1071 §3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2 (checksum 220d).
  t.is(internetChecksum([hex('0001f203f4f5f6f7')]), 0x220d);
  t.is(internetChecksum([hex('0001f2'), hex('03f4f5f6f7')]), 0x220d);
  t.is(internetChecksum([hex('ff')]), 0x00ff);
});

test('one round: ARP forms per IPv4 VIP in order, one NA per IPv6 VIP; bad input is refused', (t) => {
  const frames = roundFrames(MAC, ['198.18.0.200', '2001:2::200'], ['request', 'reply']);
  t.is(frames.length, 3);
  t.is(frames[0].readUInt16BE(20), 1);
  t.is(frames[1].readUInt16BE(20), 2);
  t.is(frames[2].readUInt16BE(12), 0x86dd);
  t.is(roundFrames(MAC, ['198.18.0.200'], ['request']).length, 1);
  t.throws(() => gratuitousArp(MAC, '2001:2::1', 'request'), { message: /not an IPv4/ });
  t.throws(() => unsolicitedNeighbourAdvert(MAC, '198.18.0.1'), { message: /not an IPv6/ });
  t.throws(() => gratuitousArp('02:d5:00', '198.18.0.1', 'request'));
});
