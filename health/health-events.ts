/**
 * Everything the health part tells the rest of the daemon, as one union. All `at` fields are
 * wall-clock epoch ms. Only transitions are reported: a steady state produces no events.
 *
 * Suggested alert mapping (the daemon's alert adapter decides): realserver.down always;
 * realserver.up and service.up only when `from` is 'down' (not the first verdict after start);
 * service.down always; drain.complete always.
 */
import type { DrainEvent } from './drain-tracker.ts';
import type { Backend } from './service-health.ts';
import type { Health } from './target-health.ts';

export interface TargetRef {
  address: string;
  port: number;
  kind: string;
}

export type HealthEvent =
  | (TargetRef & {
      type: 'target.status';
      from: Health;
      to: Health;
      cause: 'checks' | 'damping';
      detail: string;
      at: number;
    })
  | (TargetRef & { type: 'target.suppressed'; penalty: number; releaseAt: number | null; at: number })
  | (TargetRef & { type: 'target.released'; at: number })
  | { type: 'realserver.down'; service: string; realserver: string; from: Health; reason: string; at: number }
  | { type: 'realserver.up'; service: string; realserver: string; from: Health; at: number }
  | { type: 'service.down'; service: string; from: Health; reason: string; at: number }
  | { type: 'service.up'; service: string; from: Health; realServersUp: number; at: number }
  /** The forwarder's input for one service changed: program these weights (Maglev rebuild). */
  | { type: 'backends'; service: string; backends: Backend[]; sorryActive: boolean; at: number }
  /** Drains and weights were replaced by a peer's (restoreDrains): counts taken before are stale. */
  | { type: 'drains.restored'; drains: number; weights: number; at: number }
  | DrainEvent;

export type HealthEventType = HealthEvent['type'];
