/**
 * Reads the program's ring buffer (new flows, flow updates, persistence
 * entries) on the Node event loop: libuv watches the ring's epoll fd
 * (koffi.node.poll) and, when it is readable, ring_buffer__consume() hands
 * every queued record to our callback without ever blocking.
 */
import koffi from 'koffi';
import { DsrError } from '../core/errors.ts';
import { decodeEvent, type ForwarderEvent, LAYOUT } from './layout.ts';
import { copyNative, errnoText, libbpf, type Pointer, registerRingCallback } from './libbpf.ts';

export type EventListener = (event: ForwarderEvent) => void;

export class EventReader {
  private readonly listener: EventListener;
  private readonly callback: { ptr: Pointer; unregister(): void };
  private rb: Pointer | null;
  private poller: { stop(): void; close(): void } | null = null;
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

  /** Starts delivering events from the event loop. */
  start(): void {
    if (this.poller || !this.rb) return;
    const fd = libbpf.ringEpollFd(this.rb);
    this.poller = koffi.node.poll(fd, { readable: true }, () => {
      this.drain();
    });
  }

  /** Delivers every queued event now; returns how many. */
  drain(): number {
    if (!this.rb) return 0;
    const n = libbpf.ringConsume(this.rb);
    if (n < 0)
      throw new DsrError('E_BPF_MAP', `consuming the event ring failed: ${errnoText(-n)}`, { errno: -n });
    return n;
  }

  stop(): void {
    if (this.poller) {
      this.poller.stop();
      this.poller.close();
      this.poller = null;
    }
  }

  close(): void {
    this.stop();
    if (this.rb) {
      libbpf.ringFree(this.rb);
      this.rb = null;
      this.callback.unregister();
    }
  }
}
