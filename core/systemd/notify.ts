/**
 * systemd service notifications (sd_notify(3) protocol), sent straight from this process.
 *
 * `systemd-notify` is not used: systemd attributes a message to the PID that sent it, and with
 * NotifyAccess=main only the daemon's own PID counts.
 *
 * Messages: READY=1 once the parts run; RELOADING=1 + MONOTONIC_USEC (required with
 * Type=notify-reload, accepted by every systemd >= 253) at the start of a reload, READY=1 at its
 * end; STOPPING=1 on shutdown; WATCHDOG=1 every WATCHDOG_USEC/2; STATUS= a line for `systemctl status`.
 */
import { UnixDgramSender } from './unix-dgram.ts';

export interface Notifier {
  /** True when a NOTIFY_SOCKET was given (messages are really sent). */
  readonly enabled: boolean;
  ready(status?: string): void;
  reloading(status?: string): void;
  stopping(status?: string): void;
  status(text: string): void;
  watchdog(): void;
  /** Watchdog ping period in ms (half of WATCHDOG_USEC), or undefined when no watchdog is asked for. */
  readonly watchdogIntervalMs: number | undefined;
  close(): void;
}

/** Anything that can carry a notification datagram; the real one is UnixDgramSender. */
export interface NotifyTransport {
  send(message: string): boolean;
  close(): void;
}

export interface NotifyEnv {
  NOTIFY_SOCKET?: string;
  WATCHDOG_USEC?: string;
  WATCHDOG_PID?: string;
}

/** CLOCK_MONOTONIC in µs: libuv's hrtime reads CLOCK_MONOTONIC on Linux, the clock systemd compares. */
export function monotonicUsec(): bigint {
  return process.hrtime.bigint() / 1000n;
}

/** STATUS= ends at a newline, so one is never let through. */
function statusLine(text: string): string {
  return `STATUS=${text.replace(/[\r\n]+/g, ' ')}`;
}

/**
 * Reads the watchdog period from the environment; per sd_watchdog_enabled(3) it applies only when
 * WATCHDOG_PID is unset or names this process.
 */
export function watchdogIntervalMs(env: NotifyEnv, pid: number): number | undefined {
  if (env.WATCHDOG_USEC === undefined) return undefined;
  if (env.WATCHDOG_PID !== undefined && Number(env.WATCHDOG_PID) !== pid) return undefined;
  const usec = Number(env.WATCHDOG_USEC);
  if (!Number.isFinite(usec) || usec <= 0) return undefined;
  return Math.max(1, Math.floor(usec / 2000));
}

export class SystemdNotifier implements Notifier {
  readonly enabled = true;
  readonly watchdogIntervalMs: number | undefined;
  readonly #transport: NotifyTransport;
  readonly #clock: () => bigint;
  /** Datagrams the socket refused (systemd gone or its queue full); reported in status. */
  failures = 0;

  constructor(
    transport: NotifyTransport,
    watchdogMs: number | undefined,
    clock: () => bigint = monotonicUsec,
  ) {
    this.#transport = transport;
    this.watchdogIntervalMs = watchdogMs;
    this.#clock = clock;
  }

  #send(lines: string[]): void {
    if (!this.#transport.send(lines.join('\n'))) this.failures++;
  }

  ready(status?: string): void {
    this.#send(status === undefined ? ['READY=1'] : ['READY=1', statusLine(status)]);
  }

  reloading(status?: string): void {
    const lines = ['RELOADING=1', `MONOTONIC_USEC=${this.#clock()}`];
    if (status !== undefined) lines.push(statusLine(status));
    this.#send(lines);
  }

  stopping(status?: string): void {
    this.#send(status === undefined ? ['STOPPING=1'] : ['STOPPING=1', statusLine(status)]);
  }

  status(text: string): void {
    this.#send([statusLine(text)]);
  }

  watchdog(): void {
    this.#send(['WATCHDOG=1']);
  }

  close(): void {
    this.#transport.close();
  }
}

/** Used when the daemon does not run under systemd (no NOTIFY_SOCKET): every call does nothing. */
export class NoNotifier implements Notifier {
  readonly enabled = false;
  readonly watchdogIntervalMs = undefined;
  ready(): void {}
  reloading(): void {}
  stopping(): void {}
  status(): void {}
  watchdog(): void {}
  close(): void {}
}

/**
 * Builds the notifier the environment asks for. The caller should then remove NOTIFY_SOCKET and
 * WATCHDOG_* from process.env so child processes (health check commands) do not inherit them.
 */
export function notifierFromEnv(env: NotifyEnv, pid: number = process.pid): Notifier {
  const socket = env.NOTIFY_SOCKET;
  if (socket === undefined || socket === '') return new NoNotifier();
  return new SystemdNotifier(new UnixDgramSender(socket), watchdogIntervalMs(env, pid));
}
