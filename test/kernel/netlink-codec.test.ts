/**
 * The rtnetlink codec against byte vectors written out by hand from the UAPI struct layouts (and
 * checked against what iproute2 6.1 sends for `ip addr add`, captured with strace).
 */
import test from 'ava';
import { isDsrError } from '../../core/errors.ts';
import {
  decodeAddress,
  encodeAddressAdd,
  encodeAddressDump,
  encodeAddressRemove,
} from '../../core/netlink/address-codec.ts';
import {
  IFA_F_NODAD,
  NLM_F_ACK,
  NLM_F_ACK_TLVS,
  NLM_F_CAPPED,
  NLM_F_MULTI,
  NLMSG_DONE,
  NLMSG_ERROR,
  NTF_EXT_MANAGED,
  NUD_FAILED,
  NUD_REACHABLE,
  nudStateName,
} from '../../core/netlink/constants.ts';
import { decodeLink, encodeLinkDump, encodeLinkGet } from '../../core/netlink/link-codec.ts';
import {
  decodeAck,
  decodeAttrs,
  decodeMessages,
  encodeAttrs,
  encodeMessage,
} from '../../core/netlink/message.ts';
import {
  decodeNeighbour,
  encodeNeighbourDelete,
  encodeNeighbourDump,
  encodeNeighbourGet,
  encodeNeighbourManaged,
} from '../../core/netlink/neigh-codec.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('nlmsghdr: length, type, flags, seq and port id in host order, padded to 4', (t) => {
  const m = encodeMessage({ type: 0x14, flags: 0x605, seq: 0x01020304, pid: 7 }, hex('aabbcc'));
  t.deepEqual(m, hex('13000000 1400 0506 04030201 07000000 aabbcc 00'));
});

test('RTM_NEWADDR for an IPv4 VIP: the bytes iproute2 sends, plus IFA_FLAGS and IFA_PROTO', (t) => {
  const r = encodeAddressAdd({ ifindex: 1, address: '198.18.0.5', prefixLength: 32, proto: 213 });
  t.is(r.type, 20);
  t.is(r.flags, 0x605); // REQUEST | ACK | EXCL | CREATE, as `ip addr add`
  t.deepEqual(
    r.payload,
    hex(`
      02 20 00 00 01000000
      0800 0200 c6120005
      0800 0100 c6120005
      0800 0800 00000000
      0500 0b00 d5 000000`),
  );
});

test('RTM_NEWADDR for an IPv6 VIP with IFA_F_NODAD in the header and in IFA_FLAGS', (t) => {
  const r = encodeAddressAdd({ ifindex: 3, address: '2001:2::5', prefixLength: 128, flags: IFA_F_NODAD });
  t.deepEqual(
    r.payload,
    hex(`
      0a 80 02 00 03000000
      1400 0200 20010002000000000000000000000005
      1400 0100 20010002000000000000000000000005
      0800 0800 02000000`),
  );
});

test('RTM_DELADDR names address and prefix; dumps use NLM_F_DUMP', (t) => {
  const r = encodeAddressRemove({ ifindex: 2, address: '198.18.0.200', prefixLength: 32 });
  t.is(r.type, 21);
  t.is(r.flags, 0x05);
  t.deepEqual(r.payload, hex('02 20 00 00 02000000 0800 0200 c61200c8 0800 0100 c61200c8'));
  const d = encodeAddressDump();
  t.is(d.flags, 0x301);
  t.deepEqual(d.payload, hex('0000000000000000'));
  t.deepEqual(encodeAddressDump(6).payload, hex('0a00000000000000'));
});

test('address requests refuse bad prefix lengths and interface indexes', (t) => {
  t.throws(() => encodeAddressAdd({ ifindex: 1, address: '198.18.0.5', prefixLength: 33 }), {
    message: /prefix/,
  });
  t.throws(() => encodeAddressAdd({ ifindex: 0, address: '198.18.0.5', prefixLength: 32 }), {
    message: /index/,
  });
  t.throws(() => encodeAddressAdd({ ifindex: 1, address: '198.18.0', prefixLength: 24 }), {
    message: /IPv4/,
  });
});

test('decodeAddress: a kernel RTM_NEWADDR for 127.0.0.1/8 on lo', (t) => {
  const payload = hex(`
    02 08 80 fe 01000000
    0800 0100 7f000001
    0800 0200 7f000001
    0700 0300 6c6f00 00
    0800 0800 80000000
    1400 0600 ffffffff ffffffff 41000000 41000000`);
  t.deepEqual(decodeAddress(payload), {
    family: 4,
    ifindex: 1,
    address: '127.0.0.1',
    prefixLength: 8,
    flags: 0x80,
    scope: 254,
    label: 'lo',
  });
});

test('decodeAddress: IPv6 has only IFA_ADDRESS; IFA_PROTO is read; other families are skipped', (t) => {
  const payload = hex(`
    0a 80 02 00 05000000
    1400 0100 20010002000000000000000000000200
    0500 0b00 d5 000000`);
  const a = decodeAddress(payload);
  t.is(a?.address, '2001:2::200');
  t.is(a?.prefixLength, 128);
  t.is(a?.flags, IFA_F_NODAD);
  t.is(a?.proto, 213);
  t.is(decodeAddress(hex('11 00 00 00 01000000')), undefined);
  t.throws(() => decodeAddress(hex('02 20 00 00 01000000')), { message: /without IFA_LOCAL/ });
  t.throws(() => decodeAddress(hex('02 20 00 00 01000000 0700 0200 c61200')), { message: /3 bytes/ });
});

test('RTM_GETLINK: one link with ACK, or a dump', (t) => {
  t.deepEqual(encodeLinkGet(4).payload, hex('00 00 0000 04000000 00000000 00000000'));
  t.is(encodeLinkGet(4).flags, 0x01);
  t.is(encodeLinkDump().flags, 0x301);
  t.throws(() => encodeLinkGet(-1));
});

test('decodeLink: name, MAC, MTU, operstate, and carrier from flags', (t) => {
  const payload = hex(`
    00 00 0100 04000000 43100100 00000000
    0900 0300 6574683000 000000
    0800 0400 78050000
    0a00 0100 02fc00000001 0000
    0500 1000 06 000000
    0500 2100 01 000000`);
  t.deepEqual(decodeLink(payload), {
    ifindex: 4,
    flags: 0x11043,
    adminUp: true,
    lowerUp: true,
    name: 'eth0',
    mac: '02:fc:00:00:00:01',
    mtu: 1400,
    operState: 'up',
  });
  const down = decodeLink(hex('00 00 0100 04000000 02100000 00000000 0500 1000 02 000000'));
  t.false(down.adminUp);
  t.false(down.lowerUp);
  t.is(down.operState, 'down');
});

test('RTM_NEWNEIGH managed entry: NUD_NONE, CREATE|REPLACE, NDA_FLAGS_EXT = NTF_EXT_MANAGED', (t) => {
  const r = encodeNeighbourManaged(2, '198.18.0.100');
  t.is(r.type, 28);
  t.is(r.flags, 0x505);
  t.deepEqual(r.payload, hex('02 00 0000 02000000 0000 00 00 0800 0100 c6120064 0800 0f00 01000000'));
  t.deepEqual(
    encodeNeighbourDelete(2, '2001:2::100').payload.subarray(0, 12),
    hex('0a 00 0000 02000000 0000 00 00'),
  );
  t.deepEqual(encodeNeighbourDump(4).payload, hex('02 00 0000 00000000 0000 00 00'));
  t.deepEqual(
    encodeNeighbourGet(3, '198.18.0.1').payload,
    hex('02 00 0000 03000000 0000 00 00 0800 0100 c6120001'),
  );
});

test('decodeNeighbour: valid only in NUD_VALID states with a MAC; bridge FDB entries are skipped', (t) => {
  const reachable = hex(`
    02 00 0000 02000000 0200 00 01
    0800 0100 c6120064
    0a00 0200 02d500000064 0000
    0800 0f00 01000000`);
  t.deepEqual(decodeNeighbour(reachable), {
    family: 4,
    ifindex: 2,
    address: '198.18.0.100',
    mac: '02:d5:00:00:00:64',
    state: NUD_REACHABLE,
    flags: 0,
    extFlags: NTF_EXT_MANAGED,
    valid: true,
  });
  const failed = decodeNeighbour(hex('02 00 0000 02000000 2000 00 01 0800 0100 c6120064'));
  t.is(failed?.state, NUD_FAILED);
  t.false(failed?.valid);
  t.is(nudStateName(NUD_FAILED), 'failed');
  t.is(nudStateName(0), 'none');
  // AF_BRIDGE (7): an FDB entry, no NDA_DST.
  t.is(decodeNeighbour(hex('07 00 0000 02000000 0200 00 00 0a00 0200 02d500000064 0000')), undefined);
});

test('decodeMessages: several messages in one datagram, with padding between them', (t) => {
  const a = encodeMessage({ type: 20, flags: NLM_F_MULTI, seq: 9, pid: 100 }, hex('010203'));
  const b = encodeMessage({ type: NLMSG_DONE, flags: NLM_F_MULTI, seq: 9, pid: 100 }, hex('00000000'));
  const msgs = decodeMessages(Buffer.concat([a, b]));
  t.is(msgs.length, 2);
  t.deepEqual(msgs[0].payload, hex('010203'));
  t.is(msgs[1].type, NLMSG_DONE);
  t.is(msgs[1].seq, 9);
  t.is(msgs[1].pid, 100);
});

test('decodeMessages: bad lengths and trailing bytes are E_DECODE', (t) => {
  const isDecode = (f: () => unknown) => {
    const err = t.throws(f);
    t.true(isDsrError(err, 'E_DECODE'), String(err));
  };
  isDecode(() => decodeMessages(hex('0f000000 1400 0000 00000000 00000000')));
  isDecode(() => decodeMessages(hex('40000000 1400 0000 00000000 00000000')));
  isDecode(() =>
    decodeMessages(
      Buffer.concat([encodeMessage({ type: 3, flags: 0, seq: 0, pid: 0 }, hex('')), hex('0000')]),
    ),
  );
  t.deepEqual(decodeMessages(Buffer.alloc(0)), []);
});

test('attributes: 4-byte alignment, flag bits masked, first occurrence kept, bad lengths rejected', (t) => {
  const enc = encodeAttrs([
    [3, Buffer.from('ab')],
    [1, hex('01020304')],
  ]);
  t.deepEqual(enc, hex('0600 0300 6162 0000 0800 0100 01020304'));
  const attrs = decodeAttrs(hex('0500 0180 07 000000 0800 0100 01020304 0500 0100 09 000000'));
  t.deepEqual(attrs.get(1), hex('07')); // 0x8001 = NLA_F_NESTED | 1, first one wins
  t.throws(() => decodeAttrs(hex('0300 0100')), { message: /attribute length 3/ });
  t.throws(() => decodeAttrs(hex('0900 0100 0000')), { message: /attribute length 9/ });
  t.throws(() => decodeAttrs(hex('0400 01')), { message: /trailing/ });
});

test('decodeAck: plain ACK, an error with the kernel extended-ack text, capped echo', (t) => {
  const ack = decodeAck({
    type: NLMSG_ERROR,
    flags: NLM_F_CAPPED,
    seq: 5,
    pid: 0,
    payload: hex('00000000 28000000 1400 0506 05000000 64000000'),
  });
  t.is(ack.errno, 0);
  t.is(ack.request.seq, 5);
  t.is(ack.request.type, 20);
  const err = decodeAck({
    type: NLMSG_ERROR,
    flags: NLM_F_CAPPED | NLM_F_ACK_TLVS,
    seq: 6,
    pid: 0,
    payload: Buffer.concat([
      hex('efffffff 28000000 1400 0506 06000000 64000000'),
      encodeAttrs([
        [1, Buffer.from('Address already assigned\0')],
        [2, hex('18000000')],
      ]),
    ]),
  });
  t.is(err.errno, 17);
  t.is(err.message, 'Address already assigned');
  t.is(err.offset, 24);
  t.throws(() => decodeAck({ type: NLMSG_DONE, flags: 0, seq: 0, pid: 0, payload: Buffer.alloc(20) }));
  t.throws(() => decodeAck({ type: NLMSG_ERROR, flags: 0, seq: 0, pid: 0, payload: hex('01000000') }));
  // Uncapped echo with TLVs: the whole request (40 bytes) is echoed before the TLVs.
  const uncapped = decodeAck({
    type: NLMSG_ERROR,
    flags: NLM_F_ACK_TLVS,
    seq: 7,
    pid: 0,
    payload: Buffer.concat([
      hex('eaffffff'),
      encodeMessage({ type: 20, flags: NLM_F_ACK, seq: 7, pid: 0 }, Buffer.alloc(24)),
      encodeAttrs([[1, Buffer.from('bad\0')]]),
    ]),
  });
  t.is(uncapped.errno, 22);
  t.is(uncapped.message, 'bad');
});
