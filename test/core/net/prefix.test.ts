import test from 'ava';
import { isDsrError } from '../../../core/errors.ts';
import { formatIp, parseIp } from '../../../core/net/ip.ts';
import { maskBytes, prefixMask } from '../../../core/net/prefix.ts';

test('netmasks of prefix lengths', (t) => {
  t.deepEqual([...prefixMask(4, 20)], [255, 255, 0xf0, 0]);
  t.deepEqual([...prefixMask(4, 0)], [0, 0, 0, 0]);
  t.deepEqual([...prefixMask(6, 64)], [...new Array(8).fill(255), ...new Array(8).fill(0)]);
  t.deepEqual([...prefixMask(6, 128)], new Array(16).fill(255));
  for (const [family, len] of [
    [4, 33],
    [4, -1],
    [6, 129],
    [6, 1.5],
  ] as const) {
    t.true(
      isDsrError(
        t.throws(() => prefixMask(family, len)),
        'E_ADDRESS_INVALID',
      ),
      `${family}/${len}`,
    );
  }
});

test('masking an address', (t) => {
  t.is(formatIp(maskBytes(parseIp('198.18.77.9').bytes, prefixMask(4, 24))), '198.18.77.0');
  t.is(formatIp(maskBytes(parseIp('2001:2:0:1:2:3:4:5').bytes, prefixMask(6, 64))), '2001:2:0:1::');
});
