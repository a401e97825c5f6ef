/**
 * The dead-letter log: one JSON line per delivery that finally failed or was
 * dropped, so an operator can see (and replay by hand) what never arrived.
 *
 * Appends run in order on one promise chain and never block the caller. The
 * file is bounded: past `maxBytes` it is renamed to `<path>.1` (replacing the
 * previous one) and a new file is started. Records name the target, never its
 * URL or headers, which may hold secrets.
 */
import { appendFile, mkdir, rename, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { DsrError } from '../core/errors.ts';
import type { AlertEvent } from './events.ts';

export type DeadLetterReason =
  /** every attempt allowed was used */
  | 'max-attempts'
  /** the event grew older than the target's maxAgeMs */
  | 'max-age'
  /** the receiver answered with a status that retrying cannot fix (4xx, 3xx) */
  | 'rejected'
  /** the queue was over its bounds and this was the oldest delivery */
  | 'queue-full'
  /** the target left the config while the delivery was queued */
  | 'target-removed'
  /** the engine was closed before the event could be queued */
  | 'closed'
  /** a spool file could not be read back after a restart */
  | 'corrupt';

export interface DeadLetterRecord {
  time: string;
  reason: DeadLetterReason;
  target: string;
  attempts: number;
  lastError?: string;
  lastStatus?: number;
  event?: AlertEvent;
  /** For corrupt spool files: the file name and its first bytes. */
  file?: string;
  raw?: string;
}

export class DeadLetterLog {
  readonly path: string;
  readonly #maxBytes: number;
  #size: number;
  #chain: Promise<void> = Promise.resolve();
  readonly #onError: (e: unknown) => void;

  private constructor(path: string, maxBytes: number, size: number, onError: (e: unknown) => void) {
    this.path = path;
    this.#maxBytes = maxBytes;
    this.#size = size;
    this.#onError = onError;
  }

  static async open(
    path: string,
    maxBytes: number,
    onError: (e: unknown) => void = () => {},
  ): Promise<DeadLetterLog> {
    try {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
    } catch (e) {
      throw new DsrError(
        'E_ALERT_SPOOL',
        `dead-letter log directory for ${path} cannot be created`,
        { path },
        e,
      );
    }
    const size = await stat(path).then(
      (s) => s.size,
      () => 0,
    );
    return new DeadLetterLog(path, maxBytes, size, onError);
  }

  append(record: DeadLetterRecord): void {
    const line = `${JSON.stringify(record)}\n`;
    const bytes = Buffer.byteLength(line);
    this.#chain = this.#chain
      .then(async () => {
        if (this.#size > 0 && this.#size + bytes > this.#maxBytes) {
          await rename(this.path, `${this.path}.1`);
          this.#size = 0;
        }
        await appendFile(this.path, line, { mode: 0o600 });
        this.#size += bytes;
      })
      .catch(this.#onError);
  }

  async flush(): Promise<void> {
    let last: Promise<void>;
    do {
      last = this.#chain;
      await last;
    } while (last !== this.#chain);
  }
}
