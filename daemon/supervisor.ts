/**
 * Runs the daemon's parts: starts them in order, stops them in reverse order, and hands a config
 * change to the parts it concerns.
 *
 * Order is the contract: a part may use what the parts before it provide, and is stopped before
 * them. The election goes last in the start order so it is the first to stop: it resigns
 * (priority 0) while the forwarder is still running, and a backup takes over before we stop
 * forwarding.
 *
 * The supervisor knows nothing of the config format: the daemon gives it a context per part and
 * change objects, and each part says which changes concern it.
 */
import { DsrError } from '../core/errors.ts';
import { errorFields, type Logger } from '../core/log.ts';

export interface Part<Ctx, Change> {
  /** Short stable name: used in logs, status and errors ("forwarder", "election"...). */
  readonly name: string;
  start(ctx: Ctx): Promise<void> | void;
  /** Releases everything start() took. Called once, also after a failed start() of this part. */
  stop(): Promise<void> | void;
  /**
   * Applies a config change without a restart. A part with reload() and no affectedBy() gets
   * every change; a part with neither is never touched by a reload.
   */
  reload?(change: Change): Promise<void> | void;
  /**
   * Whether `change` concerns this part. A part that is concerned but has no reload() makes the
   * whole reload fail up front (nothing applied): the change needs a restart.
   */
  affectedBy?(change: Change): boolean;
  /**
   * Why this part, although it can reload, cannot apply this particular change live (e.g. a path
   * fixed while running); undefined when it can. A reason makes the reload fail up front.
   */
  cannotReload?(change: Change): string | undefined;
  /** Plain JSON-able status for `dsrctl status`. */
  status?(): unknown;
}

export type PartState = 'stopped' | 'starting' | 'running' | 'stopping' | 'failed';

export interface PartReport {
  name: string;
  state: PartState;
  status?: unknown;
  error?: string;
}

export interface ReloadPlan {
  /** Parts whose reload() will run, in start order. */
  reload: string[];
  /** Parts concerned by the change that cannot apply it live. */
  needRestart: string[];
}

export interface SupervisorOptions {
  log: Logger;
  /** A stop() that takes longer is abandoned (logged) so shutdown always finishes. */
  stopTimeoutMs?: number;
}

interface Slot<Ctx, Change> {
  part: Part<Ctx, Change>;
  state: PartState;
  error?: string;
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DsrError('E_TIMEOUT', `${what} did not finish within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export class Supervisor<Ctx, Change> {
  readonly #slots: Slot<Ctx, Change>[];
  readonly #log: Logger;
  readonly #stopTimeoutMs: number;
  /** Start, stop and reload run one at a time, in the order asked. */
  #queue: Promise<unknown> = Promise.resolve();
  #started = false;

  constructor(parts: readonly Part<Ctx, Change>[], options: SupervisorOptions) {
    const names = new Set<string>();
    for (const p of parts) {
      if (names.has(p.name)) throw new DsrError('E_INTERNAL', `two daemon parts are named "${p.name}"`);
      names.add(p.name);
    }
    this.#slots = parts.map((part) => ({ part, state: 'stopped' }));
    this.#log = options.log;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
  }

  get names(): string[] {
    return this.#slots.map((s) => s.part.name);
  }

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(work, work);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Starts every part in order. If one fails, the parts already started (and the failed one, to
   * release what it half took) are stopped in reverse order and E_PART_START names the part.
   */
  start(contextFor: (part: Part<Ctx, Change>) => Ctx): Promise<void> {
    return this.#serial(async () => {
      if (this.#started) throw new DsrError('E_INTERNAL', 'the daemon parts are already started');
      this.#started = true;
      for (let i = 0; i < this.#slots.length; i++) {
        const slot = this.#slots[i];
        slot.state = 'starting';
        this.#log.debug({ part: slot.part.name }, 'starting part');
        try {
          await slot.part.start(contextFor(slot.part));
          slot.state = 'running';
          this.#log.info({ part: slot.part.name }, 'part started');
        } catch (err) {
          slot.state = 'failed';
          slot.error = message(err);
          this.#log.error(
            { part: slot.part.name, ...errorFields(err) },
            'part failed to start; stopping the others',
          );
          const cleanupErrors = await this.#stopFrom(i);
          this.#started = false;
          const context: Record<string, unknown> = { part: slot.part.name };
          if (err instanceof DsrError) context.cause = err.code;
          if (cleanupErrors.length > 0) context.cleanupErrors = cleanupErrors;
          throw new DsrError(
            'E_PART_START',
            `part "${slot.part.name}" failed to start: ${message(err)}`,
            context,
            err,
          );
        }
      }
    });
  }

  /** Stops every started part in reverse order; a failing or hanging stop() does not stop the others. */
  stop(): Promise<string[]> {
    return this.#serial(async () => {
      if (!this.#started) return [];
      this.#started = false;
      return this.#stopFrom(this.#slots.length - 1);
    });
  }

  /** Stops slots index..0 (those not 'stopped'); returns "part: error" lines. */
  async #stopFrom(index: number): Promise<string[]> {
    const errors: string[] = [];
    for (let i = index; i >= 0; i--) {
      const slot = this.#slots[i];
      if (slot.state === 'stopped') continue;
      const failedStart = slot.state === 'failed';
      slot.state = 'stopping';
      try {
        await withTimeout(
          Promise.resolve().then(() => slot.part.stop()),
          this.#stopTimeoutMs,
          `stop of "${slot.part.name}"`,
        );
        slot.state = failedStart ? 'failed' : 'stopped';
        this.#log.info({ part: slot.part.name }, 'part stopped');
      } catch (err) {
        slot.state = 'failed';
        slot.error = message(err);
        errors.push(`${slot.part.name}: ${message(err)}`);
        this.#log.error({ part: slot.part.name, ...errorFields(err) }, 'part failed to stop cleanly');
      }
    }
    return errors;
  }

  plan(change: Change): ReloadPlan {
    const plan: ReloadPlan = { reload: [], needRestart: [] };
    for (const { part } of this.#slots) {
      const concerned = part.affectedBy === undefined ? part.reload !== undefined : part.affectedBy(change);
      if (!concerned) continue;
      const why = part.reload === undefined ? 'cannot reload' : part.cannotReload?.(change);
      if (why === undefined) plan.reload.push(part.name);
      else plan.needRestart.push(part.reload === undefined ? part.name : `${part.name} (${why})`);
    }
    return plan;
  }

  /**
   * Hands `change` to the parts it concerns, in start order. Refused before anything is applied if
   * a concerned part cannot reload. If a part's reload fails, it and the parts already reloaded are
   * given `undo` (the change back to the old config), newest first, and E_RELOAD names the part.
   */
  reload(change: Change, undo: Change): Promise<ReloadPlan> {
    return this.#serial(async () => {
      if (!this.#started) throw new DsrError('E_RELOAD', 'the daemon is not running; nothing to reload');
      const plan = this.plan(change);
      if (plan.needRestart.length > 0) {
        throw new DsrError(
          'E_RELOAD',
          `this change needs a restart of dsrd: part(s) ${plan.needRestart.join(', ')} cannot apply it live; old config kept`,
          { needRestart: plan.needRestart },
        );
      }
      const done: Slot<Ctx, Change>[] = [];
      for (const slot of this.#slots) {
        if (!plan.reload.includes(slot.part.name)) continue;
        try {
          await slot.part.reload!(change);
          done.push(slot);
          this.#log.info({ part: slot.part.name }, 'part reloaded');
        } catch (err) {
          this.#log.error({ part: slot.part.name, ...errorFields(err) }, 'part failed to reload; undoing');
          const undoErrors: string[] = [];
          // The failing part goes back too: reload means "move to this config", so asking it to
          // move back also repairs a half-applied change.
          for (const prev of [slot, ...done.reverse()]) {
            try {
              await prev.part.reload!(undo);
            } catch (e) {
              undoErrors.push(`${prev.part.name}: ${message(e)}`);
              this.#log.error({ part: prev.part.name, ...errorFields(e) }, 'part failed to undo its reload');
            }
          }
          const context: Record<string, unknown> = {
            part: slot.part.name,
            undone: done.map((s) => s.part.name),
          };
          if (undoErrors.length > 0) context.undoErrors = undoErrors;
          throw new DsrError(
            'E_RELOAD',
            `part "${slot.part.name}" could not apply the new config: ${message(err)}; old config kept`,
            context,
            err,
          );
        }
      }
      return plan;
    });
  }

  report(): PartReport[] {
    return this.#slots.map((slot) => {
      const r: PartReport = { name: slot.part.name, state: slot.state };
      if (slot.error !== undefined) r.error = slot.error;
      if (slot.state === 'running' && slot.part.status !== undefined) {
        try {
          r.status = slot.part.status();
        } catch (err) {
          r.error = `status failed: ${message(err)}`;
        }
      }
      return r;
    });
  }
}
