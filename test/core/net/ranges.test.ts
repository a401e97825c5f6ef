import test from 'ava';
import { isMulticast, isUsableUnicast } from '../../../core/net/ranges.ts';

test('unicast usability', (t) => {
  for (const a of ['198.18.0.1', '2001:2::1', '223.255.255.255', '::2', '::ffff:198.18.0.1', 'fec0::1']) {
    t.true(isUsableUnicast(a), a);
  }
  for (const a of [
    '0.0.0.0',
    '127.0.0.1',
    '224.0.0.18',
    '255.255.255.255',
    '::',
    '::1',
    'ff02::12',
    'fe80::1',
    'febf::1',
    'fe80::1%eth0',
    'lb1',
  ]) {
    t.false(isUsableUnicast(a), a);
  }
});

test('multicast', (t) => {
  t.true(isMulticast('239.192.77.18'));
  t.true(isMulticast('224.0.0.18'));
  t.true(isMulticast('ff02::12'));
  t.false(isMulticast('198.18.0.1'));
  t.false(isMulticast('240.0.0.1'));
  t.false(isMulticast('fe80::1'));
  t.false(isMulticast('ff02::12%eth0'));
});
