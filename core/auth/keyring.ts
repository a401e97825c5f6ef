/**
 * A keyring of HMAC-SHA256 keys, shared by the election and the sync protocol.
 *
 * Keys carry a small numeric id (1..255, one byte on the wire) so a receiver knows which key a
 * sender used. At most two keys are valid at once, which is what a rolling key rotation needs:
 *
 *   1. add the new key on every director (both keys accepted, all still send with the old one);
 *   2. switch `sendKeyId` to the new key on every director;
 *   3. remove the old key everywhere.
 *
 * At every step, every pair of directors shares a key the receiver accepts, so no advert is lost.
 *
 * Secrets never leave this object: `toJSON` and `util.inspect` print key ids only, and the secrets
 * live in a private field that neither JSON nor structured logging can reach.
 */
import { createHmac, createSecretKey, hkdfSync, type KeyObject, timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';
import { DsrError } from '../errors.ts';

/** Length of an HMAC-SHA256 tag: we never truncate it. */
export const MAC_BYTES = 32;
/** RFC 2104 §3: keys shorter than the hash output (32 bytes) are strongly discouraged. */
export const MIN_SECRET_BYTES = 32;
/** Two keys valid at once: the old and the new one during a rotation. */
export const MAX_KEYS = 2;
export const MIN_KEY_ID = 1;
export const MAX_KEY_ID = 255;

export interface KeySpec {
  readonly id: number;
  readonly secret: Uint8Array;
}

export type VerifyResult = 'ok' | 'unknown-key' | 'bad-mac';

/** `derive` purposes: each protocol signs with its own keys derived from the operator's. */
export const ELECTION_KEY_PURPOSE = 'dsr-election-v1';
export const SYNC_KEY_PURPOSE = 'dsr-sync-v1';
export const RAFT_KEY_PURPOSE = 'dsr-raft-v1';

/** Salt of the HKDF that derives one key per protocol from an operator's key (RFC 5869 §3.1). */
const DERIVE_SALT = Buffer.from('dsr-director keyring v1');

export class Keyring {
  readonly #secrets: Map<number, Buffer>;
  readonly #sendKeyId: number;
  readonly #otherKeyId: number;

  constructor(keys: readonly KeySpec[], sendKeyId: number) {
    if (keys.length === 0 || keys.length > MAX_KEYS) {
      throw new DsrError(
        'E_AUTH_KEY',
        `a keyring holds 1 to ${MAX_KEYS} keys (old and new during rotation)`,
        {
          count: keys.length,
        },
      );
    }
    const secrets = new Map<number, Buffer>();
    for (const key of keys) {
      if (!Number.isInteger(key.id) || key.id < MIN_KEY_ID || key.id > MAX_KEY_ID) {
        throw new DsrError('E_AUTH_KEY', `key id must be an integer ${MIN_KEY_ID}..${MAX_KEY_ID}`, {
          keyId: key.id,
        });
      }
      if (secrets.has(key.id)) {
        throw new DsrError('E_AUTH_KEY', 'two keys have the same id', { keyId: key.id });
      }
      if (!(key.secret instanceof Uint8Array) || key.secret.length < MIN_SECRET_BYTES) {
        throw new DsrError('E_AUTH_KEY', `key secret must be at least ${MIN_SECRET_BYTES} bytes`, {
          keyId: key.id,
          bytes: key.secret?.length ?? 0,
        });
      }
      // Copy, so a caller that reuses or zeroes its buffer cannot change our key.
      secrets.set(key.id, Buffer.from(key.secret));
    }
    if (!secrets.has(sendKeyId)) {
      throw new DsrError('E_AUTH_KEY', 'the send key id is not one of the keys', {
        sendKeyId,
        keyIds: [...secrets.keys()],
      });
    }
    this.#secrets = secrets;
    this.#sendKeyId = sendKeyId;
    this.#otherKeyId = [...secrets.keys()].find((id) => id !== sendKeyId) ?? 0;
  }

  get sendKeyId(): number {
    return this.#sendKeyId;
  }

  /** The key accepted besides the send key (a rotation under way), or 0 when there is one key. */
  get otherKeyId(): number {
    return this.#otherKeyId;
  }

  get keyIds(): number[] {
    return [...this.#secrets.keys()].sort((a, b) => a - b);
  }

  has(keyId: number): boolean {
    return this.#secrets.has(keyId);
  }

  /** HMAC-SHA256 of `data` with the send key. */
  sign(data: Uint8Array): Buffer {
    return this.#mac(this.#secrets.get(this.#sendKeyId)!, data);
  }

  /**
   * Checks `mac` against HMAC-SHA256(key[keyId], data). The comparison is constant-time
   * (crypto.timingSafeEqual), so the time taken reveals nothing about how many bytes matched.
   */
  verify(keyId: number, data: Uint8Array, mac: Uint8Array): VerifyResult {
    const secret = this.#secrets.get(keyId);
    if (secret === undefined) return 'unknown-key';
    // The tag length is public (fixed by the format), so checking it first leaks nothing.
    if (mac.length !== MAC_BYTES) return 'bad-mac';
    return timingSafeEqual(this.#mac(secret, data), mac) ? 'ok' : 'bad-mac';
  }

  /**
   * A keyring with the same ids whose secrets are HKDF-SHA256(secret, info = purpose).
   * The election and the sync protocol each derive their own keys from the operator's keys, so a
   * message of one protocol can never authenticate as a message of the other (domain separation).
   */
  derive(purpose: string): Keyring {
    if (purpose.length === 0) throw new DsrError('E_AUTH_KEY', 'a derived keyring needs a purpose label');
    const keys: KeySpec[] = [];
    for (const [id, secret] of this.#secrets) {
      const derived = hkdfSync('sha256', secret, DERIVE_SALT, Buffer.from(purpose), MIN_SECRET_BYTES);
      keys.push({ id, secret: new Uint8Array(derived) });
    }
    return new Keyring(keys, this.#sendKeyId);
  }

  toJSON(): { keyIds: number[]; sendKeyId: number; secrets: '[redacted]' } {
    return { keyIds: this.keyIds, sendKeyId: this.#sendKeyId, secrets: '[redacted]' };
  }

  [inspect.custom](): string {
    return `Keyring { keyIds: [${this.keyIds.join(', ')}], sendKeyId: ${this.#sendKeyId}, secrets: [redacted] }`;
  }

  /** KeyObjects made once per key: importing raw bytes on every HMAC showed in profiles. */
  readonly #keyObjects = new Map<Buffer, KeyObject>();

  #mac(secret: Buffer, data: Uint8Array): Buffer {
    let key = this.#keyObjects.get(secret);
    if (!key) {
      key = createSecretKey(secret);
      this.#keyObjects.set(secret, key);
    }
    return createHmac('sha256', key).update(data).digest();
  }
}
