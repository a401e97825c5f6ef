import test from 'ava';
import { isDsrError } from '../../../core/errors.ts';
import { formatMac, parseMac } from '../../../core/net/mac.ts';

test('MAC parse and format', (t) => {
  t.deepEqual(parseMac('02:D5:00:00:00:01'), Buffer.from('02d500000001', 'hex'));
  t.is(formatMac(parseMac('02:D5:00:00:0A:01')), '02:d5:00:00:0a:01');
  // Every byte given: link-layer addresses of other lengths print too.
  t.is(formatMac(Buffer.from('0a0b0c0d', 'hex')), '0a:0b:0c:0d');
});

test('invalid MACs are E_ADDRESS_INVALID', (t) => {
  // Colons only: the form Linux prints and every caller passes.
  for (const bad of ['02:d5:00:00:00', '02:d5:00:00:00:0g', '02-d5-00-00-00-01', 'zz:d5:00:00:00:01', '']) {
    t.true(
      isDsrError(
        t.throws(() => parseMac(bad)),
        'E_ADDRESS_INVALID',
      ),
      bad,
    );
  }
});
