import { inspect } from 'node:util';
import test from 'ava';
import fc from 'fast-check';
import { Keyring } from '../../core/auth/keyring.ts';
import { isDsrError } from '../../core/errors.ts';

const secretA = Buffer.alloc(32, 0xa1);
const secretB = Buffer.alloc(40, 0xb2);

test('sign then verify succeeds; any change to data or tag fails', (t) => {
  const ring = new Keyring([{ id: 1, secret: secretA }], 1);
  const data = Buffer.from('advert body');
  const mac = ring.sign(data);
  t.is(mac.length, 32);
  t.is(ring.verify(1, data, mac), 'ok');
  t.is(ring.verify(1, Buffer.from('advert bodY'), mac), 'bad-mac');
  const flipped = Buffer.from(mac);
  flipped[31] ^= 1;
  t.is(ring.verify(1, data, flipped), 'bad-mac');
  t.is(ring.verify(1, data, mac.subarray(0, 31)), 'bad-mac');
  t.is(ring.verify(2, data, mac), 'unknown-key');
});

test('rotation: two keys accepted at once, only the send key signs', (t) => {
  const oldRing = new Keyring([{ id: 1, secret: secretA }], 1);
  const both = new Keyring(
    [
      { id: 1, secret: secretA },
      { id: 2, secret: secretB },
    ],
    2,
  );
  const newRing = new Keyring([{ id: 2, secret: secretB }], 2);
  const data = Buffer.from('x');
  t.is(both.verify(1, data, oldRing.sign(data)), 'ok');
  t.is(both.verify(2, data, newRing.sign(data)), 'ok');
  t.is(newRing.verify(2, data, both.sign(data)), 'ok');
  t.is(newRing.verify(1, data, oldRing.sign(data)), 'unknown-key');
  t.is(both.sendKeyId, 2);
  t.deepEqual(both.keyIds, [1, 2]);
});

test('invalid keyrings fail with E_AUTH_KEY', (t) => {
  const bad = [
    () => new Keyring([], 1),
    () => new Keyring([{ id: 1, secret: Buffer.alloc(31) }], 1),
    () => new Keyring([{ id: 0, secret: secretA }], 0),
    () => new Keyring([{ id: 256, secret: secretA }], 256),
    () =>
      new Keyring(
        [
          { id: 1, secret: secretA },
          { id: 1, secret: secretB },
        ],
        1,
      ),
    () =>
      new Keyring(
        [
          { id: 1, secret: secretA },
          { id: 2, secret: secretB },
          { id: 3, secret: secretB },
        ],
        1,
      ),
    () => new Keyring([{ id: 1, secret: secretA }], 2),
  ];
  for (const make of bad) {
    const error = t.throws(make);
    t.true(isDsrError(error, 'E_AUTH_KEY'), String(error));
  }
});

test('secrets never appear in JSON, inspect or errors', (t) => {
  const marker = Buffer.from('THIS-IS-THE-SECRET-KEY-MATERIAL!');
  const ring = new Keyring([{ id: 7, secret: marker }], 7);
  const hex = marker.toString('hex');
  for (const text of [
    JSON.stringify(ring),
    JSON.stringify({ ring }),
    inspect(ring, { showHidden: true, depth: 9 }),
  ]) {
    t.false(text.includes('THIS-IS'), text);
    t.false(text.includes(hex), text);
    t.false(text.includes(marker.toString('base64')), text);
  }
  t.deepEqual(JSON.parse(JSON.stringify(ring)), { keyIds: [7], sendKeyId: 7, secrets: '[redacted]' });
});

test('the keyring copies secrets: the caller zeroing its buffer changes nothing', (t) => {
  const secret = Buffer.alloc(32, 9);
  const ring = new Keyring([{ id: 1, secret }], 1);
  const mac = ring.sign(Buffer.from('m'));
  secret.fill(0);
  t.is(ring.verify(1, Buffer.from('m'), mac), 'ok');
});

test('derived keyrings separate protocols and are deterministic', (t) => {
  const ring = new Keyring([{ id: 3, secret: secretA }], 3);
  const election = ring.derive('dsr-election-v1');
  const sync = ring.derive('dsr-sync-v1');
  const data = Buffer.from('same bytes');
  t.is(ring.derive('dsr-election-v1').verify(3, data, election.sign(data)), 'ok');
  t.is(sync.verify(3, data, election.sign(data)), 'bad-mac');
  t.is(ring.verify(3, data, election.sign(data)), 'bad-mac');
});

test('property: a tag verifies only for its own data', (t) => {
  const ring = new Keyring([{ id: 1, secret: secretA }], 1);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }), (a, b) => {
      const mac = ring.sign(a);
      const same = Buffer.compare(Buffer.from(a), Buffer.from(b)) === 0;
      return (ring.verify(1, b, mac) === 'ok') === same;
    }),
    { numRuns: 300 },
  );
  t.pass();
});
