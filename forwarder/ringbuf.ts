/**
 * Reads the program's ring buffer (new flows, TCP state changes, persistence entries) straight from
 * memory: the map is mapped as the kernel documents for BPF_MAP_TYPE_RINGBUF (and as libbpf's
 * ring_buffer does): the consumer position on a writable page at offset 0, the producer position
 * and then the data, mapped twice in a row so a record that wraps is contiguous, read-only from
 * one page on. A record is an 8-byte header (length, with a busy and a discard bit) and the data,
 * rounded up to 8 bytes.
 *
 * Why not libbpf's ring_buffer__consume: it calls back into JavaScript once per record, and a
 * call from C into V8 plus a copy of the record cost over ten microseconds here, more than the
 * sync spends on the record. Here a drain reads every record in place, in one pass.
 *
 * Positions and headers are read with Atomics (acquire) and the consumer position written with
 * one (release): the kernel publishes a record by clearing its busy bit after writing it.
 * The program submits without waking a reader (events.h), so the sync's thread drains on a timer.
 */

import koffi from 'koffi';
import { DsrError } from '../core/errors.ts';
import { errnoText, libbpf, type Pointer } from './libbpf.ts';

const BUSY = 0x8000_0000;
const DISCARD = 0x4000_0000;
const HEADER = 8;

/** Called with a record's bytes: `data` over the whole data area, the record at [offset, offset + size). */
export type RecordVisitor = (data: DataView, offset: number, size: number) => void;

export class EventRing {
  readonly #page: number;
  readonly #size: number;
  readonly #consumerPtr: Pointer;
  readonly #producerPtr: Pointer;
  readonly #consumer: BigUint64Array;
  readonly #producer: BigUint64Array;
  /** The producer page and the data area mapped twice. */
  readonly #area: DataView;
  readonly #headers: Uint32Array;
  #closed = false;
  /** Records the program discarded (none today; counted, not thrown). */
  skipped = 0;

  /** @param size the map's max_entries: its data bytes, a power of two */
  constructor(mapFd: number, size: number) {
    this.#page = libbpf.pageSize();
    this.#size = size;
    const consumer = libbpf.mmap(this.#page, true, mapFd, 0);
    if (consumer === null) throw mapError('the consumer page');
    const producer = libbpf.mmap(this.#page + 2 * size, false, mapFd, this.#page);
    if (producer === null) {
      libbpf.munmap(consumer, this.#page);
      throw mapError('the producer page and data');
    }
    this.#consumerPtr = consumer;
    this.#producerPtr = producer;
    this.#consumer = new BigUint64Array(libbpf.view(consumer, this.#page), 0, 1);
    const area = libbpf.view(producer, this.#page + 2 * size);
    this.#producer = new BigUint64Array(area, 0, 1);
    this.#area = new DataView(area);
    this.#headers = new Uint32Array(area);
  }

  /** Hands every complete record queued now to `visit`, in order, and frees them; returns how many. */
  drain(visit: RecordVisitor): number {
    if (this.#closed) return 0;
    let cons = Number(Atomics.load(this.#consumer, 0));
    const prod = Number(Atomics.load(this.#producer, 0));
    const mask = this.#size - 1;
    let n = 0;
    while (cons < prod) {
      const at = this.#page + (cons & mask);
      const len = Atomics.load(this.#headers, at >> 2);
      if (len & BUSY) break; // being written: the next drain takes it
      const size = len & ~(BUSY | DISCARD);
      if (len & DISCARD) this.skipped++;
      else {
        visit(this.#area, at + HEADER, size);
        n++;
      }
      cons += (size + HEADER + 7) & ~7;
    }
    Atomics.store(this.#consumer, 0, BigInt(cons));
    return n;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    libbpf.munmap(this.#consumerPtr, this.#page);
    libbpf.munmap(this.#producerPtr, this.#page + 2 * this.#size);
  }
}

function mapError(what: string): DsrError {
  const errno = koffi.errno();
  return new DsrError('E_BPF_MAP', `mapping the event ring (${what}) failed: ${errnoText(errno)}`, { errno });
}
