/**
 * Readiness of a raw file descriptor on Node's own event loop, through koffi.node.poll (a libuv
 * uv_poll_t on the fd, i.e. epoll).
 *
 * Why this and not a timer loop of non-blocking reads: a poll-driven request round trip is much
 * shorter, and an idle poll-driven socket costs no CPU (measured with test/kernel/measure-netlink.ts;
 * docs/architecture.md, "Kernel I/O on the event loop"). The callback runs on the main thread, so
 * the reader is an ordinary non-blocking recv.
 *
 * The uv_poll callback receives (status, events); status < 0 is a libuv error for the fd.
 */
import koffi from 'koffi';
import { DsrError } from '../errors.ts';

export interface FdWatch {
  /** Stops watching. Call before closing the fd (libuv must not poll a closed descriptor). */
  close(): void;
  /** Lets the process exit while the watch is active (for long-lived monitors). */
  unref(): void;
  ref(): void;
}

interface PollEvents {
  readable: boolean;
  writable: boolean;
  disconnect: boolean;
}

interface PollHandleLike {
  close(): void;
  unref(): void;
  ref(): void;
}

type PollFn = (
  fd: number,
  opts: { readable: boolean },
  cb: (status: number, ev: PollEvents) => void,
) => PollHandleLike | null;

/** Calls `onReadable` each time `fd` has data; `onError` if libuv reports the fd as failed. */
export function watchReadable(fd: number, onReadable: () => void, onError: (err: DsrError) => void): FdWatch {
  // koffi's .d.ts declares the callback as (ev) => void; the native code passes (status, ev).
  const poll = koffi.node.poll as unknown as PollFn;
  let closed = false;
  const handle = poll(fd, { readable: true }, (status, ev) => {
    if (closed) return;
    if (status < 0) {
      onError(new DsrError('E_SYSCALL', `polling fd ${fd} failed (libuv status ${status})`, { fd, status }));
      return;
    }
    if (ev.readable) onReadable();
  });
  if (handle === null) throw new DsrError('E_SYSCALL', `could not poll fd ${fd}`, { fd });
  return {
    close(): void {
      if (closed) return;
      closed = true;
      handle.close();
    },
    unref: () => handle.unref(),
    ref: () => handle.ref(),
  };
}
