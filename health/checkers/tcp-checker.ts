/**
 * TCP connect check: healthy when the three-way handshake completes.
 *
 * The socket is destroyed as soon as the verdict is known (connected, refused, or timed out), so a
 * server that accepts and then hangs costs us one connection for at most the timeout.
 */
import { Socket } from 'node:net';
import { parseIp } from '../../core/net/ip.ts';
import type { TcpCheckSpec } from '../check-spec.ts';
import { type Checker, type CheckResult, type CheckTarget, timedCheck } from '../checker.ts';

export class TcpChecker implements Checker {
  readonly kind = 'tcp';
  readonly timeoutMs: number;
  readonly #source: string | undefined;

  constructor(spec: Pick<TcpCheckSpec, 'source'>, timeoutMs: number) {
    this.timeoutMs = timeoutMs;
    this.#source = spec.source;
  }

  check(target: CheckTarget, signal: AbortSignal): Promise<CheckResult> {
    return timedCheck(signal, this.timeoutMs, (sig) => tcpConnect(target, this.#source, sig));
  }
}

/** Connects and closes; resolves ok on connect, rejects on error or abort. */
export function tcpConnect(
  target: CheckTarget,
  source: string | undefined,
  signal: AbortSignal,
): Promise<{ ok: boolean; detail: string }> {
  const family = parseIp(target.address).family;
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    const finish = (err: Error | null): void => {
      signal.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      // An error after destroy (e.g. a late RST) must not become an uncaught 'error' event.
      socket.on('error', () => {});
      socket.destroy();
      if (err) reject(err);
      else resolve({ ok: true, detail: `connected to ${target.address} port ${target.port}` });
    };
    const onAbort = (): void => finish(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish(null));
    socket.once('error', (err) => finish(err));
    socket.connect({
      host: target.address,
      port: target.port,
      family,
      ...(source ? { localAddress: source } : {}),
    });
  });
}
