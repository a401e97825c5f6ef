/**
 * Address parsing and canonical text (RFC 5952), which config fingerprints, duplicate checks and
 * Maglev keys across directors depend on.
 */
import { isIPv4, isIPv6 } from 'node:net';
import test from 'ava';
import fc from 'fast-check';
import { isDsrError } from '../../../core/errors.ts';
import { canonicalIp, formatIp, ipFamily, parseIp } from '../../../core/net/ip.ts';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

test('IPv4 parse and format', (t) => {
  t.deepEqual(parseIp('198.18.0.200'), { family: 4, bytes: Buffer.from([198, 18, 0, 200]) });
  t.is(formatIp(Buffer.from([0, 0, 0, 0])), '0.0.0.0');
  t.is(canonicalIp('198.18.0.1'), '198.18.0.1');
});

test('IPv6 parse: compressed, full, embedded IPv4', (t) => {
  t.is(hex(parseIp('2001:2::200').bytes), '20010002000000000000000000000200');
  t.is(parseIp('2001:2::200').family, 6);
  t.is(hex(parseIp('::').bytes), '0'.repeat(32));
  t.is(hex(parseIp('::1').bytes), `${'0'.repeat(31)}1`);
  t.is(hex(parseIp('fe80::').bytes), `fe80${'0'.repeat(28)}`);
  t.is(hex(parseIp('::ffff:198.18.0.1').bytes), '00000000000000000000ffffc6120001');
  t.is(hex(parseIp('2001:2:0:0:0:0:0:1').bytes), '20010002000000000000000000000001');
  // "::" stands for at least one group: eight groups around it is too many.
  t.throws(() => parseIp('1:2:3:4::5:6:7:8'));
});

test('invalid addresses are E_ADDRESS_INVALID, and ipFamily says null', (t) => {
  for (const bad of [
    // IPv4
    '198.18.0',
    '198.18.0.256',
    '198.018.0.1',
    '198.18.0.01',
    '1.2.3.4.5',
    '',
    '1..2.3',
    ' 1.2.3.4',
    '+1.2.3.4',
    // IPv6
    '2001:2:::1',
    '1:2:3:4:5:6:7:8:9',
    '1:2:3:4:5:6:7',
    '1:2:3',
    '12345::',
    'g::',
    ':1::',
    '1::2:',
    '1.2.3.4::',
    '::1.2.3',
    // a zone id, a prefix, a name
    'fe80::1%eth0',
    '198.18.0.0/24',
    'example.org',
    'lb1',
  ]) {
    const err = t.throws(() => parseIp(bad), undefined, bad);
    t.true(isDsrError(err, 'E_ADDRESS_INVALID'), bad);
    t.is(ipFamily(bad), null, bad);
  }
  t.is(ipFamily('198.18.0.1'), 4);
  t.is(ipFamily('2001:2::1'), 6);
});

test('IPv6 format follows RFC 5952 §4', (t) => {
  const cases: Array<[string, string]> = [
    ['2001:0002:0000:0000:0000:0000:0000:0200', '2001:2::200'],
    ['2001:0002:0000:0000:0000:0000:0000:0010', '2001:2::10'],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // one zero group is not shortened
    ['2001:0:0:1:0:0:0:1', '2001:0:0:1::1'], // the longest run
    ['2001:2:0:1:0:0:0:1', '2001:2:0:1::1'],
    ['2001:db8:0:0:1:0:0:0', '2001:db8:0:0:1::'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // the first on a tie
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['FE80::ABCD', 'fe80::abcd'], // lower case
    ['2001:2::A:b', '2001:2::a:b'],
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['1:0:0:0:0:0:0:0', '1::'],
    ['::ffff:198.18.0.1', '::ffff:c612:1'], // v4-mapped stays hex, as the URL serializer writes it
  ];
  for (const [input, want] of cases) t.is(canonicalIp(input), want, input);
  const err = t.throws(() => formatIp(Buffer.alloc(5)));
  t.true(isDsrError(err, 'E_ADDRESS_INVALID'));
});

test('IPv6 text round-trips and agrees with the WHATWG URL host serializer', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (bytes) => {
      const text = formatIp(bytes);
      const back = parseIp(text).bytes;
      const viaUrl = new URL(`http://[${text}]/`).hostname.slice(1, -1);
      return back.equals(Buffer.from(bytes)) && viaUrl === text;
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test('IPv4 text round-trips', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 4, maxLength: 4 }), (bytes) =>
      parseIp(formatIp(bytes)).bytes.equals(Buffer.from(bytes)),
    ),
  );
  t.pass();
});

test('any full spelling (leading zeros, either case) has the canonical text of its bytes', (t) => {
  const spelling = fc.record({
    bytes: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    upper: fc.boolean(),
  });
  fc.assert(
    fc.property(spelling, ({ bytes, upper }) => {
      const groups = Buffer.from(bytes).toString('hex').match(/.{4}/g) ?? [];
      const text = groups.join(':');
      return canonicalIp(upper ? text.toUpperCase() : text) === formatIp(bytes);
    }),
  );
  t.pass();
});

/** What the parts accepted before core/net: node:net's forms without a zone id. */
const nodeFamily = (s: string): 4 | 6 | null => (isIPv4(s) ? 4 : isIPv6(s) && !s.includes('%') ? 6 : null);

test('any text: accepted exactly when node:net accepts it (without a zone id), with its family', (t) => {
  const piece = fc.oneof(
    fc.constantFrom(
      '::',
      ':',
      '.',
      '%',
      '%eth0',
      ' ',
      '0',
      '00',
      '01',
      '255',
      '256',
      'ffff',
      'FFFF',
      '12345',
    ),
    fc.constantFrom('g', '1.2.3.4', '198.18.0.1', '0:0', 'fe80', '::ffff:'),
    fc.string({ unit: fc.constantFrom(...'0123456789abcdefABCDEF'), minLength: 1, maxLength: 5 }),
    fc.integer({ min: 0, max: 300 }).map(String),
  );
  const text = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(''));
  fc.assert(
    fc.property(text, (s) => ipFamily(s) === nodeFamily(s)),
    { numRuns: 20_000 },
  );
  t.pass();
});
