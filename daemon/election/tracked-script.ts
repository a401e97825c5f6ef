/**
 * `track.scripts` of a VIP group (like keepalived's track_script): a program run every interval,
 * without a shell, whose exit status says whether a condition holds (0 = fine). `fall` failures
 * in a row make the condition fail, `rise` successes in a row clear it. The election turns a
 * failing condition into a lower priority (weight) or Fault (weight 0).
 */
import type { TrackedScript as TrackedScriptConfig } from '../../config/index.ts';
import type { Checker } from '../../health/index.ts';
import { createChecker } from '../../health/index.ts';

/** Pure rise/fall counting. A script is presumed fine until it has failed `fall` times. */
export class RiseFall {
  readonly #rise: number;
  readonly #fall: number;
  #failing = false;
  #streak = 0;

  constructor(rise: number, fall: number) {
    this.#rise = Math.max(1, rise);
    this.#fall = Math.max(1, fall);
  }

  get failing(): boolean {
    return this.#failing;
  }

  /** Records one result; returns the new state when it changed, else undefined. */
  record(ok: boolean): boolean | undefined {
    // A result that agrees with the current state resets the streak towards the other one.
    if (ok !== this.#failing) {
      this.#streak = 0;
      return undefined;
    }
    this.#streak++;
    if (this.#streak < (this.#failing ? this.#rise : this.#fall)) return undefined;
    this.#failing = !this.#failing;
    this.#streak = 0;
    return this.#failing;
  }
}

export type ScriptResultListener = (failing: boolean, detail: string) => void;

/** Runs one script on a timer; a run never overlaps the previous one. */
export class TrackedScriptRunner {
  readonly name: string;
  readonly #config: TrackedScriptConfig;
  readonly #checker: Checker;
  readonly #state: RiseFall;
  readonly #onChange: ScriptResultListener;
  #timer: NodeJS.Timeout | undefined;
  #abort: AbortController | undefined;
  #running = false;
  lastDetail = '';

  constructor(config: TrackedScriptConfig, onChange: ScriptResultListener) {
    this.name = config.name;
    this.#config = config;
    this.#checker = createChecker({
      kind: 'exec',
      argv: config.command,
      intervalMs: config.intervalMs,
      timeoutMs: config.timeoutMs,
      rise: config.rise,
      fall: config.fall,
    });
    this.#state = new RiseFall(config.rise, config.fall);
    this.#onChange = onChange;
  }

  get failing(): boolean {
    return this.#state.failing;
  }

  start(): void {
    this.#running = true;
    this.#schedule(0);
  }

  stop(): void {
    this.#running = false;
    clearTimeout(this.#timer);
    this.#abort?.abort();
  }

  #schedule(ms: number): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => void this.#run(), ms);
  }

  async #run(): Promise<void> {
    const started = performance.now();
    this.#abort = new AbortController();
    const result = await this.#checker.check({ address: '0.0.0.0', port: 0 }, this.#abort.signal);
    if (!this.#running) return;
    this.lastDetail = result.detail;
    const changed = this.#state.record(result.ok);
    if (changed !== undefined) this.#onChange(changed, result.detail);
    this.#schedule(Math.max(0, this.#config.intervalMs - (performance.now() - started)));
  }
}
