/** Event-loop monitoring as a daemon part (the monitor itself is shared through PartContext). */
import type { EventLoopMonitor } from '../../core/eventloop.ts';
import { errorFields } from '../../core/log.ts';
import type { DaemonPart, PartContext } from '../part.ts';

const STALL_MESSAGES = {
  busy: 'event loop stalled: the main thread was busy (a long task ran on it)',
  'not-scheduled': 'event loop stalled: the process was not scheduled',
  unknown: 'event loop stalled',
} as const;

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
        const fields = {
          gapMs: Math.round(stall.gapMs),
          cpuMs: stall.cpuMs === null ? null : Math.round(stall.cpuMs),
        };
        ctx.log.warn(fields, STALL_MESSAGES[stall.cause ?? 'unknown']);
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
