/**
 * Reads the program's ring buffer (new flows, TCP state changes, persistence
 * entries): `drain()` hands every queued record to the listener through
 * ring_buffer__consume(), which never blocks. The program submits without
 * waking a reader (events.h), so the reader drains on its own timer: the
 * sync's thread does, at every tick.
 */
import { DsrError } from '../core/errors.ts';
import { decodeEvent, type ForwarderEvent, LAYOUT } from './layout.ts';
import { copyNative, errnoText, libbpf, type Pointer, registerRingCallback } from './libbpf.ts';

export type EventListener = (event: ForwarderEvent) => void;

export class EventReader {
  private readonly listener: EventListener;
  private readonly callback: { ptr: Pointer; unregister(): void };
  private rb: Pointer | null;
  /** Records too short to be an event (never expected; counted, not thrown). */
  malformed = 0;

  constructor(eventsMapFd: number, listener: EventListener) {
    this.listener = listener;
    this.callback = registerRingCallback((data, size) => {
      if (size < LAYOUT.dsr_event.size) {
        this.malformed++;
        return 0;
      }
      this.listener(decodeEvent(copyNative(data, LAYOUT.dsr_event.size)));
      return 0;
    });
    try {
      this.rb = libbpf.ringNew(eventsMapFd, this.callback.ptr);
    } catch (e) {
      this.callback.unregister();
      throw e;
    }
  }

  /** Delivers every queued event now; returns how many. */
  drain(): number {
    if (!this.rb) return 0;
    const n = libbpf.ringConsume(this.rb);
    if (n < 0)
      throw new DsrError('E_BPF_MAP', `consuming the event ring failed: ${errnoText(-n)}`, { errno: -n });
    return n;
  }

  close(): void {
    if (this.rb) {
      libbpf.ringFree(this.rb);
      this.rb = null;
      this.callback.unregister();
    }
  }
}
