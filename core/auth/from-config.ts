/**
 * Builds a protocol keyring from the config's `keys.election` / `keys.sync` (config/types.ts).
 * The config holds the operator's key files; each protocol signs with keys derived from them
 * (Keyring.derive), so the same files can serve both without one protocol's messages ever
 * authenticating as the other's.
 */
import type { KeyRing } from '../../config/types.ts';
import { Keyring } from './keyring.ts';

export function keyringFromConfig(ring: KeyRing, purpose: string): Keyring {
  const keys = ring.keys.map((key) => ({ id: key.id, secret: key.secret.bytes() }));
  const operator = new Keyring(keys, ring.sendId);
  for (const key of keys) key.secret.fill(0);
  return operator.derive(purpose);
}
