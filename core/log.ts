/**
 * Structured JSON logs (pino) for the daemon, with a level that can be changed at runtime.
 *
 * pino fixes a child's level when the child is made, so changing the root level later would not
 * reach the loggers the parts already hold. `LogRoot` keeps a weak list of every descendant
 * (through pino's onChild hook) and sets them all together.
 */
import { type DestinationStream, type Logger, pino } from 'pino';
import { DsrError } from './errors.ts';
import { withPriority } from './systemd/journal.ts';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

/**
 * Fields that may carry secret material anywhere they appear in a log record (one level deep, as
 * pino's redaction is path based). Config keys are referenced by file path, but an HMAC key read
 * from such a file, a webhook secret or an Authorization header must never reach a log line.
 */
export const REDACTED_PATHS: readonly string[] = [
  'key',
  'secret',
  'password',
  'token',
  'authorization',
  'keyMaterial',
  '*.key',
  '*.secret',
  '*.password',
  '*.token',
  '*.authorization',
  '*.keyMaterial',
  '*.headers.authorization',
  'headers.authorization',
  'keys[*].key',
  'keys[*].secret',
];

export interface LogRootOptions {
  level: LogLevel;
  /** Where JSON lines go; stdout (fd 1, asynchronous writes) when not given. */
  destination?: DestinationStream;
  /** Base fields on every line, e.g. { node: 'dir-a' }. */
  base?: Record<string, unknown>;
  /** Prefix each line with its syslog priority, for journald (core/systemd/journal.ts). */
  journal?: boolean;
}

export class LogRoot {
  readonly logger: Logger;
  readonly #descendants = new Set<WeakRef<Logger>>();
  readonly #flush: (() => void) | undefined;

  constructor(options: LogRootOptions) {
    const stdout = options.destination === undefined ? pino.destination({ fd: 1, sync: false }) : undefined;
    const track = (child: Logger): void => {
      this.#descendants.add(new WeakRef(child));
    };
    this.logger = pino(
      {
        level: options.level,
        base: { pid: process.pid, ...options.base },
        timestamp: pino.stdTimeFunctions.isoTime,
        redact: { paths: [...REDACTED_PATHS], censor: '[redacted]' },
        formatters: { level: (label) => ({ level: label }) },
        onChild: track,
        ...(options.journal === true ? { hooks: { streamWrite: withPriority } } : {}),
      },
      options.destination ?? stdout!,
    );
    this.#flush = stdout === undefined ? undefined : () => stdout.flushSync();
  }

  get level(): LogLevel {
    return this.logger.level as LogLevel;
  }

  /** Sets the level of the root and of every logger derived from it, now and later. */
  setLevel(level: string): LogLevel {
    if (!isLogLevel(level)) {
      throw new DsrError(
        'E_ADMIN_REQUEST',
        `unknown log level "${level}"; use one of ${LOG_LEVELS.join(', ')}`,
        {
          level,
        },
      );
    }
    this.logger.level = level;
    for (const ref of this.#descendants) {
      const child = ref.deref();
      if (child === undefined) this.#descendants.delete(ref);
      else child.level = level;
    }
    return level;
  }

  /** A logger for one part of the daemon; follows later level changes. */
  child(bindings: Record<string, unknown>): Logger {
    return this.logger.child(bindings, { level: this.logger.level });
  }

  /** Writes out what is buffered (stdout is written asynchronously so a slow reader cannot stall us). */
  flush(): void {
    try {
      this.#flush?.();
    } catch {
      // stdout closed (EPIPE/EAGAIN): nothing more can be told to anyone.
    }
  }
}

/** Serialises an error for a log record, keeping the DsrError code and context. */
export function errorFields(err: unknown): Record<string, unknown> {
  if (err instanceof DsrError) return { code: err.code, err: err.message, context: err.context };
  if (err instanceof Error) return { err: err.message };
  return { err: String(err) };
}
