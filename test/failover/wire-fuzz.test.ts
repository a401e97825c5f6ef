/**
 * Fuzzing the election decoder: random bytes, random bytes behind a valid header, mutations of
 * valid packets, and validly signed random bodies. The decoder must never throw, never report
 * 'decoder-error', never accept anything it did not sign, and accept a signed body only if it is the
 * canonical encoding of a message.
 */
import test from 'ava';
import fc from 'fast-check';
import { ReplayGuard } from '../../core/auth/replay-guard.ts';
import { DROP_REASONS } from '../../failover/drop-reasons.ts';
import { ElectionDecoder, parseElectionPacket } from '../../failover/wire/decode.ts';
import { encodeElectionPacket } from '../../failover/wire/encode.ts';
import { MAC_OFFSET, PACKET_BYTES } from '../../failover/wire/layout.ts';
import { messageArb, ring, WALL0 } from './wire-fixtures.ts';

const RUNS = 2000;

function safeParse(buf: Uint8Array) {
  const result = parseElectionPacket(buf, ring);
  if (!result.ok && !(result.reason in DROP_REASONS)) throw new Error(`untyped reason ${result.reason}`);
  if (!result.ok && result.reason === 'decoder-error') throw new Error('decoder-error');
  return result;
}

test('random buffers: no exception, nothing accepted', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => !safeParse(bytes).ok),
    { numRuns: RUNS },
  );
  t.pass();
});

test('random bytes behind a valid header: no exception, nothing accepted', (t) => {
  const header = Buffer.from('d5e10101', 'hex');
  fc.assert(
    fc.property(
      fc.constantFrom(1, 2, 3),
      fc.uint8Array({ minLength: PACKET_BYTES - 6, maxLength: PACKET_BYTES - 6 }),
      fc.boolean(),
      (type, rest, keyOne) => {
        const buf = Buffer.concat([header, Buffer.from([0, PACKET_BYTES]), rest]);
        buf[3] = type;
        if (keyOne) buf[6] = 1;
        const r = safeParse(buf);
        return !r.ok && (r.reason === 'bad-mac' || r.reason === 'unknown-key');
      },
    ),
    { numRuns: RUNS },
  );
  t.pass();
});

const mutationArb = fc.oneof(
  fc.record({
    op: fc.constant('flip' as const),
    at: fc.nat(PACKET_BYTES - 1),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({ op: fc.constant('set' as const), at: fc.nat(PACKET_BYTES - 1), value: fc.nat(255) }),
  fc.record({ op: fc.constant('truncate' as const), length: fc.nat(PACKET_BYTES - 1) }),
  fc.record({ op: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
  fc.record({ op: fc.constant('swap' as const), a: fc.nat(PACKET_BYTES - 1), b: fc.nat(PACKET_BYTES - 1) }),
);
type Mutation = typeof mutationArb extends fc.Arbitrary<infer M> ? M : never;

function apply(buf: Buffer, m: Mutation): Buffer {
  switch (m.op) {
    case 'flip': {
      const b = Buffer.from(buf);
      b[m.at] ^= 1 << m.bit;
      return b;
    }
    case 'set': {
      const b = Buffer.from(buf);
      b[m.at] = m.value;
      return b;
    }
    case 'truncate':
      return Buffer.from(buf.subarray(0, m.length));
    case 'append':
      return Buffer.concat([buf, m.bytes]);
    case 'swap': {
      const b = Buffer.from(buf);
      [b[m.a], b[m.b]] = [b[m.b], b[m.a]];
      return b;
    }
  }
}

test('mutations of valid packets: no exception, never accepted unless the bytes are unchanged', (t) => {
  fc.assert(
    fc.property(messageArb, fc.array(mutationArb, { minLength: 1, maxLength: 4 }), (message, mutations) => {
      const good = encodeElectionPacket(message, { session: 3n, seq: 8n, timestampMs: WALL0 }, ring);
      const bad = mutations.reduce(apply, good);
      const r = safeParse(bad);
      return r.ok === bad.equals(good);
    }),
    { numRuns: RUNS },
  );
  t.pass();
});

test('validly signed random bodies: accepted only when canonical, else bad-field or a header reason', (t) => {
  fc.assert(
    fc.property(
      fc.uint8Array({ minLength: MAC_OFFSET, maxLength: MAC_OFFSET }),
      fc.constantFrom(1, 2, 3),
      (body, type) => {
        const buf = Buffer.alloc(PACKET_BYTES);
        buf.set(body);
        buf.write('d5e101', 0, 'hex');
        buf[3] = type;
        buf.writeUInt16BE(PACKET_BYTES, 4);
        buf[6] = 1;
        ring.sign(buf.subarray(0, MAC_OFFSET)).copy(buf, MAC_OFFSET);
        const r = safeParse(buf);
        if (!r.ok) return r.reason === 'bad-field';
        // Accepted: re-encoding the decoded message must give back exactly these bytes.
        const again = encodeElectionPacket(r.message, { ...r.auth }, ring);
        return again.equals(buf);
      },
    ),
    { numRuns: RUNS },
  );
  t.pass();
});

test('full decoder with replay guard under random input: no exception', (t) => {
  const decoder = new ElectionDecoder(ring, new ReplayGuard());
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.integer(), (bytes, mono) => {
      const r = decoder.decode(bytes, { mono, wall: WALL0 + mono });
      return !r.ok && r.reason !== 'decoder-error';
    }),
    { numRuns: RUNS },
  );
  t.pass();
});
