/**
 * The timing of one failover trial, derived from the stack's timers (pure):
 *
 *   probe flowing ─ pre ─► fault ─► takeover (≤ takeoverTimeout)      [link-down, kill9, planned]
 *                          fault ─ hold (2 × master-down) ─► SIGCONT   [sigstop]
 *   ─ settle ─► wait until replies flow (≤ recoveryTimeout) ─ tail ─► probe stopped
 *
 * `settle` leaves room for what happens after the last action (a resumed
 * master fighting back after SIGCONT takes up to a master-down interval);
 * `tail` catches a late blip after replies resumed. The probe's own run time
 * is bounded by the sum, so a stuck trial cannot run on.
 */
import type { CaseKind } from './stack.ts';

export interface TrialPlan {
  preMs: number;
  holdMs: number;
  takeoverTimeoutMs: number;
  settleMs: number;
  recoveryTimeoutMs: number;
  tailMs: number;
  maxDurationMs: number;
}

/** Long enough for a client to recover through ARP expiry alone (reachable time up to ~45 s, then probes). */
export const RECOVERY_TIMEOUT_MS = 60_000;

export function trialPlan(kind: CaseKind, advertMs: number, masterDownMs: number): TrialPlan {
  const preMs = 200;
  const holdMs = kind === 'sigstop' ? Math.ceil(2 * masterDownMs) : 0;
  const takeoverTimeoutMs = Math.ceil(10 * masterDownMs + 3000);
  const settleMs = kind === 'sigstop' ? Math.ceil(1.5 * masterDownMs + 200) : 100;
  const tailMs = Math.max(200, 2 * advertMs);
  const maxDurationMs = preMs + holdMs + takeoverTimeoutMs + settleMs + RECOVERY_TIMEOUT_MS + tailMs + 5000;
  return {
    preMs,
    holdMs,
    takeoverTimeoutMs,
    settleMs,
    recoveryTimeoutMs: RECOVERY_TIMEOUT_MS,
    tailMs,
    maxDurationMs,
  };
}
