import test from 'ava';
import fc from 'fast-check';
import { isDsrError } from '../../core/errors.ts';
import { canonicalIp, formatIp, formatMac, parseIp, parseMac } from '../../core/kernel/inet.ts';

test('IPv4 parse and format', (t) => {
  t.deepEqual(parseIp('198.18.0.200'), { family: 4, bytes: Buffer.from([198, 18, 0, 200]) });
  t.is(formatIp(Buffer.from([0, 0, 0, 0])), '0.0.0.0');
  for (const bad of [
    '198.18.0',
    '198.18.0.256',
    '198.018.0.1',
    '1.2.3.4.5',
    '',
    '1..2.3',
    ' 1.2.3.4',
    '+1.2.3.4',
  ]) {
    const err = t.throws(() => parseIp(bad));
    t.true(isDsrError(err, 'E_DECODE'), bad);
  }
});

test('IPv6 parse: compressed, full, embedded IPv4', (t) => {
  t.is(parseIp('2001:2::200').bytes.toString('hex'), '20010002000000000000000000000200');
  t.is(parseIp('::').bytes.toString('hex'), '0'.repeat(32));
  t.is(parseIp('::1').bytes.toString('hex'), `${'0'.repeat(31)}1`);
  t.is(parseIp('fe80::').bytes.toString('hex'), `fe80${'0'.repeat(28)}`);
  t.is(parseIp('::ffff:198.18.0.1').bytes.toString('hex'), '00000000000000000000ffffc6120001');
  t.is(parseIp('2001:2:0:0:0:0:0:1').bytes.toString('hex'), '20010002000000000000000000000001');
  for (const bad of [
    '2001:2:::1',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '12345::',
    'g::',
    ':1::',
    '1::2:',
    '1.2.3.4::',
    '::1.2.3',
  ]) {
    const err = t.throws(() => parseIp(bad));
    t.true(isDsrError(err, 'E_DECODE'), bad);
  }
  // "::" stands for at least one group: eight groups around it is too many.
  t.throws(() => parseIp('1:2:3:4::5:6:7:8'));
});

test('IPv6 format follows RFC 5952 §4', (t) => {
  t.is(canonicalIp('2001:0002:0000:0000:0000:0000:0000:0200'), '2001:2::200');
  t.is(canonicalIp('2001:db8:0:1:1:1:1:1'), '2001:db8:0:1:1:1:1:1'); // one zero group is not shortened
  t.is(canonicalIp('2001:0:0:1:0:0:0:1'), '2001:0:0:1::1'); // the longest run
  t.is(canonicalIp('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1'); // the first on a tie
  t.is(canonicalIp('FE80::ABCD'), 'fe80::abcd');
  t.throws(() => formatIp(Buffer.alloc(5)));
});

test('IPv6 text round-trips and agrees with the WHATWG URL host serializer', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
      const text = formatIp(bytes);
      const back = parseIp(text).bytes;
      const viaUrl = new URL(`http://[${text}]/`).hostname.slice(1, -1);
      // URL serializes v4-mapped addresses as hex too, so the two canonical forms must match.
      return back.equals(Buffer.from(bytes)) && viaUrl === text;
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test('MAC parse and format', (t) => {
  t.deepEqual(parseMac('02:D5:00:00:00:01'), Buffer.from('02d500000001', 'hex'));
  t.is(formatMac(parseMac('02-d5-00-00-00-01')), '02:d5:00:00:00:01');
  t.throws(() => parseMac('02:d5:00:00:00'));
  t.throws(() => parseMac('02:d5:00:00:00:0g'));
});
