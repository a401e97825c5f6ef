/**
 * The Raft packet codec: round trips of every message type, then fuzzing like the adverts' (random
 * bytes, random bytes behind a valid header, mutations of valid packets, signed random bodies). The
 * decoder must never throw or report 'decoder-error', never accept what it did not sign, and accept
 * a signed body only when it is the canonical encoding of a message; replays and admission refusals
 * are dropped without moving the replay state.
 */
import test from 'ava';
import fc from 'fast-check';
import { ReplayGuard } from '../../../core/auth/replay-guard.ts';
import type { DsrError } from '../../../core/errors.ts';
import { DROP_REASONS } from '../../../failover/drop-reasons.ts';
import type { Entry, RaftMessage } from '../../../failover/raft/types.ts';
import { parseRaftPacket, RAFT_STREAM, RaftDecoder } from '../../../failover/raft/wire/decode.ts';
import { encodeRaftPacket } from '../../../failover/raft/wire/encode.ts';
import { HEADER_BYTES, MAC_BYTES } from '../../../failover/raft/wire/layout.ts';
import { otherRing, ring, session, WALL0 } from '../wire-fixtures.ts';

const RUNS = 1500;
/** The election timeout every packet carries. */
const T = 50;
const u32 = fc.integer({ min: 1, max: 0xffffffff });
const small = fc.integer({ min: 0, max: 1_000_000 });
const stamp = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e12, max: 1e12 });
const data = fc.uint8Array({ maxLength: 40 });

const entriesArb = (prevIndex: number, prevTerm: number, term: number): fc.Arbitrary<Entry[]> =>
  fc.array(fc.tuple(fc.integer({ min: 0, max: 3 }), data), { maxLength: 5 }).map((steps) => {
    let t = prevTerm;
    return steps.map(([up, bytes], i) => {
      t = Math.min(term, t + up);
      return { index: prevIndex + 1 + i, term: t, data: bytes };
    });
  });

/** Any message the encoder accepts, with its receiver. */
const messageArb: fc.Arbitrary<{ message: RaftMessage; to: number }> = fc
  .tuple(u32, u32, small, small, small, fc.boolean(), stamp, data)
  .filter(([from, to]) => from !== to)
  .chain(([from, to, term, a, b, flag, s, bytes]) => {
    const lower = Math.min(a, term);
    const messages: fc.Arbitrary<RaftMessage>[] = [
      fc.constant({ type: 'pre-vote' as const, from, term, lastIndex: a, lastTerm: b }),
      fc.constant({ type: 'vote' as const, from, term, lastIndex: a, lastTerm: b, transfer: flag }),
      fc.constant({ type: 'pre-vote-response' as const, from, term, granted: flag }),
      fc.constant({ type: 'vote-response' as const, from, term, granted: flag }),
      fc.constant({ type: 'timeout-now' as const, from, term }),
      fc.constant({ type: 'append-response' as const, from, term, success: flag, index: a, stamp: s }),
      fc.constant({
        type: 'snapshot' as const,
        from,
        term,
        stamp: s,
        snapshot: { index: a, term: lower, data: bytes },
      }),
      entriesArb(a, lower, term).map((entries) => ({
        type: 'append' as const,
        from,
        term,
        prevIndex: a,
        prevTerm: lower,
        entries,
        commit: b,
        stamp: s,
      })),
    ];
    return fc.oneof(...messages).map((message) => ({ message, to }));
  });

function safeParse(bytes: Uint8Array) {
  const result = parseRaftPacket(bytes, ring);
  if (!result.ok && !(result.reason in DROP_REASONS)) throw new Error(`untyped reason ${result.reason}`);
  if (!result.ok && result.reason === 'decoder-error') throw new Error('decoder-error');
  return result;
}

const stampOf = (seq: bigint) => ({ session: 5n, seq, timestampMs: WALL0 });

test('every message type round-trips, big values and stamps exactly', (t) => {
  fc.assert(
    fc.property(messageArb, ({ message, to }) => {
      const parsed = safeParse(encodeRaftPacket(message, { to, electionTimeoutMs: T }, stampOf(1n), ring));
      const same = parsed.ok && JSON.stringify(parsed.message) === JSON.stringify(message);
      return same && parsed.to === to && parsed.electionTimeoutMs === T;
    }),
    { numRuns: RUNS },
  );
  const big = {
    type: 'append-response' as const,
    from: 1,
    term: Number.MAX_SAFE_INTEGER,
    success: true,
    index: 2 ** 52,
    stamp: 1234.56789,
  };
  t.deepEqual(
    (
      safeParse(encodeRaftPacket(big, { to: 2, electionTimeoutMs: T }, stampOf(1n), ring)) as {
        message: RaftMessage;
      }
    ).message,
    big,
  );
});

test('the encoder refuses what the decoder would drop', (t) => {
  const ok = { type: 'timeout-now' as const, from: 1, term: 1 };
  const refused = (message: RaftMessage, to = 2) =>
    t.throws<DsrError>(() => encodeRaftPacket(message, { to, electionTimeoutMs: T }, stampOf(1n), ring))
      ?.code;
  t.is(refused(ok, 1), 'E_ELECTION_INPUT', 'to itself');
  t.is(refused({ ...ok, term: -1 }), 'E_ELECTION_INPUT');
  t.is(refused({ ...ok, term: 2 ** 53 }), 'E_ELECTION_INPUT');
  t.is(
    refused({ type: 'append-response', from: 1, term: 1, success: true, index: 1, stamp: Number.NaN }),
    'E_ELECTION_INPUT',
  );
  const huge = {
    type: 'snapshot' as const,
    from: 1,
    term: 1,
    stamp: 0,
    snapshot: { index: 1, term: 1, data: new Uint8Array(70_000) },
  };
  t.is(refused(huge), 'E_ELECTION_INPUT', 'more than a datagram');
});

test('random buffers and random bytes behind a valid header: no exception, nothing accepted', (t) => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => !safeParse(bytes).ok),
    { numRuns: RUNS },
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.uint8Array({ minLength: 50, maxLength: 300 }),
      (type, rest) => {
        const bytes = Buffer.concat([Buffer.from([0xd5, 0xe2, 1, type]), Buffer.alloc(4), rest]);
        bytes.writeUInt32BE(bytes.length, 4);
        return !safeParse(bytes).ok;
      },
    ),
    { numRuns: RUNS },
  );
  t.pass();
});

test('any change to a valid packet is refused, by structure or by the MAC', (t) => {
  fc.assert(
    fc.property(messageArb, fc.nat(), fc.integer({ min: 1, max: 255 }), ({ message, to }, at, xor) => {
      const bytes = Buffer.from(encodeRaftPacket(message, { to, electionTimeoutMs: T }, stampOf(1n), ring));
      const i = at % bytes.length;
      bytes[i] = (bytes[i] as number) ^ xor;
      return !safeParse(bytes).ok;
    }),
    { numRuns: RUNS },
  );
  fc.assert(
    fc.property(messageArb, fc.integer({ min: 1, max: 40 }), ({ message, to }, cut) => {
      const bytes = encodeRaftPacket(message, { to, electionTimeoutMs: T }, stampOf(1n), ring);
      return !safeParse(bytes.subarray(0, Math.max(0, bytes.length - cut))).ok;
    }),
    { numRuns: RUNS },
  );
  t.pass();
});

test('a signed body is accepted only as the canonical encoding of a message', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.uint8Array({ minLength: 8, maxLength: 200 }),
      (type, body) => {
        const length = HEADER_BYTES - 8 + body.length + MAC_BYTES;
        const bytes = Buffer.alloc(length);
        bytes.writeUInt16BE(0xd5e2, 0);
        bytes.writeUInt8(1, 2);
        bytes.writeUInt8(type, 3);
        bytes.writeUInt32BE(length, 4);
        bytes.writeUInt8(1, 8);
        bytes.writeUInt16BE(T, 10);
        bytes.writeUInt32BE(1, 12);
        bytes.writeUInt32BE(2, 16);
        bytes.writeBigUInt64BE(5n, 20);
        bytes.writeBigUInt64BE(1n, 28);
        bytes.set(body, HEADER_BYTES - 8);
        ring.sign(bytes.subarray(0, length - MAC_BYTES)).copy(bytes, length - MAC_BYTES);
        const parsed = safeParse(bytes);
        if (!parsed.ok) return parsed.reason === 'bad-field' || parsed.reason === 'bad-length';
        return encodeRaftPacket(
          parsed.message,
          { to: parsed.to, electionTimeoutMs: T },
          stampOf(1n),
          ring,
        ).equals(bytes);
      },
    ),
    { numRuns: RUNS * 2 },
  );
  t.pass();
});

test('another key’s packet is bad-mac; a replay, an admission refusal and a stale session are dropped without moving the guard', (t) => {
  const message: RaftMessage = { type: 'vote', from: 1, term: 3, lastIndex: 2, lastTerm: 2, transfer: false };
  const foreign = encodeRaftPacket(message, { to: 2, electionTimeoutMs: T }, stampOf(1n), otherRing);
  t.like(parseRaftPacket(foreign, ring), { ok: false, reason: 'bad-mac' });

  const guard = new ReplayGuard();
  const decoder = new RaftDecoder(ring, guard);
  const sender = session();
  const now = { mono: 0, wall: WALL0 };
  const admitTo2 = (_: RaftMessage, to: number) => (to === 2 ? null : ('not-for-us' as const));
  const first = encodeRaftPacket(message, { to: 3, electionTimeoutMs: T }, sender.next(0), ring);
  t.like(decoder.decode(first, now, admitTo2), { ok: false, reason: 'not-for-us', from: 1 });
  t.deepEqual(guard.seeds(RAFT_STREAM), [], 'a refused packet leaves no replay state');
  const second = encodeRaftPacket(message, { to: 2, electionTimeoutMs: T }, sender.next(1), ring);
  t.like(decoder.decode(second, now, admitTo2), { ok: true });
  t.like(decoder.decode(second, now, admitTo2), { ok: false, reason: 'replay', from: 1 });
});
