import test from 'ava';
import { parseAddrLine, VipHolders } from '../../../lab/failover/vip-holders.ts';

// Lines as `ip -o monitor address` and `ip -o addr show` print them (iproute2 6.1).
const ADD4 =
  '3: eth0    inet 198.18.0.200/32 scope global eth0\\       valid_lft forever preferred_lft forever';
const DEL4 = `Deleted ${ADD4}`;
const OWN4 =
  '2: eth0    inet 198.18.0.2/24 scope global eth0\\       valid_lft forever preferred_lft forever';
const ADD6 =
  '3: eth0    inet6 2001:2::200/128 scope global nodad \\       valid_lft forever preferred_lft forever';

test('address lines are parsed into present/deleted events', (t) => {
  t.deepEqual(parseAddrLine(ADD4), { ifname: 'eth0', addr: '198.18.0.200', present: true });
  t.deepEqual(parseAddrLine(DEL4), { ifname: 'eth0', addr: '198.18.0.200', present: false });
  t.deepEqual(parseAddrLine(ADD6), { ifname: 'eth0', addr: '2001:2::200', present: true });
  t.is(parseAddrLine(''), null);
  t.is(parseAddrLine('2: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500'), null);
  t.is(parseAddrLine('garbage inet 1.2.3.4/5'), null);
});

test('holders follow adds and deletes of the VIP only, and count acquisitions', (t) => {
  const h = new VipHolders('198.18.0.200');
  t.false(h.apply('d1', parseAddrLine(OWN4), 1), 'own address ignored');
  t.true(h.apply('d1', parseAddrLine(ADD4), 2));
  t.false(h.apply('d1', parseAddrLine(ADD4), 3), 'repeat is no change');
  t.deepEqual(h.holders(), ['d1']);
  t.true(h.apply('d2', parseAddrLine(ADD4), 4));
  t.deepEqual(h.holders(), ['d1', 'd2']);
  t.true(h.apply('d1', parseAddrLine(DEL4), 5));
  t.deepEqual(h.holders(), ['d2']);
  t.false(h.apply('d3', parseAddrLine(DEL4), 6), 'deleting what was never held is no change');
  t.is(h.acquisitions, 2);
  t.deepEqual(
    h.acquisitionsSince(2).map((c) => c.host),
    ['d2'],
  );
  t.is(h.changes.length, 3);
});

test('a VIP dropped and taken back by the same director is not a move', (t) => {
  const h = new VipHolders('198.18.0.200');
  h.apply('d1', parseAddrLine(ADD4), 1);
  h.apply('d1', parseAddrLine(DEL4), 10);
  h.apply('d1', parseAddrLine(ADD4), 20); // fenced after a stall, no one took over: taken back
  h.apply('d2', parseAddrLine(ADD4), 30); // a real move
  h.apply('d1', parseAddrLine(DEL4), 31);
  h.apply('d2', parseAddrLine(DEL4), 40);
  h.apply('d2', parseAddrLine(ADD4), 50); // d2 again: not a move
  h.apply('d1', parseAddrLine(ADD4), 60); // back to d1: a move
  t.deepEqual(
    h.acquisitionsSince(5).map((c) => `${c.at} ${c.host}`),
    ['20 d1', '30 d2', '50 d2', '60 d1'],
  );
  t.deepEqual(
    h.movesSince(5).map((c) => `${c.at} ${c.host}`),
    ['30 d2', '60 d1'],
  );
  t.deepEqual(
    h.movesSince(0).map((c) => c.host),
    ['d1', 'd2', 'd1'],
    'the first holder is a move from nobody',
  );
});

test('the VIP on another interface does not count', (t) => {
  const h = new VipHolders('198.18.0.200');
  t.false(h.apply('d1', parseAddrLine(ADD4.replace(/eth0/g, 'lo')), 1));
  t.deepEqual(h.holders(), []);
});

test('IPv6 VIPs compare case-insensitively', (t) => {
  const h = new VipHolders('2001:2::20A');
  t.false(h.apply('d1', parseAddrLine(ADD6), 1), 'another VIP');
  t.true(h.apply('d1', parseAddrLine(ADD6.replace('2001:2::200', '2001:2::20a')), 2));
  t.true(h.has('d1'));
});
