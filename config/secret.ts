/**
 * Secret bytes (HMAC keys, webhook signing secrets, webhook URLs that embed credentials).
 *
 * The bytes live in a private field: JSON.stringify, util.inspect, console.log, pino and string
 * concatenation all show a redacted form, so a config object can be logged or returned by the
 * admin socket without leaking a key. Only an explicit `.bytes()` / `.text()` call reveals it.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { inspect } from 'node:util';

export class Secret {
  readonly #bytes: Buffer;
  /** What may be shown instead of the value, e.g. a URL's origin; never derived from key bytes. */
  readonly #hint: string;

  constructor(bytes: Uint8Array, hint = '') {
    this.#bytes = Buffer.from(bytes);
    this.#hint = hint;
  }

  static fromText(text: string, hint = ''): Secret {
    return new Secret(Buffer.from(text, 'utf8'), hint);
  }

  get length(): number {
    return this.#bytes.length;
  }

  /** A copy, so a caller cannot change the stored key. */
  bytes(): Buffer {
    return Buffer.from(this.#bytes);
  }

  text(): string {
    return this.#bytes.toString('utf8');
  }

  /** Constant-time comparison (diffing configs must not leak key bytes through timing). */
  equals(other: Secret): boolean {
    const a = this.#bytes;
    const b = other.#bytes;
    if (a.length !== b.length) return false;
    return timingSafeEqual(a, b);
  }

  /**
   * Digest used only inside this process to compare configs (diff); it is never logged or put
   * in the redacted forms, which would give an offline guessing target for weak keys.
   */
  digest(): string {
    return createHash('sha256').update(this.#bytes).digest('hex');
  }

  #redacted(): string {
    return this.#hint === '' ? '[redacted]' : `[redacted ${this.#hint}]`;
  }

  toJSON(): string {
    return this.#redacted();
  }

  toString(): string {
    return this.#redacted();
  }

  [inspect.custom](): string {
    return `Secret(${this.#redacted()})`;
  }
}
