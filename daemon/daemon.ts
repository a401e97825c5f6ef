/**
 * dsrd: composes the parts under a supervisor, answers the core admin commands, reloads config
 * and reports status. Process concerns (argv, signals, exit) stay in daemon/main.ts and signals.ts.
 */

import type { DaemonStatus } from '../admin/catalogue/status.ts';
import type { CommandRegistry } from '../admin/registry.ts';
import type { Config } from '../config/index.ts';
import { configFingerprint } from '../config/index.ts';
import type { EventLoopMonitor } from '../core/eventloop.ts';
import { errorFields, type Logger, type LogRoot } from '../core/log.ts';
import type { Notifier } from '../core/systemd/notify.ts';
import type { ConfigChange } from './change.ts';
import { registerCoreCommands } from './commands.ts';
import type { DaemonPart, PartContext } from './part.ts';
import { Reloader } from './reload.ts';
import { mergeView, viewFromConfig } from './status.ts';
import { Supervisor } from './supervisor.ts';

export interface DaemonOptions {
  configPath: string;
  config: Config;
  /** Reads and validates a config file (config's loadConfig). */
  load: (path: string) => Promise<Config>;
  logRoot: LogRoot;
  notifier: Notifier;
  eventLoop: EventLoopMonitor;
  registry: CommandRegistry;
  /** Every part, in start order (parts.ts builds the list). */
  parts: readonly DaemonPart[];
  version: string;
  stopTimeoutMs?: number;
  /** Monotonic ms, for uptime. */
  now?: () => number;
}

type State = 'created' | 'starting' | 'running' | 'stopping' | 'stopped';

export class Daemon {
  readonly #o: DaemonOptions;
  readonly #supervisor: Supervisor<PartContext, ConfigChange>;
  readonly #reloader: Reloader;
  readonly #abort = new AbortController();
  readonly #now: () => number;
  readonly #startedAt: number;
  readonly #unregister: () => void;
  #state: State = 'created';
  #stopping: Promise<void> | undefined;
  #exitCode = 0;
  #resolveDone!: (code: number) => void;
  /** Resolves with the exit status once the daemon has stopped. */
  readonly done: Promise<number>;

  constructor(options: DaemonOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => performance.now());
    this.#startedAt = this.#now();
    const log = options.logRoot.child({ component: 'daemon' });
    this.#supervisor = new Supervisor(options.parts, { log, stopTimeoutMs: options.stopTimeoutMs });
    this.#reloader = new Reloader({
      path: options.configPath,
      load: options.load,
      supervisor: this.#supervisor,
      notifier: options.notifier,
      log,
      initial: options.config,
    });
    this.#unregister = registerCoreCommands({
      registry: options.registry,
      status: () => this.status(),
      reloader: this.#reloader,
      logRoot: options.logRoot,
    });
    this.done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  get log(): Logger {
    return this.#o.logRoot.logger;
  }

  /** Marks the exit status as a failure (e.g. after an uncaught exception) without stopping. */
  fail(): void {
    this.#exitCode = 1;
  }

  get config(): Config {
    return this.#reloader.current;
  }

  #context(part: DaemonPart): PartContext {
    return {
      config: this.#reloader.current,
      currentConfig: () => this.#reloader.current,
      log: this.#o.logRoot.child({ part: part.name }),
      admin: this.#o.registry,
      eventLoop: this.#o.eventLoop,
      signal: this.#abort.signal,
      fatal: (err) => {
        this.log.fatal({ part: part.name, ...errorFields(err) }, 'a part cannot go on; stopping the daemon');
        this.#exitCode = 1;
        void this.stop(`fatal error in part ${part.name}`);
      },
    };
  }

  async start(): Promise<void> {
    this.#state = 'starting';
    const c = this.config;
    this.log.info(
      {
        node: c.node.id,
        config: this.#o.configPath,
        parts: this.#supervisor.names,
        version: this.#o.version,
      },
      'dsrd starting',
    );
    try {
      await this.#supervisor.start((part) => this.#context(part));
    } catch (err) {
      this.#state = 'stopped';
      this.#unregister();
      this.#o.notifier.stopping(`start failed: ${(err as Error).message}`);
      this.#resolveDone(1);
      throw err;
    }
    if (this.#stopping !== undefined) return; // a SIGTERM came during the start
    this.#state = 'running';
    const status = `node ${c.node.id}: ${c.vipGroups.length} VIP group(s), ${c.services.length} service(s)`;
    this.#o.notifier.ready(status);
    this.log.info('dsrd running');
  }

  reload(source: string) {
    return this.#reloader.reload(source);
  }

  /** Graceful stop: parts in reverse start order (the election, started last, resigns first). */
  stop(reason: string): Promise<void> {
    if (this.#stopping !== undefined) return this.#stopping;
    this.#stopping = (async () => {
      this.#state = 'stopping';
      this.log.info({ reason }, 'dsrd stopping');
      this.#o.notifier.stopping(`stopping: ${reason}`);
      this.#abort.abort();
      const errors = await this.#supervisor.stop();
      this.#unregister();
      if (errors.length > 0) this.#exitCode = 1;
      this.#state = 'stopped';
      this.log.info({ errors }, 'dsrd stopped');
      this.#resolveDone(this.#exitCode);
    })();
    return this.#stopping;
  }

  status(): DaemonStatus {
    const config = this.config;
    const parts = this.#supervisor.report();
    const el = this.#o.eventLoop.status();
    const view = mergeView(
      viewFromConfig(config),
      parts.map((p) => p.status),
    );
    const state =
      this.#state === 'running'
        ? 'running'
        : this.#state === 'starting' || this.#state === 'created'
          ? 'starting'
          : 'stopping';
    return {
      node: config.node.id,
      pid: process.pid,
      version: this.#o.version,
      state,
      uptimeS: Math.round((this.#now() - this.#startedAt) / 1000),
      config: {
        path: this.#o.configPath,
        fingerprint: configFingerprint(config),
        loadedAt: this.#reloader.loadedAt.toISOString(),
        lastReload: this.#reloader.last,
      },
      log: { level: this.#o.logRoot.level },
      eventLoop: {
        delayP99Ms: el.delay.p99Ms,
        delayMaxMs: el.delay.maxMs,
        stalls: el.stalls,
        maxGapMs: el.maxGapMs,
        lastStall: el.lastStall,
      },
      parts,
      ...view,
    };
  }
}
