/**
 * Fuzzing the netlink decoders: arbitrary bytes and mutated valid messages either decode or fail
 * with a DsrError E_DECODE. Never another exception (RangeError from an out-of-bounds read, a
 * TypeError on a missing field), never a hang.
 */
import test from 'ava';
import fc from 'fast-check';
import { isDsrError } from '../../core/errors.ts';
import { decodeAddress, encodeAddressAdd } from '../../core/netlink/address-codec.ts';
import { NLMSG_ERROR } from '../../core/netlink/constants.ts';
import { decodeLink } from '../../core/netlink/link-codec.ts';
import { decodeAck, decodeAttrs, decodeMessages, encodeMessage } from '../../core/netlink/message.ts';
import { decodeNeighbour, encodeNeighbourManaged } from '../../core/netlink/neigh-codec.ts';

function onlyDecodeErrors(f: () => unknown): boolean {
  try {
    f();
    return true;
  } catch (err) {
    if (isDsrError(err, 'E_DECODE')) return true;
    throw err;
  }
}

const decoders: [string, (b: Buffer) => unknown][] = [
  ['decodeMessages', decodeMessages],
  ['decodeAttrs', decodeAttrs],
  ['decodeAddress', decodeAddress],
  ['decodeLink', decodeLink],
  ['decodeNeighbour', decodeNeighbour],
  [
    'decodeAck',
    (b) => decodeAck({ type: NLMSG_ERROR, flags: b.length > 0 ? b[0] << 8 : 0, seq: 0, pid: 0, payload: b }),
  ],
];

const seeds = [
  encodeMessage(
    { type: 20, flags: 0x605, seq: 1, pid: 0 },
    encodeAddressAdd({ ifindex: 2, address: '2001:2::1', prefixLength: 64 }).payload,
  ),
  encodeNeighbourManaged(2, '198.18.0.100').payload,
  encodeAddressAdd({ ifindex: 1, address: '198.18.0.5', prefixLength: 32, proto: 213 }).payload,
];

for (const [name, decode] of decoders) {
  test(`${name}: random bytes give a result or E_DECODE`, (t) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) =>
        onlyDecodeErrors(() => decode(Buffer.from(bytes))),
      ),
      { numRuns: 3000 },
    );
    t.pass();
  });

  test(`${name}: mutated valid messages give a result or E_DECODE`, (t) => {
    const mutation = fc.record({
      seed: fc.constantFrom(...seeds),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
      cut: fc.nat(),
    });
    fc.assert(
      fc.property(mutation, ({ seed, edits, cut }) => {
        const b = Buffer.from(seed);
        for (const [at, v] of edits) b[at % b.length] = v;
        const prefix = b.subarray(0, b.length - (cut % (b.length + 1)));
        return onlyDecodeErrors(() => decode(prefix)) && onlyDecodeErrors(() => decode(b));
      }),
      { numRuns: 3000 },
    );
    t.pass();
  });
}
