import test from 'ava';
import fc from 'fast-check';
import { isDsrError } from '../../core/errors.ts';
import { decodeResponse, encodeName, encodeQuery, readName } from '../../health/checkers/dns-message.ts';

test('encodeQuery: header and question per RFC 1035 4.1', (t) => {
  const q = encodeQuery({ id: 0x1234, name: 'www.Lab.test.', qtype: 28, recursion: true });
  t.deepEqual(
    q,
    Buffer.concat([
      Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]),
      Buffer.from('\x03www\x03Lab\x04test\x00', 'latin1'),
      Buffer.from([0, 28, 0, 1]),
    ]),
  );
});

test('encodeName: root, label and name limits', (t) => {
  t.deepEqual(encodeName('.'), Buffer.from([0]));
  t.notThrows(() => encodeName('a'.repeat(63)));
  t.throws(() => encodeName('a'.repeat(64)));
  t.throws(() => encodeName('a..b'));
  t.throws(() => encodeName('sp ace.test'));
  const long = Array.from({ length: 5 }, () => 'a'.repeat(63)).join('.');
  t.throws(() => encodeName(long));
});

test('readName: follows a backward pointer, rejects a forward or self pointer', (t) => {
  const buf = Buffer.from('\x03abc\x00\x03www\xc0\x00\xc0\x0b', 'latin1');
  t.deepEqual(readName(buf, 5), { name: 'www.abc', next: 11 });
  t.throws(() => readName(buf, 11), { message: /backwards/ }); // points at itself
  t.throws(() => readName(Buffer.from([0xc0, 0x05, 0, 0, 0, 0]), 0), { message: /backwards/ });
});

test('decodeResponse: round trip of our own query as a response header', (t) => {
  const q = encodeQuery({ id: 7, name: 'x.test', qtype: 1, recursion: false });
  q.writeUInt16BE(0x8183, 2); // QR, RD, RA, NXDOMAIN
  const r = decodeResponse(q);
  t.like(r, {
    id: 7,
    qr: true,
    rd: true,
    ra: true,
    rcode: 3,
    questions: [{ name: 'x.test', type: 1, class: 1 }],
  });
  t.deepEqual(r.answers, []);
});

test('decodeResponse: any byte string decodes or fails with E_DECODE, never another error', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      try {
        decodeResponse(Buffer.from(bytes));
      } catch (err) {
        if (!isDsrError(err, 'E_DECODE')) throw err;
      }
    }),
    { numRuns: 2000 },
  );
  t.pass();
});

test('decodeResponse: mutations of a valid response decode or fail with E_DECODE', (t) => {
  const base = Buffer.concat([
    Buffer.from([0, 1, 0x84, 0, 0, 1, 0, 2, 0, 0, 0, 0]),
    Buffer.from('\x03www\x04test\x00', 'latin1'),
    Buffer.from([0, 5, 0, 1]),
    Buffer.from([0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 12]),
    Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 0, 1]),
  ]);
  t.deepEqual(
    decodeResponse(base).answers.map((a) => a.data),
    ['www.test', '198.18.0.1'],
  );
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.nat(base.length - 1), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      (edits) => {
        const buf = Buffer.from(base);
        for (const [i, v] of edits) buf[i] = v;
        try {
          decodeResponse(buf);
        } catch (err) {
          if (!isDsrError(err, 'E_DECODE')) throw err;
        }
      },
    ),
    { numRuns: 2000 },
  );
});

test('decodeResponse: A and AAAA answers read as canonical text (RFC 5952 for IPv6)', (t) => {
  const aaaa = Buffer.from('20010002000000000000000000000100', 'hex');
  const res = Buffer.concat([
    Buffer.from([0, 1, 0x84, 0, 0, 1, 0, 2, 0, 0, 0, 0]),
    Buffer.from('\x03www\x04test\x00', 'latin1'),
    Buffer.from([0, 28, 0, 1]),
    Buffer.from([0xc0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16]),
    aaaa,
    Buffer.from([0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 18, 0, 1]),
  ]);
  t.deepEqual(
    decodeResponse(res).answers.map((a) => a.data),
    ['2001:2::100', '198.18.0.1'],
  );
});
