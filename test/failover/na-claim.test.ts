/**
 * Claims of IPv6 addresses read from Neighbor Advertisements (failover/vip/na-claim.ts): the
 * target address in canonical text and the claimed MAC, and null for everything a receiver would
 * not accept as an NA (RFC 4861 §7.1.2) or that is not one. Frames are built field by field here,
 * with the checksum recomputed, so each case differs from a valid NA in the one field it names.
 */
import test from 'ava';
import fc from 'fast-check';
import { canonicalIp, parseIp } from '../../core/net/ip.ts';
import { parseMac } from '../../core/net/mac.ts';
import { internetChecksum, unsolicitedNeighbourAdvert } from '../../failover/vip/frames.ts';
import { naClaim } from '../../failover/vip/na-claim.ts';

const OTHER = '02:d5:00:00:09:09';
const ETH_SOURCE = '02:d5:00:00:07:07';
const VIP = '2001:2::200';

interface NaFields {
  ethSource?: string;
  source?: string;
  destination?: string;
  hopLimit?: number;
  nextHeader?: number;
  type?: number;
  code?: number;
  /** R, S, O in the top bits of the flags byte. */
  flags?: number;
  target?: string;
  options?: Buffer;
  /** Added to the correct checksum (0: correct). */
  checksumError?: number;
}

const tlla = (mac: string): Buffer => Buffer.concat([Buffer.from([2, 1]), parseMac(mac)]);

/** An Ethernet + IPv6 + ICMPv6 frame, NA by default: unsolicited, Override, TLLA = OTHER. */
function frame(f: NaFields = {}): Buffer {
  const source = parseIp(f.source ?? 'fe80::d5ff:fe00:909').bytes;
  const destination = parseIp(f.destination ?? 'ff02::1').bytes;
  const options = f.options ?? tlla(OTHER);
  const icmp = Buffer.alloc(24 + options.length);
  icmp[0] = f.type ?? 136;
  icmp[1] = f.code ?? 0;
  icmp[4] = f.flags ?? 0x20;
  parseIp(f.target ?? VIP).bytes.copy(icmp, 8);
  options.copy(icmp, 24);
  const pseudo = Buffer.alloc(40);
  source.copy(pseudo, 0);
  destination.copy(pseudo, 16);
  pseudo.writeUInt32BE(icmp.length, 32);
  pseudo[39] = 58;
  icmp.writeUInt16BE((internetChecksum([pseudo, icmp]) + (f.checksumError ?? 0)) & 0xffff, 2);
  const ip6 = Buffer.alloc(40);
  ip6.writeUInt32BE(0x60000000, 0);
  ip6.writeUInt16BE(icmp.length, 4);
  ip6[6] = f.nextHeader ?? 58;
  ip6[7] = f.hopLimit ?? 255;
  source.copy(ip6, 8);
  destination.copy(ip6, 24);
  const eth = Buffer.concat([Buffer.from('333300000001', 'hex'), parseMac(f.ethSource ?? ETH_SOURCE)]);
  return Buffer.concat([eth, Buffer.from([0x86, 0xdd]), ip6, icmp]);
}

test('the announcer’s unsolicited NA claims its target for its MAC, in canonical text', (t) => {
  t.deepEqual(naClaim(unsolicitedNeighbourAdvert(OTHER, VIP)), { address: VIP, mac: OTHER });
  const long = '2001:0002:0000:0000:0000:0000:0000:0200';
  const claim = naClaim(unsolicitedNeighbourAdvert(OTHER, long));
  t.is(claim?.address, canonicalIp(long), 'the form VipOwner writes its VIPs in');
  t.is(claim?.address, VIP);
});

test('the MAC is the Target Link-Layer Address option, else the Ethernet source', (t) => {
  t.deepEqual(naClaim(frame()), { address: VIP, mac: OTHER }, 'TLLA, not the Ethernet source');
  t.deepEqual(naClaim(frame({ options: Buffer.alloc(0) })), { address: VIP, mac: ETH_SOURCE }, 'no option');
  const nonce = Buffer.from([14, 1, 1, 2, 3, 4, 5, 6]); // another option first (RFC 3971 nonce)
  t.deepEqual(naClaim(frame({ options: Buffer.concat([nonce, tlla(OTHER)]) })), { address: VIP, mac: OTHER });
  t.deepEqual(
    naClaim(frame({ options: Buffer.concat([tlla(OTHER), tlla('02:d5:00:00:08:08')]) })),
    { address: VIP, mac: OTHER },
    'the first TLLA counts, as in Linux',
  );
  t.deepEqual(naClaim(frame({ options: nonce })), { address: VIP, mac: ETH_SOURCE }, 'options, no TLLA');
});

test('solicited NAs and NAs without Override claim too; Ethernet padding is ignored', (t) => {
  const unicast = { destination: '2001:2::1', source: '2001:2::9' };
  t.deepEqual(naClaim(frame({ ...unicast, flags: 0x40 })), { address: VIP, mac: OTHER }, 'solicited');
  t.deepEqual(naClaim(frame({ flags: 0 })), { address: VIP, mac: OTHER }, 'no Override');
  t.deepEqual(naClaim(Buffer.concat([frame(), Buffer.alloc(12)])), { address: VIP, mac: OTHER });
});

test('a hop limit other than 255 claims nothing (RFC 4861 §7.1.2: sent from off the link)', (t) => {
  for (const hopLimit of [254, 64, 1, 0]) t.is(naClaim(frame({ hopLimit })), null, `hop limit ${hopLimit}`);
});

test('not an NA: a Neighbor Solicitation, other ICMPv6, another next header, not IPv6', (t) => {
  t.is(naClaim(frame({ type: 135 })), null, 'Neighbor Solicitation');
  t.is(naClaim(frame({ type: 128 })), null, 'echo request');
  t.is(naClaim(frame({ nextHeader: 17 })), null, 'UDP');
  t.is(
    naClaim(frame({ nextHeader: 0 })),
    null,
    'a hop-by-hop header first: extension headers are not followed',
  );
  const ipv4 = frame();
  ipv4.writeUInt16BE(0x0800, 12);
  t.is(naClaim(ipv4), null, 'EtherType IPv4');
  const version = frame();
  version[14] = 0x40;
  t.is(naClaim(version), null, 'IP version 4 in an IPv6 frame');
});

test('an NA a receiver would drop (RFC 4861 §7.1.2) claims nothing', (t) => {
  t.is(naClaim(frame({ code: 1 })), null, 'code not 0');
  t.is(naClaim(frame({ checksumError: 1 })), null, 'bad checksum');
  t.is(naClaim(frame({ target: 'ff02::1' })), null, 'multicast target');
  t.is(naClaim(frame({ flags: 0x60 })), null, 'Solicited set on an NA sent to a multicast address');
  t.is(naClaim(frame({ options: Buffer.from([2, 0, 0, 0, 0, 0, 0, 0]) })), null, 'zero-length option');
  t.is(naClaim(frame({ options: Buffer.from([2, 2, 0, 0, 0, 0, 0, 0]) })), null, 'option past the end');
  const long = Buffer.concat([Buffer.from([2, 2]), parseMac(OTHER), Buffer.alloc(8)]);
  t.is(naClaim(frame({ options: long })), null, 'a TLLA that is no Ethernet address');
  t.is(naClaim(frame({ options: Buffer.from([2]) })), null, 'half an option header');
});

test('truncated: every frame cut short of the message claims nothing', (t) => {
  const full = frame();
  for (let n = 0; n < full.length; n++) t.is(naClaim(full.subarray(0, n)), null, `${n} bytes`);
  const lying = frame();
  lying.writeUInt16BE(lying.readUInt16BE(18) + 8, 18); // payload length past the frame's end
  t.is(naClaim(lying), null);
});

test('a frame inside a larger buffer (a non-zero byteOffset) parses the same', (t) => {
  const full = frame();
  const inside = Buffer.concat([Buffer.alloc(5, 0xaa), full, Buffer.alloc(3, 0xbb)]).subarray(
    5,
    5 + full.length,
  );
  t.deepEqual(naClaim(inside), { address: VIP, mac: OTHER });
});

test('random bytes and random corruptions of an NA never throw', (t) => {
  const valid = frame();
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      naClaim(b);
    }),
  );
  fc.assert(
    fc.property(
      fc.nat(valid.length - 1),
      fc.integer({ min: 0, max: 255 }),
      fc.nat(valid.length),
      (at, byte, cut) => {
        const f = Buffer.from(valid);
        f[at] = byte;
        const claim = naClaim(f.subarray(0, cut));
        // Anything it does claim is a well-formed address and MAC.
        return (
          claim === null ||
          (canonicalIp(claim.address) === claim.address && /^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(claim.mac))
        );
      },
    ),
  );
  t.pass();
});
