/**
 * systemd watchdog pings (WATCHDOG=1 every WATCHDOG_USEC/2). The ping rides on the event loop:
 * if the loop hangs, pings stop and systemd restarts the daemon (WatchdogSec in dsrd.service).
 */
import type { Notifier } from '../../core/systemd/notify.ts';
import type { DaemonPart } from '../part.ts';

export class WatchdogPart implements DaemonPart {
  readonly name = 'watchdog';
  readonly #notifier: Notifier;
  #timer: NodeJS.Timeout | undefined;
  #pings = 0;

  constructor(notifier: Notifier) {
    this.#notifier = notifier;
  }

  start(): void {
    const interval = this.#notifier.watchdogIntervalMs;
    if (interval === undefined) return;
    this.#ping();
    this.#timer = setInterval(() => this.#ping(), interval);
  }

  #ping(): void {
    this.#notifier.watchdog();
    this.#pings++;
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  status(): unknown {
    return {
      systemd: this.#notifier.enabled,
      intervalMs: this.#notifier.watchdogIntervalMs ?? null,
      pings: this.#pings,
    };
  }
}
