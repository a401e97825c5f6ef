import test from 'ava';
import { isDsrError } from '../../core/errors.ts';
import { advertFingerprint, nodeIdFromName, nodeIds } from '../../failover/node-id.ts';

test('node ids are stable 32-bit numbers derived from names, the same on every director', (t) => {
  const a = nodeIdFromName('dir-a');
  t.is(a, nodeIdFromName('dir-a'));
  t.not(a, nodeIdFromName('dir-b'));
  t.true(Number.isInteger(a) && a >= 1 && a <= 0xffffffff);
  t.deepEqual([...nodeIds(['dir-a', 'dir-b']).keys()], ['dir-a', 'dir-b']);
  t.true(
    isDsrError(
      t.throws(() => nodeIdFromName('')),
      'E_CONFIG_INVALID',
    ),
  );
});

test('advert fingerprint: the first 16 bytes of the config SHA-256', (t) => {
  const hex = 'ab'.repeat(16) + 'cd'.repeat(16);
  t.deepEqual(advertFingerprint(hex), new Uint8Array(16).fill(0xab));
  t.true(
    isDsrError(
      t.throws(() => advertFingerprint('xyz')),
      'E_CONFIG_INVALID',
    ),
  );
});
