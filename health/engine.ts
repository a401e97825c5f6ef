/**
 * The health part: runs the checks, keeps each target's health, decides each service's state and
 * backends, tracks drains, and tells the rest of the daemon through events.
 *
 * It owns no kernel state. The forwarder listens for 'backends' events (or asks `backends()`), the
 * election asks `trackedServices()`, the admin commands call drain/enable/setWeight, and sync
 * carries `drainSnapshot()` to the peers. Every director runs it whatever its role, so a new
 * active already knows who is healthy.
 *
 * Wiring: new HealthEngine(spec, options) -> on('event', ...) -> start() -> reload(spec)* -> stop().
 */
import { EventEmitter } from 'node:events';
import { DsrError } from '../core/errors.ts';
import { CheckScheduler } from './check-scheduler.ts';
import type { CheckResult } from './checker.ts';
import { type CheckerFactory, createChecker } from './checkers/create-checker.ts';
import {
  type DrainEntry,
  type DrainEvent,
  type DrainSnapshot,
  DrainTracker,
  type FlowCounter,
} from './drain-tracker.ts';
import { DEFAULT_DAMPING } from './flap-damping.ts';
import type { HealthEvent } from './health-events.ts';
import type { HealthSpec } from './health-spec.ts';
import { buildStatus, type HealthStatus } from './health-status.ts';
import {
  type Backend,
  backendsChanged,
  combineHealth,
  downReason,
  evaluateService,
  type ServiceView,
} from './service-health.ts';
import {
  type Health,
  initialTargetState,
  observe,
  type TargetEvent,
  type TargetHealthConfig,
  type TargetHealthState,
} from './target-health.ts';
import { type Plan, type PlannedService, type PlannedTarget, planTargets } from './target-plan.ts';
import { systemTimers, type Timers } from './timers.ts';

export interface HealthEngineOptions {
  /** Remaining flows per real server: the forwarder's connection table. */
  remainingFlows: FlowCounter;
  timers?: Timers;
  /** Uniform in [0, 1); drives the jittered start. */
  random?: () => number;
  /** Checks running at once, over all targets. Default 32. */
  concurrency?: number;
  /** Fraction of the first interval over which first checks are spread. Default 1. */
  startSpread?: number;
  /** How often running drains poll the flow counts. Default 1000 ms. */
  drainTickMs?: number;
  checkerFactory?: CheckerFactory;
}

export interface TrackedCondition {
  name: string;
  weight: number;
  failed: boolean;
}

interface TargetRuntime {
  plan: PlannedTarget;
  cfg: TargetHealthConfig;
  state: TargetHealthState;
}

interface ServiceRuntime {
  planned: PlannedService;
  status: Health;
  rsHealth: Map<string, Health>;
  view: ServiceView | null;
}

export class HealthEngine extends EventEmitter<{ event: [HealthEvent] }> {
  readonly name = 'health';
  readonly #o: HealthEngineOptions;
  readonly #timers: Timers;
  readonly #factory: CheckerFactory;
  readonly #scheduler: CheckScheduler;
  readonly #drains: DrainTracker;
  #spec: HealthSpec;
  #targets = new Map<string, TargetRuntime>();
  #services = new Map<string, ServiceRuntime>();
  #drainTimer: unknown;
  #running = false;

  constructor(spec: HealthSpec, options: HealthEngineOptions) {
    super();
    this.#o = options;
    this.#timers = options.timers ?? systemTimers;
    this.#factory = options.checkerFactory ?? createChecker;
    this.#scheduler = new CheckScheduler({
      timers: this.#timers,
      random: options.random ?? Math.random,
      concurrency: options.concurrency ?? 32,
      startSpread: options.startSpread,
      onResult: (key, result) => this.#onResult(key, result),
    });
    this.#drains = new DrainTracker({
      now: () => this.#timers.wallNow(),
      remainingFlows: options.remainingFlows,
    });
    this.#spec = spec;
    this.#apply(planTargets(spec, this.#factory), false);
  }

  /** Starts the checks and publishes every service's initial backends (all at weight 0 until checked). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#scheduler.start();
    this.#recompute(null, true);
    this.#armDrainTick();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#timers.clearTimeout(this.#drainTimer);
    this.#drainTimer = undefined;
    await this.#scheduler.stop();
  }

  /**
   * Applies a new spec. Everything is validated and every checker built first: on any error this
   * throws and nothing changes. Targets that stay keep their health; a changed probe of the same
   * address and port starts from the old verdict; services keep their state; drains stay.
   */
  reload(spec: HealthSpec): void {
    const plan = planTargets(spec, this.#factory);
    this.#spec = spec;
    this.#apply(plan, this.#running);
    if (this.#running) this.#recompute(null, false);
  }

  #targetConfig(plan: PlannedTarget): TargetHealthConfig {
    const damping = this.#spec.damping === undefined ? DEFAULT_DAMPING : this.#spec.damping;
    return { rise: plan.timing.rise, fall: plan.timing.fall, initial: this.#spec.initial, damping };
  }

  #apply(plan: Plan, running: boolean): void {
    const old = this.#targets;
    const byPlace = new Map<string, Health>();
    for (const t of old.values()) if (t.state.status !== 'unknown') byPlace.set(t.plan.place, t.state.status);
    const now = this.#timers.now();
    const next = new Map<string, TargetRuntime>();
    for (const [key, p] of plan.targets) {
      const cfg = this.#targetConfig(p);
      const kept = old.get(key);
      let state: TargetHealthState;
      if (kept) {
        state = kept.state;
      } else {
        const inherited = byPlace.get(p.place);
        state = initialTargetState(inherited ? { ...cfg, initial: inherited } : cfg, now);
      }
      next.set(key, { plan: p, cfg, state });
      const job = {
        key,
        intervalMs: p.timing.intervalMs,
        timeoutMs: p.timing.timeoutMs,
        run: (signal: AbortSignal) => p.checker.check({ address: p.address, port: p.port }, signal),
      };
      if (this.#scheduler.has(key)) this.#scheduler.update(job);
      else this.#scheduler.add(job);
    }
    for (const key of old.keys()) if (!next.has(key)) this.#scheduler.remove(key);
    this.#targets = next;

    const services = new Map<string, ServiceRuntime>();
    for (const [name, planned] of plan.services) {
      const prev = this.#services.get(name);
      services.set(name, {
        planned,
        status: prev?.status ?? 'unknown',
        rsHealth: prev?.rsHealth ?? new Map(),
        view: prev?.view ?? null,
      });
    }
    this.#services = services;
    if (!running) for (const s of services.values()) s.view = this.#evaluate(s);
  }

  #onResult(key: string, result: CheckResult): void {
    const t = this.#targets.get(key);
    if (!t || !this.#running) return;
    const step = observe(t.cfg, t.state, result, this.#timers.now());
    t.state = step.state;
    if (step.events.length === 0) return;
    for (const e of step.events) this.#emitTarget(t, e);
    if (step.events.some((e) => e.type === 'status')) this.#recompute(key, false);
  }

  #emitTarget(t: TargetRuntime, e: TargetEvent): void {
    const ref = { address: t.plan.address, port: t.plan.port, kind: t.plan.kind };
    const at = this.#timers.wallNow();
    if (e.type === 'status') {
      this.emit('event', {
        type: 'target.status',
        ...ref,
        from: e.from,
        to: e.to,
        cause: e.cause,
        detail: e.detail,
        at,
      });
    } else if (e.type === 'suppressed') {
      const releaseAt = e.releaseAt === null ? null : Math.round(at + (e.releaseAt - this.#timers.now()));
      this.emit('event', {
        type: 'target.suppressed',
        ...ref,
        penalty: Math.round(e.penalty),
        releaseAt,
        at,
      });
    } else {
      this.emit('event', { type: 'target.released', ...ref, at });
    }
  }

  #rsHealth(svc: ServiceRuntime, rs: string): Health {
    const keys = svc.planned.rsTargets.get(rs) ?? [];
    return combineHealth(keys.map((k) => this.#targets.get(k)?.state.status ?? 'unknown'));
  }

  #evaluate(svc: ServiceRuntime): ServiceView {
    const spec = svc.planned.spec;
    return evaluateService(
      {
        name: spec.name,
        minHealthy: spec.minHealthy,
        hysteresis: spec.hysteresis ?? 0,
        sorryServer: spec.sorryServer ?? null,
        sorryWeight: spec.sorryWeight ?? 1,
        realServers: spec.realServers.map((r) => ({ id: r.id, weight: r.weight })),
      },
      svc.status,
      {
        health: (rs) => this.#rsHealth(svc, rs),
        drained: (rs) => this.#drains.isDrained(rs, spec.name),
        weight: (rs, configured) => this.#drains.weightFor(rs, spec.name, configured),
      },
    );
  }

  /**
   * Re-evaluates the services that use `targetKey` (all when null) and emits what changed:
   * real server transitions, service transitions, then new backends for the forwarder.
   */
  #recompute(targetKey: string | null, publishAll: boolean): void {
    const at = this.#timers.wallNow();
    for (const svc of this.#services.values()) {
      const { spec, rsTargets } = svc.planned;
      if (targetKey !== null && ![...rsTargets.values()].some((keys) => keys.includes(targetKey))) continue;
      for (const rs of spec.realServers) {
        const now = this.#rsHealth(svc, rs.id);
        const before = svc.rsHealth.get(rs.id) ?? 'unknown';
        if (now === before) continue;
        svc.rsHealth.set(rs.id, now);
        if (now === 'down') {
          this.emit('event', {
            type: 'realserver.down',
            service: spec.name,
            realserver: rs.id,
            from: before,
            reason: this.#downDetail(svc, rs.id),
            at,
          });
        } else if (now === 'up') {
          this.emit('event', {
            type: 'realserver.up',
            service: spec.name,
            realserver: rs.id,
            from: before,
            at,
          });
        }
      }
      const view = this.#evaluate(svc);
      const from = svc.status;
      svc.status = view.status;
      if (view.status !== from && view.status === 'down') {
        this.emit('event', { type: 'service.down', service: spec.name, from, reason: downReason(view), at });
      } else if (view.status !== from && view.status === 'up') {
        this.emit('event', { type: 'service.up', service: spec.name, from, realServersUp: view.healthy, at });
      }
      const changed = backendsChanged(svc.view?.backends, view.backends);
      svc.view = view;
      if (changed || publishAll) {
        this.emit('event', {
          type: 'backends',
          service: spec.name,
          backends: view.backends,
          sorryActive: view.sorryActive,
          at,
        });
      }
    }
  }

  #downDetail(svc: ServiceRuntime, rs: string): string {
    for (const key of svc.planned.rsTargets.get(rs) ?? []) {
      const t = this.#targets.get(key);
      if (t?.state.status === 'down')
        return `${t.plan.kind} check of ${t.plan.address} port ${t.plan.port}: ${t.state.lastFailure ?? 'down'}`;
    }
    return 'down';
  }

  // ---- outputs for the forwarder and the election ----

  /** Current backends of a service with their effective weights (forwarder input). */
  backends(service: string): Backend[] {
    const svc = this.#service(service);
    return (svc.view ?? this.#evaluate(svc)).backends.map((b) => ({ ...b }));
  }

  serviceStatus(service: string): Health {
    return this.#service(service).status;
  }

  /** Tracked conditions for the election: a service fails while it is down (not while unknown). */
  trackedServices(): { service: string; failed: boolean }[] {
    return [...this.#services.values()].map((s) => ({
      service: s.planned.spec.name,
      failed: s.status === 'down',
    }));
  }

  /**
   * The election's tracked conditions for the services a VIP group tracks (config
   * `vip_groups[].track.services`): each fails while its service is down, and the group lowers its
   * priority by the weight (0: Fault). A name this part does not know never fails (the config
   * validates references; an unknown one must not take a director out).
   */
  trackedConditions(tracks: readonly { name: string; weight: number }[]): TrackedCondition[] {
    return tracks.map((t) => ({
      name: t.name,
      weight: t.weight,
      failed: this.#services.get(t.name)?.status === 'down',
    }));
  }

  /** Whether the forwarder may create a new persistence entry towards `rs` in `service`. */
  allowsNewPersistence(rs: string, service: string): boolean {
    return this.#drains.allowsNewPersistence(rs, service);
  }

  // ---- drain and weights (dsrctl drain / enable / weight) ----

  #service(name: string): ServiceRuntime {
    const svc = this.#services.get(name);
    if (!svc) throw new DsrError('E_ADMIN_REQUEST', `no service named ${name}`, { service: name });
    return svc;
  }

  /** Services containing `rs` (only `service` when given); an unknown name is an error. */
  #scopeOf(rs: string, service: string | null | undefined): ServiceRuntime[] {
    const scope = service ? [this.#service(service)] : [...this.#services.values()];
    const found = scope.filter((s) => s.planned.spec.realServers.some((r) => r.id === rs));
    if (found.length === 0) {
      const where = service ? ` in service ${service}` : '';
      throw new DsrError('E_ADMIN_REQUEST', `no real server ${rs}${where}`, { rs, service: service ?? null });
    }
    return found;
  }

  drain(
    rs: string,
    options: { service?: string | null; timeoutMs?: number; stopPersistence?: boolean } = {},
  ): DrainEntry {
    const scope = this.#scopeOf(rs, options.service);
    // Defaults from the services concerned: the longest timeout (0 = none wins) and, for
    // persistence, stop if any of them says so.
    const timeouts = scope.map((s) => s.planned.spec.drainTimeoutMs);
    const timeoutMs = options.timeoutMs ?? (timeouts.includes(0) ? 0 : Math.max(...timeouts));
    const stopPersistence =
      options.stopPersistence ?? scope.some((s) => s.planned.spec.drainStopsPersistence);
    this.#afterDrainChange(
      this.#drains.drain(rs, { service: options.service ?? null, timeoutMs, stopPersistence }),
    );
    return this.#entry(rs, options.service ?? null)!;
  }

  enable(rs: string, service?: string | null): void {
    this.#scopeOf(rs, service);
    this.#afterDrainChange(this.#drains.enable(rs, service));
  }

  setWeight(rs: string, weight: number | null, service?: string | null): void {
    this.#scopeOf(rs, service);
    this.#afterDrainChange(this.#drains.setWeight(rs, weight, service));
  }

  #entry(rs: string, service: string | null): DrainEntry | undefined {
    return this.#drains.entries().find((d) => d.rs === rs && d.service === service);
  }

  /**
   * Resolves with the finished drain of `rs` (in `service`, or the all-services drain) when it
   * completes; rejects if it is enabled first, does not exist, or `signal` aborts.
   */
  waitForDrain(rs: string, service: string | null, signal?: AbortSignal): Promise<DrainEntry> {
    const entry = this.#entry(rs, service);
    if (!entry)
      return Promise.reject(new DsrError('E_ADMIN_REQUEST', `${rs} is not being drained`, { rs, service }));
    if (entry.state === 'drained') return Promise.resolve(entry);
    return new Promise((resolve, reject) => {
      const done = (): void => {
        this.off('event', onEvent);
        signal?.removeEventListener('abort', onAbort);
      };
      const onEvent = (e: HealthEvent): void => {
        if ((e.type !== 'drain.complete' && e.type !== 'drain.ended') || e.rs !== rs || e.service !== service)
          return;
        done();
        if (e.type === 'drain.complete') resolve(this.#entry(rs, service)!);
        else
          reject(
            new DsrError('E_ADMIN_REQUEST', `the drain of ${rs} was ended before it completed`, {
              rs,
              service,
            }),
          );
      };
      const onAbort = (): void => {
        done();
        reject(new DsrError('E_TIMEOUT', `stopped waiting for the drain of ${rs}`, { rs, service }));
      };
      this.on('event', onEvent);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  drainSnapshot(): DrainSnapshot {
    return this.#drains.snapshot();
  }

  /** Takes the drain state of a peer (sync or takeover); a bad snapshot throws and changes nothing. */
  restoreDrains(snapshot: unknown): void {
    this.#drains.restore(snapshot);
    this.emit('event', {
      type: 'drains.restored',
      drains: this.#drains.entries().length,
      weights: this.#drains.weights().length,
      at: this.#timers.wallNow(),
    });
    if (this.#running) this.#recompute(null, false);
    this.#armDrainTick();
  }

  #afterDrainChange(events: DrainEvent[]): void {
    for (const e of events) this.emit('event', e);
    if (events.length > 0 && this.#running) this.#recompute(null, false);
    this.#armDrainTick();
  }

  #armDrainTick(): void {
    if (!this.#running || this.#drainTimer !== undefined || !this.#drains.active) return;
    this.#drainTimer = this.#timers.setTimeout(() => {
      this.#drainTimer = undefined;
      if (!this.#running) return;
      for (const e of this.#drains.tick()) this.emit('event', e);
      this.#armDrainTick();
    }, this.#o.drainTickMs ?? 1000);
  }

  // ---- status ----

  status(): HealthStatus {
    return buildStatus({
      now: this.#timers.now(),
      services: [...this.#services.values()].map((s) => ({
        spec: s.planned.spec,
        status: s.status,
        view: s.view ?? this.#evaluate(s),
        targets: (rs: string) =>
          (s.planned.rsTargets.get(rs) ?? []).map((k) => this.#targets.get(k)!).filter(Boolean),
      })),
      drains: this.#drains.entries(),
      weights: this.#drains.weights(),
      scheduler: this.#scheduler.stats(),
      running: this.#running,
    });
  }
}
