/**
 * UDP check: send one datagram, healthy when a reply arrives (and matches a regex, if given).
 *
 * The socket is connected to the target, so the kernel drops datagrams from anyone else and hands
 * us an ICMP port unreachable as ECONNREFUSED: a closed port fails at once instead of at timeout.
 */
import { createSocket, type Socket } from 'node:dgram';
import { parseIp } from '../../core/net/ip.ts';
import type { UdpCheckSpec } from '../check-spec.ts';
import { type Checker, type CheckResult, type CheckTarget, excerpt, timedCheck } from '../checker.ts';

export class UdpChecker implements Checker {
  readonly kind = 'udp';
  readonly timeoutMs: number;
  readonly #payload: Buffer;
  readonly #regex: RegExp | undefined;
  readonly #source: string | undefined;

  constructor(spec: UdpCheckSpec, timeoutMs: number) {
    this.timeoutMs = timeoutMs;
    this.#payload =
      spec.payloadHex !== undefined
        ? Buffer.from(spec.payloadHex, 'hex')
        : Buffer.from(spec.payload ?? '', 'utf8');
    this.#regex = spec.expectRegex === undefined ? undefined : new RegExp(spec.expectRegex);
    this.#source = spec.source;
  }

  check(target: CheckTarget, signal: AbortSignal): Promise<CheckResult> {
    return timedCheck(signal, this.timeoutMs, async (sig) => {
      const reply = await udpExchange(target, this.#payload, this.#source, sig);
      const text = reply.toString('latin1');
      if (this.#regex && !this.#regex.test(text)) {
        return { ok: false, detail: `reply does not match ${this.#regex}: "${excerpt(text, 60)}"` };
      }
      return {
        ok: true,
        detail: `reply of ${reply.length} bytes from ${target.address} port ${target.port}`,
      };
    });
  }
}

/** Sends `payload` on a socket connected to the target and resolves with the first reply. */
export function udpExchange(
  target: CheckTarget,
  payload: Buffer,
  source: string | undefined,
  signal: AbortSignal,
): Promise<Buffer> {
  const family = parseIp(target.address).family;
  return new Promise((resolve, reject) => {
    const socket: Socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
    let settled = false;
    const finish = (err: Error | null, reply?: Buffer): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      socket.removeAllListeners();
      socket.on('error', () => {});
      try {
        socket.close();
      } catch {
        // already closed: nothing left to release
      }
      if (err) reject(err);
      else resolve(reply!);
    };
    const onAbort = (): void => finish(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    socket.on('error', (err) => finish(err));
    socket.on('message', (msg) => finish(null, msg));
    // A failed connect (no route while a link is down: ENETUNREACH) comes to this callback, not to
    // 'error'; sending on the unconnected socket would then throw out of a process.nextTick.
    const connect = (): void =>
      socket.connect(target.port, target.address, (connectErr?: Error) => {
        if (connectErr) return finish(connectErr);
        socket.send(payload, (err) => {
          if (err) finish(err);
        });
      });
    if (source) socket.bind({ address: source, port: 0, exclusive: true }, connect);
    else connect();
  });
}
