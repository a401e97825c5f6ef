/**
 * The drill's pure pieces: recognising another director's VIP announcements on the wire
 * (announce-watch.ts), with the very frames our own announcer sends (failover/vip/frames.ts); what
 * the config gives a drill.
 */
import test from 'ava';
import { isDsrError } from '../../core/errors.ts';
import { parseAnnouncement } from '../../daemon/drill/announce-watch.ts';
import { drillSetup } from '../../daemon/drill/views.ts';
import { gratuitousArp, unsolicitedNeighbourAdvert } from '../../failover/vip/frames.ts';
import { parseOk } from '../config/helpers.ts';

const VIPS = new Set(['198.18.0.200', '2001:2::200']);
const MAC = '02:d5:00:00:01:01';

test('gratuitous ARP (both forms) and unsolicited NA for a VIP are announcements, with the sender MAC', (t) => {
  t.deepEqual(parseAnnouncement(gratuitousArp(MAC, '198.18.0.200', 'request'), VIPS), {
    vip: '198.18.0.200',
    mac: MAC,
  });
  t.deepEqual(parseAnnouncement(gratuitousArp(MAC, '198.18.0.200', 'reply'), VIPS), {
    vip: '198.18.0.200',
    mac: MAC,
  });
  t.deepEqual(parseAnnouncement(unsolicitedNeighbourAdvert(MAC, '2001:2::200'), VIPS), {
    vip: '2001:2::200',
    mac: MAC,
  });
});

test('frames for other addresses, other protocols and truncated frames are not announcements', (t) => {
  t.is(parseAnnouncement(gratuitousArp(MAC, '198.18.0.201', 'request'), VIPS), null);
  t.is(parseAnnouncement(unsolicitedNeighbourAdvert(MAC, '2001:2::201'), VIPS), null);
  const arp = gratuitousArp(MAC, '198.18.0.200', 'request');
  t.is(parseAnnouncement(arp.subarray(0, 41), VIPS), null);
  t.is(parseAnnouncement(Buffer.alloc(0), VIPS), null);
  const notEthernet = Buffer.from(arp);
  notEthernet[15] = 6; // hardware type IEEE 802
  t.is(parseAnnouncement(notEthernet, VIPS), null);
  const na = Buffer.from(unsolicitedNeighbourAdvert(MAC, '2001:2::200'));
  na[54] = 135; // a neighbour solicitation is not an announcement
  t.is(parseAnnouncement(na, VIPS), null);
  const forwarded = Buffer.from(unsolicitedNeighbourAdvert(MAC, '2001:2::200'));
  forwarded[21] = 64; // hop limit below 255: not from the link (RFC 4861 §7.1.2)
  t.is(parseAnnouncement(forwarded, VIPS), null);
  const ipv4 = Buffer.from(arp);
  ipv4.writeUInt16BE(0x0800, 12);
  t.is(parseAnnouncement(ipv4, VIPS), null);
});

const PAIR_CONFIG = (services: string) => `node:
  id: d1
peers:
  - id: d2
    address: 198.18.0.3
interfaces:
  - name: eth0
vip_groups:
  - name: web
    id: 51
    vips: [198.18.0.200]
services:
${services}keys:
  election:
    keys:
      - id: 1
        file: /etc/dsr/k1.key
`;

const svc = (name: string, protocol: string, port: number) =>
  `  - name: ${name}\n    vip: 198.18.0.200\n    protocol: ${protocol}\n    port: ${port}\n    real_servers:\n      - address: 198.18.0.100\n`;

test('drill setup: the group, its interface, the peer address, and a TCP service with a port to connect to', (t) => {
  const c = parseOk(PAIR_CONFIG(svc('dns', 'udp', 53) + svc('all', 'tcp', 0) + svc('echo', 'tcp', 7000)));
  t.deepEqual(drillSetup(c, 'web', 'd2'), {
    group: 'web',
    vips: ['198.18.0.200'],
    ifname: 'eth0',
    peerAddress: '198.18.0.3',
    probe: { service: 'echo', vip: '198.18.0.200', port: 7000 },
  });
  // Nothing to connect to: UDP only, or every port.
  t.is(
    drillSetup(parseOk(PAIR_CONFIG(svc('dns', 'udp', 53) + svc('all', 'tcp', 0))), 'web', 'd2').probe,
    null,
  );
  // A group or peer the config does not have is a usage error (dsrctl exits 2).
  t.true(
    isDsrError(
      t.throws(() => drillSetup(c, 'mail', 'd2')),
      'E_USAGE',
    ),
  );
  t.true(
    isDsrError(
      t.throws(() => drillSetup(c, 'web', 'd3')),
      'E_USAGE',
    ),
  );
});
