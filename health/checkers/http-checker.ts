/**
 * HTTP and HTTPS check: one request on a fresh connection, healthy when the status is in the
 * expected range and (optionally) the start of the body matches a regular expression.
 *
 * No connection pooling (`agent: false`, `Connection: close`): a pooled socket would outlive the
 * check and hide a server that stopped accepting. TLS is verified by default, against `sni`, else
 * the Host name, else the address (IP SAN); the operator can give a CA bundle or skip verification.
 */
import {
  type ClientRequest,
  request as httpRequest,
  type IncomingMessage,
  type RequestOptions,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import { parseIp } from '../../core/net/ip.ts';
import type { HttpCheckSpec } from '../check-spec.ts';
import { type Checker, type CheckResult, type CheckTarget, excerpt, timedCheck } from '../checker.ts';

const DEFAULT_MAX_BODY = 64 * 1024;

export class HttpChecker implements Checker {
  readonly kind: 'http' | 'https';
  readonly timeoutMs: number;
  readonly #spec: HttpCheckSpec;
  readonly #bodyRegex: RegExp | undefined;
  readonly #status: [number, number];

  constructor(spec: HttpCheckSpec, timeoutMs: number) {
    this.kind = spec.kind;
    this.timeoutMs = timeoutMs;
    this.#spec = spec;
    this.#bodyRegex = spec.bodyRegex === undefined ? undefined : new RegExp(spec.bodyRegex);
    this.#status = spec.expectStatus ?? [200, 399];
  }

  check(target: CheckTarget, signal: AbortSignal): Promise<CheckResult> {
    return timedCheck(signal, this.timeoutMs, (sig) => this.#request(target, sig));
  }

  #options(target: CheckTarget): RequestOptions {
    const s = this.#spec;
    const family = parseIp(target.address).family;
    // RFC 9110 7.2: Host carries the port when it is not the scheme's default.
    const defaultPort = s.kind === 'https' ? 443 : 80;
    const literal = family === 6 ? `[${target.address}]` : target.address;
    const hostHeader = s.host ?? (target.port === defaultPort ? literal : `${literal}:${target.port}`);
    const options: RequestOptions & Record<string, unknown> = {
      host: target.address,
      port: target.port,
      family,
      method: s.method ?? 'GET',
      path: s.path ?? '/',
      agent: false,
      headers: {
        Host: hostHeader,
        'User-Agent': 'dsr-director-health/1',
        Connection: 'close',
        Accept: '*/*',
      },
    };
    if (s.source) options.localAddress = s.source;
    if (s.kind === 'https') {
      // The https agent derives SNI and the verified name from the Host header; `sni` overrides both.
      if (s.sni) options.servername = s.sni;
      options.rejectUnauthorized = !s.tlsSkipVerify;
      if (s.tlsCa) options.ca = s.tlsCa;
    }
    return options;
  }

  #request(target: CheckTarget, signal: AbortSignal): Promise<{ ok: boolean; detail: string }> {
    const options = this.#options(target);
    const label = `${options.method} ${options.path}`;
    return new Promise((resolve, reject) => {
      const req: ClientRequest = (this.#spec.kind === 'https' ? httpsRequest : httpRequest)(options);
      let settled = false;
      const finish = (err: Error | null, verdict?: { ok: boolean; detail: string }): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        req.destroy();
        if (err) reject(err);
        else resolve(verdict!);
      };
      const onAbort = (): void =>
        finish(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      req.on('error', (err) => finish(err));
      req.on('response', (res) => this.#onResponse(res, label, finish));
      req.end();
    });
  }

  #onResponse(
    res: IncomingMessage,
    label: string,
    finish: (err: Error | null, verdict?: { ok: boolean; detail: string }) => void,
  ): void {
    res.on('error', (err) => finish(err));
    const status = res.statusCode ?? 0;
    const [lo, hi] = this.#status;
    if (status < lo || status > hi) {
      res.destroy();
      finish(null, { ok: false, detail: `HTTP ${status} not in ${lo}-${hi} (${label})` });
      return;
    }
    const regex = this.#bodyRegex;
    if (!regex) {
      res.destroy();
      finish(null, { ok: true, detail: `HTTP ${status} (${label})` });
      return;
    }
    const limit = this.#spec.maxBodyBytes ?? DEFAULT_MAX_BODY;
    const chunks: Buffer[] = [];
    let size = 0;
    const judge = (): void => {
      res.destroy();
      const body = Buffer.concat(chunks, Math.min(size, limit)).toString('utf8');
      if (regex.test(body)) finish(null, { ok: true, detail: `HTTP ${status}, body matches (${label})` });
      else
        finish(null, {
          ok: false,
          detail: `HTTP ${status}, body does not match ${regex}: "${excerpt(body, 60)}"`,
        });
    };
    res.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= limit) judge();
    });
    res.on('end', judge);
  }
}
