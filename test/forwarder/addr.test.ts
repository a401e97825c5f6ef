/** Address parsing and canonical text (RFC 5952), which Maglev keys depend on across directors. */
import test from 'ava';
import fc from 'fast-check';
import { isDsrError } from '../../core/errors.ts';
import {
  canonicalIp,
  formatIp,
  formatMac,
  maskBytes,
  parseIp,
  parseMac,
  prefixMask,
} from '../../forwarder/addr.ts';

test('IPv4 and IPv6 parse to 16 network-order bytes', (t) => {
  t.deepEqual([...parseIp('198.18.0.200').bytes], [198, 18, 0, 200, ...new Array(12).fill(0)]);
  t.is(parseIp('198.18.0.200').family, 4);
  const v6 = parseIp('2001:2::200');
  t.is(v6.family, 6);
  t.deepEqual([...v6.bytes], [0x20, 0x01, 0, 2, ...new Array(10).fill(0), 2, 0]);
  t.deepEqual([...parseIp('::ffff:198.18.0.1').bytes.subarray(10)], [0xff, 0xff, 198, 18, 0, 1]);
});

test('IPv6 text is canonical (RFC 5952 section 4)', (t) => {
  const cases: Array<[string, string]> = [
    ['2001:0002:0000:0000:0000:0000:0000:0200', '2001:2::200'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // leftmost of equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single 0 group stays
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['2001:db8:0:0:1:0:0:0', '2001:db8:0:0:1::'], // the longest run wins
  ];
  for (const [input, want] of cases) t.is(canonicalIp(input), want, input);
});

test('formatting and parsing round-trip for any address', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
      const text = formatIp({ family: 6, bytes });
      t.deepEqual(parseIp(text).bytes, bytes);
    }),
  );
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (b4) => {
      const bytes = new Uint8Array(16);
      bytes.set(b4);
      t.deepEqual(parseIp(formatIp({ family: 4, bytes })).bytes, bytes);
    }),
  );
});

test('invalid addresses are a clear error', (t) => {
  for (const bad of ['', '198.18.0.256', '1:2:3', 'fe80::1%eth0', '198.18.0.0/24', 'example.org']) {
    const e = t.throws(() => parseIp(bad), undefined, bad);
    t.true(isDsrError(e, 'E_ADDRESS_INVALID'));
  }
  for (const bad of ['02:d5:00:00:00', '02-d5-00-00-00-01', 'zz:d5:00:00:00:01']) {
    t.true(
      isDsrError(
        t.throws(() => parseMac(bad)),
        'E_ADDRESS_INVALID',
      ),
    );
  }
  t.true(
    isDsrError(
      t.throws(() => prefixMask(4, 33)),
      'E_ADDRESS_INVALID',
    ),
  );
});

test('MACs and masks', (t) => {
  t.is(formatMac(parseMac('02:D5:00:00:0A:01')), '02:d5:00:00:0a:01');
  t.deepEqual([...prefixMask(4, 20).subarray(0, 4)], [255, 255, 0xf0, 0]);
  t.deepEqual([...prefixMask(6, 64)], [...new Array(8).fill(255), ...new Array(8).fill(0)]);
  t.is(
    formatIp({ family: 4, bytes: maskBytes(parseIp('198.18.77.9').bytes, prefixMask(4, 24)) }),
    '198.18.77.0',
  );
});
