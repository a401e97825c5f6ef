/** Event-loop monitoring as a daemon part (the monitor itself is shared through PartContext). */
import type { EventLoopMonitor } from '../../core/eventloop.ts';
import { errorFields } from '../../core/log.ts';
import type { DaemonPart, PartContext } from '../part.ts';

export class EventLoopPart implements DaemonPart {
  readonly name = 'eventloop';
  readonly #monitor: EventLoopMonitor;
  #unsubscribe: (() => void) | undefined;

  constructor(monitor: EventLoopMonitor) {
    this.#monitor = monitor;
  }

  start(ctx: PartContext): void {
    this.#monitor.start();
    this.#unsubscribe = this.#monitor.onStall((stall) => {
      try {
        ctx.log.warn({ gapMs: Math.round(stall.gapMs) }, 'event loop stalled: the process was not scheduled');
      } catch (err) {
        ctx.log.error(errorFields(err), 'stall logging failed');
      }
    });
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#monitor.stop();
  }

  status(): unknown {
    return this.#monitor.status();
  }
}
