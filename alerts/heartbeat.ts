/**
 * The optional periodic "still master" heartbeat. Every `intervalMs` it asks
 * which VIP groups this node is master of and, when there is at least one,
 * emits a `heartbeat.master` event. A receiver that stops hearing it knows the
 * director (or its alerting) is gone; for Alertmanager it acts as a dead-man's
 * switch (see format-alertmanager.ts).
 */
import type { EngineTimers } from './engine.ts';
import type { AlertEventFactory } from './events.ts';

export interface MasterHeartbeatOptions {
  intervalMs: number;
  timers: EngineTimers;
  events: AlertEventFactory;
  /** The groups this node is master of right now. */
  masterGroups: () => readonly string[];
  /** Seconds since the daemon started, when known. */
  uptimeSeconds?: () => number;
  emit: (event: ReturnType<AlertEventFactory['make']>) => void;
}

export class MasterHeartbeat {
  readonly #o: MasterHeartbeatOptions;
  #timer: unknown;
  #running = false;

  constructor(options: MasterHeartbeatOptions) {
    if (!Number.isFinite(options.intervalMs) || options.intervalMs <= 0) {
      throw new RangeError('heartbeat intervalMs must be a positive number');
    }
    this.#o = options;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#arm();
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#o.timers.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #arm(): void {
    this.#timer = this.#o.timers.setTimeout(() => this.#beat(), this.#o.intervalMs);
  }

  #beat(): void {
    this.#timer = undefined;
    if (!this.#running) return;
    const groups = [...this.#o.masterGroups()];
    if (groups.length > 0) {
      const uptime = this.#o.uptimeSeconds?.();
      this.#o.emit(
        this.#o.events.make(
          'heartbeat',
          uptime === undefined ? { groups } : { groups, uptimeSeconds: uptime },
        ),
      );
    }
    this.#arm();
  }
}
