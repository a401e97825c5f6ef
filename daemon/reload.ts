/**
 * Config reload (SIGHUP, `dsrctl config reload`): read and validate the whole new file first; on
 * any error keep running the old config and say why; otherwise hand the change only to the parts
 * it concerns (supervisor.reload), and only then make it the current config.
 *
 * systemd is told RELOADING=1 at the start and READY=1 at the end, whatever the outcome: a
 * failed reload leaves the service running the old config, which is a ready service.
 */

import type { ConfigChangeSummary } from '../admin/catalogue/config.ts';
import type { ReloadRecord } from '../admin/catalogue/status.ts';
import { type Config, configFingerprint, diffConfig, formatConfigDiff } from '../config/index.ts';
import { DsrError, isDsrError } from '../core/errors.ts';
import { errorFields, type Logger } from '../core/log.ts';
import type { Notifier } from '../core/systemd/notify.ts';
import { type ConfigChange, changedSections } from './change.ts';
import type { PartContext } from './part.ts';
import type { Supervisor } from './supervisor.ts';

export interface ReloaderOptions {
  path: string;
  /** Reads and fully validates a config file (config's loadConfig); throws E_CONFIG_*. */
  load: (path: string) => Promise<Config>;
  supervisor: Supervisor<PartContext, ConfigChange>;
  notifier: Notifier;
  log: Logger;
  initial: Config;
  now?: () => Date;
}

export class Reloader {
  readonly path: string;
  readonly #o: ReloaderOptions;
  readonly #now: () => Date;
  #current: Config;
  #loadedAt: Date;
  #last: ReloadRecord | null = null;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(options: ReloaderOptions) {
    this.#o = options;
    this.path = options.path;
    this.#now = options.now ?? (() => new Date());
    this.#current = options.initial;
    this.#loadedAt = this.#now();
  }

  get current(): Config {
    return this.#current;
  }

  get loadedAt(): Date {
    return this.#loadedAt;
  }

  get last(): ReloadRecord | null {
    return this.#last;
  }

  /** What running `candidate` instead of the current config would change (config.diff). */
  preview(candidate: Config): ConfigChangeSummary {
    return this.#summary({
      previous: this.#current,
      next: candidate,
      diff: diffConfig(this.#current, candidate),
    });
  }

  #summary(change: ConfigChange): ConfigChangeSummary {
    const plan = this.#o.supervisor.plan(change);
    return {
      changed: !change.diff.empty,
      sections: changedSections(change.diff),
      changes: change.diff.empty ? [] : formatConfigDiff(change.diff),
      parts: change.diff.empty ? [] : plan.reload,
      needRestart: [...change.diff.restartRequired, ...plan.needRestart],
      fingerprint: configFingerprint(change.next),
      fingerprintSame: change.diff.fingerprint === null,
    };
  }

  /** Reloads from the config file; reloads run one after another. */
  reload(source: string): Promise<ConfigChangeSummary> {
    const run = this.#queue.then(
      () => this.#reload(source),
      () => this.#reload(source),
    );
    this.#queue = run.catch(() => undefined);
    return run;
  }

  async #reload(source: string): Promise<ConfigChangeSummary> {
    const { log, notifier } = this.#o;
    log.info({ source, path: this.path }, 'reloading config');
    notifier.reloading(`reloading ${this.path}`);
    try {
      const summary = await this.#apply();
      this.#record(true, null, summary.parts);
      log.info(
        { source, sections: summary.sections, parts: summary.parts },
        summary.changed ? 'config reloaded' : 'config unchanged',
      );
      notifier.ready(
        summary.changed ? `config reloaded: ${summary.sections.join(', ')}` : 'config unchanged',
      );
      return summary;
    } catch (err) {
      const error = isDsrError(err) ? err : new DsrError('E_RELOAD', String(err));
      this.#record(false, error.message, []);
      log.error({ source, ...errorFields(error) }, 'config reload refused; the old config keeps running');
      notifier.ready(`reload failed, running the previous config: ${error.code}`);
      throw error;
    }
  }

  async #apply(): Promise<ConfigChangeSummary> {
    let next: Config;
    try {
      next = await this.#o.load(this.path);
    } catch (err) {
      if (!isDsrError(err)) throw err;
      throw new DsrError(
        'E_RELOAD',
        `the new config is not valid; the old config keeps running:\n${err.message.replace(/^E_CONFIG_\w+: /, '')}`,
        { cause: err.code, errors: err.context.errors ?? [] },
        err,
      );
    }
    const previous = this.#current;
    const change: ConfigChange = { previous, next, diff: diffConfig(previous, next) };
    const summary = this.#summary(change);
    if (!summary.changed) return summary;
    if (change.diff.restartRequired.length > 0) {
      throw new DsrError(
        'E_RELOAD',
        `this change needs a restart of dsrd (${change.diff.restartRequired.join('; ')}); the old config keeps running`,
        { restartRequired: change.diff.restartRequired },
      );
    }
    const undo: ConfigChange = { previous: next, next: previous, diff: diffConfig(next, previous) };
    await this.#o.supervisor.reload(change, undo);
    this.#current = next;
    this.#loadedAt = this.#now();
    return summary;
  }

  #record(ok: boolean, error: string | null, parts: string[]): void {
    this.#last = { at: this.#now().toISOString(), ok, error, parts };
  }
}
