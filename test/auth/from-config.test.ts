import test from 'ava';
import { Secret } from '../../config/secret.ts';
import { keyringFromConfig } from '../../core/auth/key-material.ts';
import { ELECTION_KEY_PURPOSE, Keyring, SYNC_KEY_PURPOSE } from '../../core/auth/keyring.ts';

test('keyrings from config derive per-protocol keys from the operator key files', (t) => {
  const raw = Buffer.alloc(32, 0x11);
  const ring = { sendId: 2, keys: [{ id: 2, file: '/etc/dsr/k2', secret: new Secret(raw) }] };
  const election = keyringFromConfig(ring, ELECTION_KEY_PURPOSE);
  const sync = keyringFromConfig(ring, SYNC_KEY_PURPOSE);
  const data = Buffer.from('advert');
  t.is(election.sendKeyId, 2);
  t.is(
    new Keyring([{ id: 2, secret: raw }], 2)
      .derive(ELECTION_KEY_PURPOSE)
      .verify(2, data, election.sign(data)),
    'ok',
  );
  t.is(sync.verify(2, data, election.sign(data)), 'bad-mac');
  t.is(ring.keys[0].secret.bytes().toString('hex'), raw.toString('hex'), 'the config secret is untouched');
});
