/**
 * Builds a protocol keyring from the config's `keys.election` / `keys.sync` (config/types.ts).
 * The config holds the operator's key files; each protocol signs with keys derived from them
 * (Keyring.derive), so the same files can serve both without one protocol's messages ever
 * authenticating as the other's.
 */
import { Keyring } from './keyring.ts';

/** The config's key ring (config/types.ts KeyRing), as much of it as the keys need. */
export interface OperatorKeys {
  readonly keys: readonly { readonly id: number; readonly secret: { bytes(): Uint8Array } }[];
  readonly sendId: number;
}

/** The operator's keys as plain data, to hand to another thread (which builds its keyring). */
export interface KeyMaterial {
  readonly keys: { readonly id: number; readonly secret: Uint8Array }[];
  readonly sendId: number;
}

export function keyMaterialFromConfig(ring: OperatorKeys): KeyMaterial {
  return { keys: ring.keys.map((key) => ({ id: key.id, secret: key.secret.bytes() })), sendId: ring.sendId };
}

/** The derived keyring; the material's secrets are zeroed (the keyring keeps only derived keys). */
export function keyringFromMaterial(material: KeyMaterial, purpose: string): Keyring {
  const operator = new Keyring(material.keys, material.sendId);
  for (const key of material.keys) key.secret.fill(0);
  return operator.derive(purpose);
}

export function keyringFromConfig(ring: OperatorKeys, purpose: string): Keyring {
  return keyringFromMaterial(keyMaterialFromConfig(ring), purpose);
}
