/**
 * dsrd entry point (bin/dsrd.js imports this).
 *
 *   dsrd [--config FILE]          run the daemon
 *   dsrd --check [--config FILE]  validate the config and exit 0 (valid) or 1 (errors as file:line:col)
 *   dsrd --cleanup [--config FILE]  remove the VIPs a director that ended without releasing left
 *                                 (the unit's ExecStopPost=; cleanup.ts)
 *
 * Exit status: 0 clean stop; 1 bad config, a part failed to start or to stop; 2 bad command line.
 */
import { parseArgs } from 'node:util';
import { CommandRegistry } from '../admin/registry.ts';
import { checkConfigFile, DEFAULT_CONFIG_PATH, loadConfig } from '../config/index.ts';
import { DsrError } from '../core/errors.ts';
import { EventLoopMonitor } from '../core/eventloop.ts';
import { EXIT_FAILED, EXIT_OK, EXIT_USAGE } from '../core/exit.ts';
import { errorFields, LogRoot } from '../core/log.ts';
import { stdoutIsJournal } from '../core/systemd/journal.ts';
import { notifierFromEnv } from '../core/systemd/notify.ts';
import { productVersion } from '../core/version.ts';
import { type CleanupReport, cleanup, formatCleanup } from './cleanup.ts';
import { Daemon } from './daemon.ts';
import { buildParts } from './parts.ts';
import { installSignalHandlers } from './signals.ts';
import { USAGE } from './usage.ts';

async function check(path: string, json: boolean): Promise<number> {
  const r = await checkConfigFile(path);
  if (json) {
    process.stdout.write(
      `${JSON.stringify({ ok: r.ok, file: r.file, summary: r.summary, fingerprint: r.fingerprint ?? null, errors: r.issues }, null, 2)}\n`,
    );
  } else if (r.ok) {
    process.stdout.write(`${r.summary}\n`);
  } else {
    process.stderr.write(`${[r.summary, ...r.lines].join('\n')}\n`);
  }
  return r.ok ? EXIT_OK : EXIT_FAILED;
}

async function runCleanup(path: string, json: boolean): Promise<number> {
  let report: CleanupReport;
  try {
    report = await cleanup(await loadConfig(path));
  } catch (err) {
    process.stderr.write(`dsrd --cleanup: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_FAILED;
  }
  process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatCleanup(report));
  return report.ok ? EXIT_OK : EXIT_FAILED;
}

async function run(path: string): Promise<number> {
  // Read the systemd variables once and keep them from child processes (health check commands).
  const notifier = notifierFromEnv(process.env);
  for (const v of ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID']) delete process.env[v];

  let config: Awaited<ReturnType<typeof loadConfig>>;
  try {
    config = await loadConfig(path);
  } catch (err) {
    process.stderr.write(`dsrd: ${err instanceof DsrError ? err.message : String(err)}\n`);
    notifier.stopping('invalid config');
    notifier.close();
    return EXIT_FAILED;
  }

  const logRoot = new LogRoot({
    level: config.log.level,
    base: { node: config.node.id },
    journal: stdoutIsJournal(),
  });
  const registry = new CommandRegistry();
  const eventLoop = new EventLoopMonitor();
  const parts = buildParts(
    { registry, notifier, eventLoop, logRoot, version: productVersion() },
    { election: config.election.mode, role: config.node.role },
  );
  const daemon = new Daemon({
    configPath: path,
    config,
    load: (p) => loadConfig(p),
    logRoot,
    notifier,
    eventLoop,
    registry,
    parts,
    version: productVersion(),
  });
  const uninstall = installSignalHandlers(daemon, logRoot.logger);
  const onCrash = (err: unknown): void => {
    // A bug: say so in the log, then stop as cleanly as possible so the election resigns and a
    // peer takes over at once rather than after the master-down interval.
    logRoot.logger.fatal(errorFields(err), 'uncaught error; stopping');
    daemon.fail();
    setTimeout(() => {
      logRoot.flush();
      process.exit(EXIT_FAILED);
    }, 5000).unref();
    void daemon.stop('uncaught error');
  };
  process.on('uncaughtException', onCrash);
  process.on('unhandledRejection', onCrash);

  try {
    await daemon.start();
  } catch (err) {
    logRoot.logger.fatal(errorFields(err), 'dsrd failed to start');
    process.stderr.write(`dsrd: ${err instanceof Error ? err.message : String(err)}\n`);
  }
  const code = await daemon.done;
  uninstall();
  notifier.close();
  logRoot.flush();
  return code;
}

async function main(argv: string[]): Promise<number> {
  let values: {
    config?: string;
    check?: boolean;
    cleanup?: boolean;
    json?: boolean;
    help?: boolean;
    version?: boolean;
  };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        check: { type: 'boolean', short: 't' },
        cleanup: { type: 'boolean' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`dsrd: ${(err as Error).message}\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return EXIT_OK;
  }
  if (values.version) {
    process.stdout.write(`dsrd ${productVersion()}\n`);
    return EXIT_OK;
  }
  if (values.check && values.cleanup) {
    process.stderr.write(`dsrd: --check and --cleanup are separate runs\n${USAGE}`);
    return EXIT_USAGE;
  }
  if (values.json && !values.check && !values.cleanup) {
    process.stderr.write(`dsrd: --json goes with --check or --cleanup\n${USAGE}`);
    return EXIT_USAGE;
  }
  const path = values.config ?? DEFAULT_CONFIG_PATH;
  if (values.cleanup) return runCleanup(path, values.json === true);
  return values.check ? check(path, values.json === true) : run(path);
}

const code = await main(process.argv.slice(2));
// Exit explicitly: a handle a part forgot to close must not keep a stopped daemon alive.
process.exit(code);
