/**
 * Public API of the health package: checks of real servers, service quorum, drains.
 * Other parts import from here only. See health/README.md.
 */

export type {
  CheckSpec,
  DnsCheckSpec,
  ExecCheckSpec,
  HttpCheckSpec,
  TcpCheckSpec,
  UdpCheckSpec,
} from './check-spec.ts';
export { DEFAULT_TIMING, resolveTiming } from './check-spec.ts';
export type { Checker, CheckResult, CheckTarget } from './checker.ts';
export { type CheckerFactory, createChecker } from './checkers/create-checker.ts';
export {
  type DrainEntry,
  type DrainEvent,
  type DrainSnapshot,
  DrainTracker,
  type FlowCounter,
  MAX_WEIGHT,
  type WeightOverride,
} from './drain-tracker.ts';
export { HealthEngine, type HealthEngineOptions, type TrackedCondition } from './engine.ts';
export { type DampingConfig, DEFAULT_DAMPING } from './flap-damping.ts';
export { checkSpecFromConfig, healthSpecFromConfig, serviceSpecFromConfig } from './from-config.ts';
export type { HealthEvent, HealthEventType, TargetRef } from './health-events.ts';
export type { HealthRealServerSpec, HealthServiceSpec, HealthSpec } from './health-spec.ts';
export type { CheckStatus, HealthStatus, RealServerStatus, ServiceStatus } from './health-status.ts';
export type { Backend, ServiceView } from './service-health.ts';
export type { Health } from './target-health.ts';
export { systemTimers, type Timers } from './timers.ts';
