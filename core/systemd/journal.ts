/**
 * Log priorities for journald. systemd reads a service's stdout line by line; a line that starts
 * with "<N>" (a syslog priority, 0-7) is stored with that priority and the prefix dropped
 * (SyslogLevelPrefix=, on by default: systemd.exec(5)). Without it every line is "info", and
 * `journalctl -p err` shows nothing of ours. So when stdout is the journal, each JSON line gets
 * the prefix of its level.
 *
 * Whether stdout is the journal: systemd sets JOURNAL_STREAM to the device and inode of the stream
 * it connected, and a process checks them against its own fd (systemd.exec(5), "$JOURNAL_STREAM"):
 * a daemon run by hand, or with its output redirected, writes plain JSON lines.
 */
import { fstatSync } from 'node:fs';

/** syslog(3) priorities of pino's levels. */
const PRIORITY: Readonly<Record<string, number>> = {
  fatal: 2, // LOG_CRIT
  error: 3, // LOG_ERR
  warn: 4, // LOG_WARNING
  info: 6, // LOG_INFO
  debug: 7, // LOG_DEBUG
  trace: 7,
};

/** The line with its priority prefix; a line whose level it cannot read is left as it is. */
export function withPriority(line: string): string {
  const level = /^\{"level":"([a-z]+)"/.exec(line)?.[1];
  const p = level === undefined ? undefined : PRIORITY[level];
  return p === undefined ? line : `<${p}>${line}`;
}

/** Whether fd 1 is the stream systemd connected to the journal (JOURNAL_STREAM is "dev:inode"). */
export function stdoutIsJournal(
  env: Readonly<Record<string, string | undefined>> = process.env,
  stat: () => { dev: number; ino: number } = () => fstatSync(1),
): boolean {
  const expected = env.JOURNAL_STREAM;
  if (expected === undefined || expected === '') return false;
  try {
    const s = stat();
    return expected === `${s.dev}:${s.ino}`;
  } catch {
    return false;
  }
}
