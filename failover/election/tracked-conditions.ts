/**
 * Tracked conditions (link down, forwarder detached, operator flag, a script, later service
 * health): each either lowers the priority by a weight while failing, or forces the Fault state.
 * Like keepalived's track_interface / track_script, the effective priority stays within 1..254
 * however many weights apply: 0 is reserved for "I resign" (RFC 5798 §5.2.4).
 */
import { DsrError } from '../../core/errors.ts';
import { MAX_PRIORITY, MIN_PRIORITY } from './timing.ts';

export type TrackedConditionSpec =
  | { readonly name: string; readonly weight: number; readonly fault?: undefined }
  | { readonly name: string; readonly fault: true; readonly weight?: undefined };

export interface TrackedConditionStatus {
  readonly name: string;
  readonly failing: boolean;
  readonly effect: string;
}

export class TrackedConditions {
  readonly #specs = new Map<string, TrackedConditionSpec>();
  readonly #failing = new Set<string>();

  constructor(specs: readonly TrackedConditionSpec[] = []) {
    for (const spec of specs) {
      const name: string = spec.name;
      if (name.length === 0 || this.#specs.has(name)) {
        throw new DsrError('E_ELECTION_INPUT', 'tracked condition names must be unique and non-empty', {
          name,
        });
      }
      const weight: unknown = spec.weight;
      const fault: unknown = spec.fault;
      if (fault === true && weight === undefined) {
        this.#specs.set(name, spec);
        continue;
      }
      if (
        fault !== undefined ||
        !Number.isInteger(weight) ||
        (weight as number) < 1 ||
        (weight as number) > MAX_PRIORITY
      ) {
        throw new DsrError(
          'E_ELECTION_INPUT',
          `a tracked condition has either a weight 1..${MAX_PRIORITY} or fault: true`,
          { name, weight, fault },
        );
      }
      this.#specs.set(spec.name, spec);
    }
  }

  /** Unknown names fail loudly: a typo must not go unnoticed. */
  check(name: string): void {
    if (!this.#specs.has(name)) {
      throw new DsrError('E_ELECTION_INPUT', 'no tracked condition has this name', {
        name,
        known: [...this.#specs.keys()],
      });
    }
  }

  /** Returns whether anything changed. */
  set(name: string, failing: boolean): boolean {
    this.check(name);
    if (this.#failing.has(name) === failing) return false;
    if (failing) this.#failing.add(name);
    else this.#failing.delete(name);
    return true;
  }

  get faulted(): boolean {
    for (const name of this.#failing) if (this.#specs.get(name)!.fault) return true;
    return false;
  }

  effectivePriority(base: number): number {
    let priority = base;
    for (const name of this.#failing) priority -= this.#specs.get(name)!.weight ?? 0;
    return Math.min(MAX_PRIORITY, Math.max(MIN_PRIORITY, priority));
  }

  list(): TrackedConditionStatus[] {
    return [...this.#specs.values()].map((spec) => ({
      name: spec.name,
      failing: this.#failing.has(spec.name),
      effect: spec.fault ? 'fault' : `-${spec.weight}`,
    }));
  }
}
