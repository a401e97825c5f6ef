/**
 * dsrctl / dsrd exit statuses, and how an error maps to one. Scripts rely on these numbers.
 *   0 success; 1 the command ran and failed (a check found problems, the daemon refused);
 *   2 the command line is wrong; 3 the daemon is not reachable.
 */
import { DsrError } from './errors.ts';

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_UNREACHABLE = 3;

export function exitCodeFor(err: unknown): number {
  if (err instanceof DsrError) {
    if (err.code === 'E_USAGE') return EXIT_USAGE;
    if (err.code === 'E_DAEMON_UNREACHABLE') return EXIT_UNREACHABLE;
  }
  return EXIT_FAILED;
}

export function usage(message: string, context: Record<string, unknown> = {}): DsrError {
  return new DsrError('E_USAGE', message, context);
}

/** Output sinks, so tests can run the CLI in-process and read what it printed. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};
