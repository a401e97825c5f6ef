/** Address helpers: family, canonical form (RFC 5952), unicast usability, ADDRESS:PORT. */
import test from 'ava';
import { isMulticast, isUsableUnicast } from '../../config/address.ts';
import { ipFamily, normalizeIp, parseHostPort } from '../../config/index.ts';

test('family and canonical form', (t) => {
  t.is(ipFamily('198.18.0.1'), 4);
  t.is(ipFamily('2001:2::1'), 6);
  t.is(ipFamily('fe80::1%eth0'), null);
  t.is(ipFamily('198.18.0.01'), null);
  t.is(ipFamily('lb1'), null);
  t.is(normalizeIp('2001:0002:0000:0000:0000:0000:0000:0010'), '2001:2::10');
  t.is(normalizeIp('2001:2:0:1:0:0:0:1'), '2001:2:0:1::1');
  t.is(normalizeIp('2001:2::A:b'), '2001:2::a:b');
  t.is(normalizeIp('198.18.0.1'), '198.18.0.1');
});

test('unicast usability and multicast', (t) => {
  for (const a of ['198.18.0.1', '2001:2::1']) t.true(isUsableUnicast(a), a);
  for (const a of [
    '0.0.0.0',
    '127.0.0.1',
    '224.0.0.18',
    '255.255.255.255',
    '::',
    '::1',
    'ff02::12',
    'fe80::1',
  ]) {
    t.false(isUsableUnicast(a), a);
  }
  t.true(isMulticast('239.192.77.18'));
  t.true(isMulticast('ff02::12'));
  t.false(isMulticast('198.18.0.1'));
});

test('ADDRESS:PORT', (t) => {
  t.deepEqual(parseHostPort('127.0.0.1:9779'), { host: '127.0.0.1', port: 9779 });
  t.deepEqual(parseHostPort('[::1]:9779'), { host: '::1', port: 9779 });
  t.deepEqual(parseHostPort('[2001:2:0::1]:80'), { host: '2001:2::1', port: 80 });
  for (const bad of [
    '::1:9779',
    '[127.0.0.1]:80',
    '127.0.0.1',
    '127.0.0.1:0',
    '127.0.0.1:65536',
    'localhost:80',
  ]) {
    t.is(parseHostPort(bad), null, bad);
  }
});
