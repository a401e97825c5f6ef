/**
 * Splits a byte stream into newline-terminated lines with a bound on line length.
 *
 * An over-long line is not buffered: its bytes are dropped as they arrive until its newline, and
 * it is reported once as an overflow, so a client sending garbage without newlines costs the
 * daemon at most `maxBytes` of memory and the connection can carry on after it.
 */
export type SplitItem = { kind: 'line'; line: string } | { kind: 'overflow'; bytes: number };

const NEWLINE = 0x0a;

export class LineSplitter {
  readonly maxBytes: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  /** Bytes of the current over-long line seen so far, or -1 when not skipping. */
  #skipped = -1;

  constructor(maxBytes: number) {
    this.maxBytes = maxBytes;
  }

  push(chunk: Buffer): SplitItem[] {
    const out: SplitItem[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(NEWLINE, start);
      const end = nl === -1 ? chunk.length : nl;
      this.#take(chunk.subarray(start, end));
      if (nl === -1) break;
      out.push(this.#finishLine());
      start = nl + 1;
    }
    return out;
  }

  /** Bytes held for an unfinished line (for tests and accounting). */
  get bufferedBytes(): number {
    return this.#pendingBytes;
  }

  #take(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.#skipped >= 0) {
      this.#skipped += piece.length;
      return;
    }
    if (this.#pendingBytes + piece.length > this.maxBytes) {
      this.#skipped = this.#pendingBytes + piece.length;
      this.#pending = [];
      this.#pendingBytes = 0;
      return;
    }
    // Copy: the chunk's memory belongs to the socket.
    this.#pending.push(Buffer.from(piece));
    this.#pendingBytes += piece.length;
  }

  #finishLine(): SplitItem {
    if (this.#skipped >= 0) {
      const bytes = this.#skipped;
      this.#skipped = -1;
      return { kind: 'overflow', bytes };
    }
    let line = Buffer.concat(this.#pending, this.#pendingBytes).toString('utf8');
    this.#pending = [];
    this.#pendingBytes = 0;
    if (line.endsWith('\r')) line = line.slice(0, -1);
    return { kind: 'line', line };
  }
}
