/**
 * The on-disk alert queue: one small JSON file per pending (target, event)
 * delivery in a spool directory, named by a zero-padded sequence number so a
 * directory listing sorted by name is the enqueue order.
 *
 * Why one file per delivery rather than a journal: a delivery that finishes is
 * one unlink, a crash mid-write leaves at worst a `.tmp` file (written then
 * renamed, so a spool file is always whole), and no compaction is needed.
 * Alerts are rare, so a file each is cheap.
 *
 * Writes are asynchronous and applied strictly in the order asked, on one
 * promise chain, so the caller (the delivery engine) never waits for the disk:
 * a remove asked after an add always runs after it. Files are not fsynced: the
 * queue survives a daemon restart or crash, not a power cut.
 *
 * The spool only persists and counts (items, bytes); which item to drop when
 * over its bounds is the engine's decision.
 */
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DsrError } from '../core/errors.ts';
import { type AlertEvent, parseAlertEvent } from './events.ts';

export interface SpoolRecord {
  seq: number;
  target: string;
  /** ms since the epoch when the delivery was queued; bounds retries by age across restarts. */
  enqueuedAt: number;
  event: AlertEvent;
}

export interface CorruptSpoolFile {
  file: string;
  reason: string;
  /** The start of the file, for the dead-letter log. */
  raw: string;
}

export interface SpoolLoad {
  records: SpoolRecord[];
  corrupt: CorruptSpoolFile[];
}

/** A spool file larger than this cannot be one of ours. */
const MAX_FILE_BYTES = 256 * 1024;
const FILE = /^(\d{16})\.json$/;

function fileName(seq: number): string {
  return `${String(seq).padStart(16, '0')}.json`;
}

export function encodeSpoolRecord(r: SpoolRecord): string {
  return JSON.stringify({ v: 1, seq: r.seq, target: r.target, enqueuedAt: r.enqueuedAt, event: r.event });
}

export function decodeSpoolRecord(text: string): SpoolRecord | string {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return 'not JSON';
  }
  if (typeof v !== 'object' || v === null) return 'not an object';
  const o = v as Record<string, unknown>;
  if (o.v !== 1) return 'unknown version';
  if (!Number.isSafeInteger(o.seq) || (o.seq as number) < 0) return 'bad seq';
  if (typeof o.target !== 'string' || o.target === '') return 'bad target';
  if (!Number.isSafeInteger(o.enqueuedAt)) return 'bad enqueuedAt';
  const event = parseAlertEvent(o.event);
  if (!event) return 'event does not match the schema';
  return { seq: o.seq as number, target: o.target, enqueuedAt: o.enqueuedAt as number, event };
}

export interface SpoolOptions {
  /** Called once per failed disk operation; deliveries carry on from memory. */
  onError?: (op: 'write' | 'remove', seq: number, error: unknown) => void;
}

export class AlertSpool {
  readonly dir: string;
  #chain: Promise<void> = Promise.resolve();
  #bytes = new Map<number, number>();
  #totalBytes = 0;
  #nextSeq: number;
  readonly #onError: SpoolOptions['onError'];

  private constructor(dir: string, nextSeq: number, options: SpoolOptions) {
    this.dir = dir;
    this.#nextSeq = nextSeq;
    this.#onError = options.onError;
  }

  /** Opens (creating, mode 0700) the spool directory and reads what a previous run left. */
  static async open(
    dir: string,
    options: SpoolOptions = {},
  ): Promise<{ spool: AlertSpool; load: SpoolLoad }> {
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      const st = await stat(dir);
      if (!st.isDirectory()) throw new Error('not a directory');
    } catch (e) {
      throw new DsrError(
        'E_ALERT_SPOOL',
        `alert spool directory ${dir} cannot be used: ${(e as Error).message}`,
        {
          dir,
        },
      );
    }
    const names = (await readdir(dir)).sort();
    const load: SpoolLoad = { records: [], corrupt: [] };
    let maxSeq = 0;
    for (const n of names) {
      if (n.endsWith('.tmp')) {
        await rm(join(dir, n), { force: true });
        continue;
      }
      const m = FILE.exec(n);
      if (!m) continue;
      maxSeq = Math.max(maxSeq, Number(m[1]));
      const path = join(dir, n);
      let text: string;
      try {
        const st = await stat(path);
        if (st.size > MAX_FILE_BYTES) throw new Error(`file of ${st.size} bytes is too large`);
        text = await readFile(path, 'utf8');
      } catch (e) {
        load.corrupt.push({ file: n, reason: (e as Error).message, raw: '' });
        await rm(path, { force: true });
        continue;
      }
      const r = decodeSpoolRecord(text);
      if (typeof r === 'string' || r.seq !== Number(m[1])) {
        load.corrupt.push({
          file: n,
          reason: typeof r === 'string' ? r : 'seq differs from file name',
          raw: text.slice(0, 2048),
        });
        await rm(path, { force: true });
        continue;
      }
      load.records.push(r);
    }
    const spool = new AlertSpool(dir, maxSeq + 1, options);
    for (const r of load.records) spool.#account(r.seq, Buffer.byteLength(encodeSpoolRecord(r)));
    return { spool, load };
  }

  get count(): number {
    return this.#bytes.size;
  }

  get bytes(): number {
    return this.#totalBytes;
  }

  #account(seq: number, bytes: number): void {
    this.#bytes.set(seq, bytes);
    this.#totalBytes += bytes;
  }

  #enqueueOp(op: 'write' | 'remove', seq: number, run: () => Promise<void>): void {
    this.#chain = this.#chain.then(run).catch((e) => this.#onError?.(op, seq, e));
  }

  /** Queues one delivery and returns its record. Synchronous; the file is written in the background. */
  add(target: string, event: AlertEvent, enqueuedAt: number): SpoolRecord {
    const record: SpoolRecord = { seq: this.#nextSeq++, target, enqueuedAt, event };
    const text = encodeSpoolRecord(record);
    this.#account(record.seq, Buffer.byteLength(text));
    const path = join(this.dir, fileName(record.seq));
    this.#enqueueOp('write', record.seq, async () => {
      await writeFile(`${path}.tmp`, text, { mode: 0o600 });
      await rename(`${path}.tmp`, path);
    });
    return record;
  }

  /** Forgets one delivery (done, dead-lettered or dropped). Synchronous; unlinks in the background. */
  remove(seq: number): void {
    const b = this.#bytes.get(seq);
    if (b === undefined) return;
    this.#bytes.delete(seq);
    this.#totalBytes -= b;
    this.#enqueueOp('remove', seq, () => rm(join(this.dir, fileName(seq)), { force: true }));
  }

  /** Resolves when every write and remove asked so far has reached the disk. */
  async flush(): Promise<void> {
    let last: Promise<void>;
    do {
      last = this.#chain;
      await last;
    } while (last !== this.#chain);
  }
}
