import test from 'ava';
import fc from 'fast-check';
import { Keyring } from '../../core/auth/keyring.ts';
import { ReplayGuard } from '../../core/auth/replay-guard.ts';
import { isDsrError } from '../../core/errors.ts';
import { ElectionDecoder, parseElectionPacket } from '../../failover/wire/decode.ts';
import { ElectionEncoder, encodeElectionPacket } from '../../failover/wire/encode.ts';
import { MAC_OFFSET, OFF, PACKET_BYTES } from '../../failover/wire/layout.ts';
import { advert, keyA, keyB, messageArb, otherRing, ring, session, WALL0 } from './wire-fixtures.ts';

const stamp = { session: 77n, seq: 5n, timestampMs: WALL0 };

test('round trip: every valid message decodes to itself with its auth fields', (t) => {
  fc.assert(
    fc.property(messageArb, fc.bigInt({ min: 1n, max: (1n << 64n) - 1n }), (message, seq) => {
      const buf = encodeElectionPacket(message, { session: 9n, seq, timestampMs: WALL0 }, ring);
      const result = parseElectionPacket(buf, ring);
      if (!result.ok) return false;
      t.deepEqual(result.message, message);
      t.deepEqual(result.auth, { keyId: 1, alsoAccepts: 0, session: 9n, seq, timestampMs: WALL0 });
      return buf.length === PACKET_BYTES;
    }),
    { numRuns: 300 },
  );
});

test('the layout is what the documentation says', (t) => {
  const buf = encodeElectionPacket(advert({ from: 0x01020304, groupId: 0x0a0b, priority: 99 }), stamp, ring);
  t.is(buf.toString('hex', 0, 8), 'd5e1010100640101');
  t.is(buf.readUInt16BE(OFF.groupId), 0x0a0b);
  t.is(buf.readUInt16BE(OFF.interval), 100);
  t.is(buf.readUInt32BE(OFF.from), 0x01020304);
  t.is(buf.readBigUInt64BE(OFF.session), 77n);
  t.is(buf.readBigUInt64BE(OFF.seq), 5n);
  t.is(buf.readUInt8(OFF.priority), 99);
  t.is(buf.readUInt8(OFF.state), 3);
  t.is(buf.subarray(MAC_OFFSET).length, 32);
});

test('typed drop reasons for structural faults', (t) => {
  const good = encodeElectionPacket(advert(), stamp, ring);
  const reason = (b: Uint8Array) => {
    const r = parseElectionPacket(b, ring);
    return r.ok ? 'ok' : r.reason;
  };
  const mutate = (offset: number, value: number) => {
    const b = Buffer.from(good);
    b[offset] = value;
    return b;
  };
  t.is(reason(good), 'ok');
  t.is(reason(good.subarray(0, 5)), 'too-short');
  t.is(reason(Buffer.alloc(0)), 'too-short');
  t.is(reason(mutate(0, 0)), 'bad-magic');
  t.is(reason(mutate(2, 2)), 'bad-version');
  t.is(reason(mutate(3, 9)), 'bad-type');
  t.is(reason(good.subarray(0, 99)), 'bad-length');
  t.is(reason(Buffer.concat([good, Buffer.alloc(1)])), 'bad-length');
  t.is(reason(mutate(5, 101)), 'bad-length');
  t.is(reason(mutate(OFF.keyId, 2)), 'unknown-key');
  t.is(reason(mutate(OFF.priority, 1)), 'bad-mac');
  t.is(reason(mutate(99, good[99] ^ 1)), 'bad-mac');
  t.is(reason(encodeElectionPacket(advert(), stamp, otherRing)), 'bad-mac', 'forged with another key');
});

test('authenticated but out-of-range fields are bad-field, with the sender named', (t) => {
  const body = encodeElectionPacket(advert({ from: 42 }), stamp, ring);
  const resign = (edit: (b: Buffer) => void) => {
    const b = Buffer.from(body);
    edit(b);
    ring.sign(b.subarray(0, MAC_OFFSET)).copy(b, MAC_OFFSET);
    return parseElectionPacket(b, ring);
  };
  const cases: [string, (b: Buffer) => void][] = [
    ['priority 255', (b) => b.writeUInt8(255, OFF.priority)],
    ['state 1 (initialize)', (b) => b.writeUInt8(1, OFF.state)],
    ['state 9', (b) => b.writeUInt8(9, OFF.state)],
    ['unknown flag', (b) => b.writeUInt8(0x80, OFF.flags)],
    ['interval 0', (b) => b.writeUInt16BE(0, OFF.interval)],
    ['group 0', (b) => b.writeUInt16BE(0, OFF.groupId)],
    ['seq 0', (b) => b.writeBigUInt64BE(0n, OFF.seq)],
    ['session 0', (b) => b.writeBigUInt64BE(0n, OFF.session)],
    ['timestamp 2^63', (b) => b.writeBigUInt64BE(1n << 63n, OFF.timestamp)],
    ['advert with target', (b) => b.writeUInt32BE(3, OFF.to)],
    ['advert naming the key it is signed with as its second one', (b) => b.writeUInt8(1, OFF.alsoAccepts)],
    ['request without target', (b) => b.writeUInt8(2, OFF.type)],
  ];
  for (const [name, edit] of cases) {
    const r = resign(edit);
    t.false(r.ok, name);
    t.like(r, { reason: 'bad-field', from: 42 }, name);
  }
  const from0 = resign((b) => b.writeUInt32BE(0, OFF.from));
  t.false(from0.ok);
  t.is(!from0.ok && from0.reason, 'bad-field');
});

test('an advert carries its phase in the interval; other messages must not', (t) => {
  const buf = encodeElectionPacket(advert({ phase: 128 }), stamp, ring);
  t.is(buf.readUInt8(OFF.phase), 128);
  const r = parseElectionPacket(buf, ring);
  t.true(r.ok && r.message.kind === 'advert' && r.message.phase === 128);
  const first = parseElectionPacket(encodeElectionPacket(advert(), stamp, ring), ring);
  t.true(first.ok && !('phase' in first.message), 'phase 0 (the interval start) is left out');
  const request = encodeElectionPacket(
    { ...advert(), kind: 'handover-request', to: 9, token: 5 },
    stamp,
    ring,
  );
  request.writeUInt8(1, OFF.phase);
  ring.sign(request.subarray(0, MAC_OFFSET)).copy(request, MAC_OFFSET);
  t.like(parseElectionPacket(request, ring), { ok: false, reason: 'bad-field' });
  t.true(
    isDsrError(
      t.throws(() => encodeElectionPacket(advert({ phase: 256 }), stamp, ring)),
      'E_ELECTION_INPUT',
    ),
  );
});

test('encoder refuses messages the decoder would drop', (t) => {
  const bad = [
    advert({ priority: 255 }),
    advert({ groupId: 0 }),
    advert({ from: 0 }),
    advert({ intervalMs: 70_000 }),
    advert({ fingerprint: new Uint8Array(15) }),
  ];
  for (const m of bad) {
    t.true(
      isDsrError(
        t.throws(() => encodeElectionPacket(m, stamp, ring)),
        'E_ELECTION_INPUT',
      ),
    );
  }
});

test('decoder: replayed packet dropped as replay, new session accepted after restart', (t) => {
  const decoder = new ElectionDecoder(ring, new ReplayGuard());
  const encoder = new ElectionEncoder(ring, session());
  const now = { mono: 10, wall: WALL0 + 10 };
  const p1 = encoder.encode(advert(), 10);
  const p2 = encoder.encode(advert(), 20);
  t.true(decoder.decode(p1, now).ok);
  t.true(decoder.decode(p2, now).ok);
  t.deepEqual(decoder.decode(p1, now), { ok: false, reason: 'replay', from: 1, groupId: 1 });
  const restarted = new ElectionEncoder(ring, session(WALL0 + 5000, 2));
  t.true(decoder.decode(restarted.encode(advert(), 5000), { mono: 5000, wall: WALL0 + 5000 }).ok);
  t.deepEqual(decoder.decode(p2, now), { ok: false, reason: 'replay', from: 1, groupId: 1 });
});

test('decoder: a forged packet does not move the replay window', (t) => {
  const decoder = new ElectionDecoder(ring, new ReplayGuard());
  const honest = new ElectionEncoder(ring, session());
  const forger = new ElectionEncoder(otherRing, session(WALL0 + 1e6, 3));
  const now = { mono: 0, wall: WALL0 };
  t.is((decoder.decode(forger.encode(advert(), 0), now) as { reason: string }).reason, 'bad-mac');
  t.true(decoder.decode(honest.encode(advert(), 0), now).ok, 'lower session still accepted');
});

test('key rotation through the codec', (t) => {
  const both = new Keyring(
    [
      { id: 1, secret: keyA },
      { id: 2, secret: keyB },
    ],
    2,
  );
  const newOnly = new Keyring([{ id: 2, secret: keyB }], 2);
  t.true(parseElectionPacket(encodeElectionPacket(advert(), stamp, ring), both).ok);
  t.true(parseElectionPacket(encodeElectionPacket(advert(), stamp, both), newOnly).ok);
  const r = parseElectionPacket(encodeElectionPacket(advert(), stamp, ring), newOnly);
  t.is(!r.ok && r.reason, 'unknown-key');
  // An advert names the second key its sender accepts: peers see when every director holds the
  // new key (only then is it safe to sign with it) and when every one signs with it.
  const fromBoth = parseElectionPacket(encodeElectionPacket(advert(), stamp, both), both);
  t.like(fromBoth, { ok: true, auth: { keyId: 2, alsoAccepts: 1 } });
  const fromOne = parseElectionPacket(encodeElectionPacket(advert(), stamp, newOnly), both);
  t.like(fromOne, { ok: true, auth: { keyId: 2, alsoAccepts: 0 } });
});

test('a decoder takes new keys in place: the replay window carries on', (t) => {
  const both = new Keyring(
    [
      { id: 1, secret: keyA },
      { id: 2, secret: keyB },
    ],
    2,
  );
  const decoder = new ElectionDecoder(ring, new ReplayGuard());
  const encoder = new ElectionEncoder(ring, session());
  const now = { mono: 0, wall: WALL0 };
  const first = encoder.encode(advert(), 0);
  t.true(decoder.decode(first, now).ok);
  encoder.setKeyring(both);
  const signedWithNew = encoder.encode(advert(), 1);
  t.like(decoder.decode(signedWithNew, now), { ok: false, reason: 'unknown-key' });
  decoder.setKeyring(both);
  t.true(decoder.decode(encoder.encode(advert(), 2), now).ok, 'the new key is accepted');
  t.like(decoder.decode(first, now), { ok: false, reason: 'replay' }, 'the old window is kept');
});
