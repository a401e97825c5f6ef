/**
 * The operator's drain and weight commands (dsrctl drain / enable / weight) and the detailed
 * health view, answered from the health engine (admin/catalogue/commands.ts has their arguments
 * and results).
 *
 * `drain` with `wait` streams the countdown as progress events and answers when the drain
 * completes (no flows left, or the timeout); if the caller goes away the drain carries on.
 */
import { CATALOGUE } from '../../admin/catalogue/commands.ts';
import type { CommandRegistry } from '../../admin/registry.ts';
import { DsrError } from '../../core/errors.ts';
import type { HealthEngine } from '../../health/engine.ts';
import type { HealthEvent } from '../../health/health-events.ts';

/** Registers the commands; `part()` gives the running health part (or throws while stopped). */
export function registerHealthCommands(registry: CommandRegistry, part: () => HealthEngine): () => void {
  const offs = [
    registry.handle(CATALOGUE.drain, async (a, ctx) => {
      const p = part();
      const scope = a.service ?? null;
      const timeoutMs = a.timeoutS === undefined ? undefined : Math.round(a.timeoutS * 1000);
      const entry = p.drain(a.rs, { service: scope, timeoutMs });
      if (!a.wait) return entry;
      const onEvent = (e: HealthEvent): void => {
        if (e.type !== 'drain.progress' || e.rs !== a.rs || e.service !== scope) return;
        ctx.progress({
          rs: e.rs,
          service: e.service,
          remaining: e.remaining,
          closing: e.closing,
          secondsLeft: e.msLeft === null ? null : Math.ceil(e.msLeft / 1000),
        });
      };
      p.on('event', onEvent);
      try {
        return await p.waitForDrain(a.rs, scope, ctx.signal);
      } finally {
        p.off('event', onEvent);
      }
    }),
    registry.handle(CATALOGUE.enable, (a) => {
      part().enable(a.rs, a.service ?? null);
      return { rs: a.rs, service: a.service ?? null };
    }),
    registry.handle(CATALOGUE.weight, (a) => {
      part().setWeight(a.rs, a.weight, a.service ?? null);
      return { rs: a.rs, service: a.service ?? null, weight: a.weight };
    }),
    registry.handle(CATALOGUE.health, () => part().status()),
  ];
  return () => {
    for (const off of offs) off();
  };
}

export function notRunning(): never {
  throw new DsrError('E_ADMIN_REQUEST', 'health checks are not running on this director');
}
