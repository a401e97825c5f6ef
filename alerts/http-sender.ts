/**
 * The one place alert deliveries touch the network: a POST with a time limit.
 *
 * It never throws: every outcome is a value the engine classifies. Errors are
 * reduced to a kind and a system error code (ECONNREFUSED, ...) because
 * fetch's own messages can quote the URL, and a Slack URL is a secret.
 */

export interface SendRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
  /** Aborts the request when the engine stops. */
  signal: AbortSignal;
}

export type SendResult =
  | { kind: 'response'; status: number; retryAfter: string | null }
  | { kind: 'error'; error: 'timeout' | 'aborted' | 'network'; code?: string };

export type HttpSender = (req: SendRequest) => Promise<SendResult>;

function systemCode(e: unknown): string | undefined {
  for (let cur = e, depth = 0; cur && depth < 4; depth++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z0-9_]+$/.test(code)) return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * A sender on the built-in fetch. Redirects are not followed (a signed alert
 * must not be replayed to another host); a 3xx comes back as a status.
 */
export function createFetchSender(fetchImpl: typeof fetch = globalThis.fetch): HttpSender {
  return async (req) => {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, req.timeoutMs);
    const onStop = () => controller.abort();
    if (req.signal.aborted) controller.abort();
    else req.signal.addEventListener('abort', onStop, { once: true });
    try {
      const res = await fetchImpl(req.url, {
        method: 'POST',
        headers: req.headers,
        body: req.body,
        redirect: 'manual',
        signal: controller.signal,
      });
      const retryAfter = res.headers.get('retry-after');
      // The body is not needed; cancelling frees the connection without reading an unbounded reply
      // (not awaited: a receiver that stalls mid-body must not hold the delivery).
      void res.body?.cancel().catch(() => {});
      return { kind: 'response', status: res.status, retryAfter };
    } catch (e) {
      if (timedOut) return { kind: 'error', error: 'timeout' };
      if (req.signal.aborted) return { kind: 'error', error: 'aborted' };
      const code = systemCode(e);
      return code === undefined
        ? { kind: 'error', error: 'network' }
        : { kind: 'error', error: 'network', code };
    } finally {
      clearTimeout(timer);
      req.signal.removeEventListener('abort', onStop);
    }
  };
}
