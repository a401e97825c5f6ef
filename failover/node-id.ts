/**
 * Directors are named in the config (`node.id`, `peers[].id`: up to 63 characters); election
 * packets carry a 32-bit node id derived from the name: the first 4 bytes of
 * SHA-256("dsr-director node id\0" + name), big-endian (0 becomes 1). Every director computes the
 * same id for the same name whatever else its config says, so ids never shift when a peer is
 * added or removed.
 *
 * Tie-break rule at equal priority (RFC 5798 §6.4.3 compares primary IP addresses instead): the
 * director with the higher node id wins. The order is arbitrary but fixed, the same everywhere.
 *
 * The config fingerprint carried in adverts is the first 16 bytes of the config's SHA-256.
 */
import { createHash } from 'node:crypto';
import { DsrError } from '../core/errors.ts';
import { FINGERPRINT_BYTES } from './election/messages.ts';

export function nodeIdFromName(name: string): number {
  if (name.length === 0) throw new DsrError('E_CONFIG_INVALID', 'a director name cannot be empty');
  const digest = createHash('sha256').update(`dsr-director node id\0${name}`).digest();
  return digest.readUInt32BE(0) || 1;
}

/** Ids for a set of names; two names with the same id (a 1 in 4 billion chance) fail loudly. */
export function nodeIds(names: readonly string[]): Map<string, number> {
  const ids = new Map<string, number>();
  const owners = new Map<number, string>();
  for (const name of names) {
    const id = nodeIdFromName(name);
    const owner = owners.get(id);
    if (owner !== undefined && owner !== name) {
      throw new DsrError('E_CONFIG_INVALID', 'two director names map to the same node id: rename one', {
        names: [owner, name],
        nodeId: id,
      });
    }
    owners.set(id, name);
    ids.set(name, id);
  }
  return ids;
}

/** The 16-byte fingerprint of adverts from config/fingerprint.ts's SHA-256 hex. */
export function advertFingerprint(sha256Hex: string): Uint8Array {
  if (!/^[0-9a-f]{32,}$/i.test(sha256Hex)) {
    throw new DsrError('E_CONFIG_INVALID', 'a config fingerprint must be hex of at least 16 bytes', {});
  }
  return new Uint8Array(Buffer.from(sha256Hex.slice(0, FINGERPRINT_BYTES * 2), 'hex'));
}
