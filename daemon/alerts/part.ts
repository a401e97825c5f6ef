/**
 * Alert webhooks as a daemon part: opens the alert engine (its on-disk queue survives restarts),
 * answers `alerts.test`, feeds the metrics, and lets the other parts raise events through
 * emit(). Delivery never blocks the caller: emit() only queues.
 */
import { CATALOGUE } from '../../admin/catalogue/commands.ts';
import {
  AlertEngine,
  type AlertEventFactory,
  type AlertEventFields,
  type AlertEventType,
  alertEngineOptionsFromConfig,
  alertTargetFromConfig,
  createAlertEventFactory,
  MasterHeartbeat,
} from '../../alerts/index.ts';
import type { Logger } from '../../core/log.ts';
import { type ConfigChange, touches } from '../change.ts';
import type { DsrMetrics } from '../metrics/index.ts';
import type { DaemonPart, PartContext } from '../part.ts';

export class AlertsPart implements DaemonPart {
  readonly name = 'alerts';
  readonly #metrics: DsrMetrics | undefined;
  #engine: AlertEngine | undefined;
  #events: AlertEventFactory | undefined;
  #unregister: (() => void) | undefined;
  #log: Logger | undefined;
  #heartbeat: MasterHeartbeat | undefined;
  #masterGroups: () => readonly string[] = () => [];
  #startedAt = 0;

  constructor(metrics?: DsrMetrics) {
    this.#metrics = metrics;
  }

  async start(ctx: PartContext): Promise<void> {
    this.#log = ctx.log;
    const c = ctx.config;
    const engine = await AlertEngine.open(
      alertEngineOptionsFromConfig(c.alerts, c.node.id, { logger: ctx.log }),
    );
    this.#engine = engine;
    this.#events = createAlertEventFactory({ node: c.node.id });
    this.#unregister = ctx.admin.handle(CATALOGUE.alertsTest, ({ target }) => engine.sendTest(target));
    this.#metrics?.setProvider('alerts', () => engine.stats());
    this.#startedAt = performance.now();
    this.#startHeartbeat(c.alerts.heartbeatS);
  }

  /** Where the "still master" heartbeat learns which groups we are master of (the election). */
  setMasterGroups(provider: () => readonly string[]): void {
    this.#masterGroups = provider;
  }

  #startHeartbeat(seconds: number): void {
    this.#heartbeat?.stop();
    this.#heartbeat = undefined;
    const engine = this.#engine;
    const events = this.#events;
    if (seconds <= 0 || engine === undefined || events === undefined) return;
    this.#heartbeat = new MasterHeartbeat({
      intervalMs: seconds * 1000,
      timers: {
        setTimeout: (fn, ms) => setTimeout(fn, ms),
        clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
      },
      events,
      masterGroups: () => this.#masterGroups(),
      uptimeSeconds: () => Math.round((performance.now() - this.#startedAt) / 1000),
      emit: (event) => engine.enqueue(event),
    });
    this.#heartbeat.start();
  }

  /** Queues an event for every target that wants it. Never throws into the caller's path. */
  emit<T extends AlertEventType>(type: T, fields: AlertEventFields<T>): void {
    const engine = this.#engine;
    const events = this.#events;
    if (engine === undefined || events === undefined) return;
    try {
      engine.enqueue(events.make(type, fields));
    } catch (err) {
      this.#log?.error({ type, err: (err as Error).message }, 'alert event could not be queued');
    }
  }

  async stop(): Promise<void> {
    this.#heartbeat?.stop();
    this.#heartbeat = undefined;
    this.#unregister?.();
    this.#unregister = undefined;
    this.#metrics?.setProvider('alerts', undefined);
    const engine = this.#engine;
    this.#engine = undefined;
    await engine?.close();
  }

  affectedBy(change: ConfigChange): boolean {
    return touches(change, 'alerts');
  }

  /** The queue directory and bounds are fixed while running (the queue on disk would be left behind). */
  cannotReload(change: ConfigChange): string | undefined {
    const fixed = change.diff.alerts.fields.filter((f) => f === 'queueDir' || f === 'queueMaxEvents');
    return fixed.length === 0 ? undefined : `alerts.${fixed.join(', alerts.')} fixed while running`;
  }

  /** Targets and the heartbeat period change live. */
  reload(change: ConfigChange): void {
    this.#engine?.setTargets(change.next.alerts.targets.map(alertTargetFromConfig));
    if (change.diff.alerts.fields.includes('heartbeatS')) this.#startHeartbeat(change.next.alerts.heartbeatS);
  }

  status(): unknown {
    return this.#engine?.stats() ?? null;
  }
}
