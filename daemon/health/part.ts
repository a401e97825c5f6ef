/**
 * The health part as a dsrd part (daemon/supervisor.ts lifecycle): builds the HealthEngine from
 * the config at start, hands it config changes on reload, registers the operator's commands,
 * logs transitions, and contributes real-server and service states to `dsrctl status`.
 *
 * Other parts subscribe to this object before start ('event' carries every HealthEvent) and read
 * `backends()`, `trackedServices()` and `allowsNewPersistence()`; it exists from construction,
 * the engine inside it from start().
 */
import { EventEmitter } from 'node:events';
import type { RealServerState } from '../../admin/catalogue/status.ts';
import type { Logger } from '../../core/log.ts';
import type { DrainSnapshot, FlowCounter } from '../../health/drain-tracker.ts';
import { HealthEngine, type HealthEngineOptions, type TrackedCondition } from '../../health/engine.ts';
import { healthSpecFromConfig, type TextFileReader } from '../../health/from-config.ts';
import type { HealthEvent } from '../../health/health-events.ts';
import type { HealthStatus } from '../../health/health-status.ts';
import type { Backend } from '../../health/service-health.ts';
import type { Health } from '../../health/target-health.ts';
import type { ConfigChange } from '../change.ts';
import { touches } from '../change.ts';
import type { DsrMetrics } from '../metrics/index.ts';
import type { DaemonPart, PartContext } from '../part.ts';
import type { StatusContribution } from '../status.ts';
import { notRunning, registerHealthCommands } from './commands.ts';
import { healthSnapshot } from './metrics.ts';

export interface HealthPartOptions extends Omit<HealthEngineOptions, 'remainingFlows'> {
  /** Remaining flows per real server (the forwarder's connection table). */
  remainingFlows: FlowCounter;
  readFile?: TextFileReader;
  metrics?: DsrMetrics;
}

export class HealthPart extends EventEmitter<{ event: [HealthEvent] }> implements DaemonPart {
  readonly name = 'health';
  readonly #options: HealthPartOptions;
  #engine: HealthEngine | null = null;
  #unregister: (() => void) | null = null;
  #log: Logger | null = null;

  constructor(options: HealthPartOptions) {
    super();
    this.#options = options;
  }

  get engine(): HealthEngine | null {
    return this.#engine;
  }

  start(ctx: PartContext): void {
    this.#log = ctx.log;
    const engine = new HealthEngine(healthSpecFromConfig(ctx.config, this.#options.readFile), this.#options);
    engine.on('event', (e) => {
      this.#logEvent(e);
      this.emit('event', e);
    });
    this.#engine = engine;
    this.#unregister = registerHealthCommands(ctx.admin, () => this.#engine ?? notRunning());
    this.#options.metrics?.setProvider('health', () => healthSnapshot(this.#engine?.status() ?? null));
    engine.start();
  }

  async stop(): Promise<void> {
    this.#unregister?.();
    this.#unregister = null;
    this.#options.metrics?.setProvider('health', undefined);
    const engine = this.#engine;
    this.#engine = null;
    await engine?.stop();
  }

  affectedBy(change: ConfigChange): boolean {
    return touches(change, 'services', 'healthChecks');
  }

  reload(change: ConfigChange): void {
    this.#engine?.reload(healthSpecFromConfig(change.next, this.#options.readFile));
  }

  // ---- for the forwarder, the election and sync ----

  backends(service: string): Backend[] {
    return (this.#engine ?? notRunning()).backends(service);
  }

  trackedServices(): { service: string; failed: boolean }[] {
    return this.#engine?.trackedServices() ?? [];
  }

  trackedConditions(tracks: readonly { name: string; weight: number }[]): TrackedCondition[] {
    return this.#engine?.trackedConditions(tracks) ?? tracks.map((t) => ({ ...t, failed: false }));
  }

  allowsNewPersistence(rs: string, service: string): boolean {
    return this.#engine?.allowsNewPersistence(rs, service) ?? true;
  }

  drainSnapshot(): DrainSnapshot | null {
    return this.#engine?.drainSnapshot() ?? null;
  }

  restoreDrains(snapshot: unknown): void {
    (this.#engine ?? notRunning()).restoreDrains(snapshot);
  }

  /**
   * Calls `listener` after each operator change of the drain state here (drain, enable, weight),
   * not after a restore: what the sync shares with the peers.
   */
  onDrainStateChange(listener: () => void): () => void {
    const onEvent = (e: HealthEvent): void => {
      if (e.type === 'drain.started' || e.type === 'drain.ended' || e.type === 'weight.set') listener();
    };
    this.on('event', onEvent);
    return () => this.off('event', onEvent);
  }

  // ---- status and logs ----

  status(): StatusContribution & { health: HealthStatus | null } {
    const s = this.#engine?.status() ?? null;
    if (!s) return { health: null };
    return {
      services: s.services.map((svc) => ({
        name: svc.name,
        state: svc.status,
        realServers: [
          ...svc.realServers.map((rs) => ({
            address: rs.address,
            weight: rs.effectiveWeight,
            configuredWeight: rs.configuredWeight,
            state: realServerState(rs.health, rs.drained),
          })),
          ...(svc.sorryServer === null
            ? []
            : [
                {
                  address: svc.sorryServer,
                  weight: this.#sorryWeight(svc.name, svc.sorryServer),
                  configuredWeight: this.#sorryWeight(svc.name, svc.sorryServer),
                  state: svc.sorryActive ? ('up' as const) : ('disabled' as const),
                  sorry: true,
                },
              ]),
        ],
      })),
      health: s,
    };
  }

  /** The sorry server's weight in force (0 while the service is up). */
  #sorryWeight(service: string, address: string): number {
    try {
      return this.backends(service).find((b) => b.sorry && b.id === address)?.weight ?? 0;
    } catch {
      return 0;
    }
  }

  #logEvent(e: HealthEvent): void {
    const log = this.#log;
    if (!log) return;
    switch (e.type) {
      case 'realserver.down':
        log.warn(
          { service: e.service, rs: e.realserver, from: e.from, reason: e.reason },
          'real server down',
        );
        break;
      case 'realserver.up':
        log.info({ service: e.service, rs: e.realserver, from: e.from }, 'real server up');
        break;
      case 'service.down':
        log.error({ service: e.service, from: e.from, reason: e.reason }, 'service down');
        break;
      case 'service.up':
        log.info({ service: e.service, from: e.from, realServersUp: e.realServersUp }, 'service up');
        break;
      case 'target.suppressed':
        log.warn(
          { address: e.address, port: e.port, kind: e.kind, penalty: e.penalty },
          'flapping check target suppressed',
        );
        break;
      case 'target.released':
        log.info(
          { address: e.address, port: e.port, kind: e.kind },
          'check target released from flap damping',
        );
        break;
      case 'drains.restored':
      case 'drain.started':
      case 'drain.complete':
      case 'drain.ended':
      case 'weight.set':
        log.info({ ...e }, e.type);
        break;
      default:
        log.debug({ ...e }, e.type);
    }
  }
}

function realServerState(health: Health, drained: boolean): RealServerState {
  if (drained) return 'draining';
  return health;
}
