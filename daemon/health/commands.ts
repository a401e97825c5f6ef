/**
 * The operator's drain and weight commands (dsrctl drain / enable / weight) and the detailed
 * health view, as admin commands on the daemon's registry.
 *
 * `drain` with `wait` streams the countdown as progress events and answers when the drain
 * completes (no flows left, or the timeout); if the caller goes away the drain carries on.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import type { CommandRegistry } from '../../admin/registry.ts';
import { DsrError } from '../../core/errors.ts';
import { type DrainEntry, MAX_WEIGHT } from '../../health/drain-tracker.ts';
import type { HealthEngine } from '../../health/engine.ts';
import type { HealthEvent } from '../../health/health-events.ts';

/** Command names; dsrctl sends these. */
export const HEALTH_CMD = {
  drain: 'drain',
  enable: 'enable',
  weight: 'weight',
  health: 'health',
} as const;

const rs = z
  .string()
  .refine((s) => isIP(s) !== 0, { error: 'expected the real server address (IPv4 or IPv6)' });
const service = z.string().min(1).max(256);

export const DrainArgs = z
  .object({
    rs,
    service: service.optional(),
    /** Seconds; default the service's drain.timeout_s; 0 = no timeout. */
    timeoutS: z.number().min(0).max(604_800).optional(),
    /** Answer only once the drain completes, with progress events meanwhile. */
    wait: z.boolean().default(false),
  })
  .strict();
export type DrainArgs = z.infer<typeof DrainArgs>;

export const EnableArgs = z.object({ rs, service: service.optional() }).strict();

export const WeightArgs = z
  .object({
    rs,
    /** null returns the real server to its configured weight. */
    weight: z.number().int().min(0).max(MAX_WEIGHT).nullable(),
    service: service.optional(),
  })
  .strict();

export interface DrainProgress {
  rs: string;
  service: string | null;
  remaining: number;
  /** Seconds left before the timeout; null without one. */
  secondsLeft: number | null;
}

/** Registers the commands; `part()` gives the running health part (or throws while stopped). */
export function registerHealthCommands(registry: CommandRegistry, part: () => HealthEngine): () => void {
  const offs = [
    registry.register({
      name: HEALTH_CMD.drain,
      summary: 'stop new flows to a real server and report when its flows are gone',
      args: DrainArgs,
      run: async (a, ctx): Promise<DrainEntry> => {
        const p = part();
        const scope = a.service ?? null;
        const timeoutMs = a.timeoutS === undefined ? undefined : Math.round(a.timeoutS * 1000);
        const entry = p.drain(a.rs, { service: scope, timeoutMs });
        if (!a.wait) return entry;
        const onEvent = (e: HealthEvent): void => {
          if (e.type !== 'drain.progress' || e.rs !== a.rs || e.service !== scope) return;
          const progress: DrainProgress = {
            rs: e.rs,
            service: e.service,
            remaining: e.remaining,
            secondsLeft: e.msLeft === null ? null : Math.ceil(e.msLeft / 1000),
          };
          ctx.progress(progress);
        };
        p.on('event', onEvent);
        try {
          return await p.waitForDrain(a.rs, scope, ctx.signal);
        } finally {
          p.off('event', onEvent);
        }
      },
    }),
    registry.register({
      name: HEALTH_CMD.enable,
      summary: 'end the drain of a real server: it takes new flows again',
      args: EnableArgs,
      run: (a) => {
        part().enable(a.rs, a.service ?? null);
        return { rs: a.rs, service: a.service ?? null };
      },
    }),
    registry.register({
      name: HEALTH_CMD.weight,
      summary: 'set the weight of a real server (null: back to the configured one)',
      args: WeightArgs,
      run: (a) => {
        part().setWeight(a.rs, a.weight, a.service ?? null);
        return { rs: a.rs, service: a.service ?? null, weight: a.weight };
      },
    }),
    registry.register({
      name: HEALTH_CMD.health,
      summary: 'health checks, services, drains and weights in detail',
      args: z.object({}).strict(),
      run: () => part().status(),
    }),
  ];
  return () => {
    for (const off of offs) off();
  };
}

export function notRunning(): never {
  throw new DsrError('E_ADMIN_REQUEST', 'health checks are not running on this director');
}
