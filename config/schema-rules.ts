/**
 * Rules between fields of one list entry (a health check, a tracked script, an alert target).
 * They are attached to the entry's schema, so they are reported together with the type errors of
 * the other entries; rules across entries and sections live in semantic.ts.
 */
import type { z } from 'zod';

type Ctx = z.core.$RefinementCtx;

function add(ctx: Ctx, path: (string | number)[], message: string): void {
  ctx.addIssue({ code: 'custom', path, message, input: undefined });
}

/** A check must end before the next one starts, or checks of one target pile up. */
export function timeoutWithinInterval(v: { timeout_ms: number; interval_ms: number }, ctx: Ctx): void {
  if (v.timeout_ms > v.interval_ms)
    add(ctx, ['timeout_ms'], `expected at most interval_ms (${v.interval_ms})`);
}

interface CheckLike {
  kind: string;
  timeout_ms: number;
  interval_ms: number;
  send?: string;
  send_hex?: string;
  method?: string;
  body_regex?: string;
}

export function healthCheckRules(v: CheckLike, ctx: Ctx): void {
  timeoutWithinInterval(v, ctx);
  if (v.kind === 'udp' && v.send !== undefined && v.send_hex !== undefined) {
    add(ctx, ['send_hex'], 'only one of send and send_hex may be given');
  }
  if ((v.kind === 'http' || v.kind === 'https') && v.method === 'HEAD' && v.body_regex !== undefined) {
    add(ctx, ['body_regex'], 'a HEAD request gets no body to match: use method GET');
  }
}

interface TargetLike {
  kind: string;
  url?: string;
  url_file?: string;
  secret_file?: string;
  backoff_initial_ms: number;
  backoff_max_ms: number;
}

export function alertTargetRules(t: TargetLike, ctx: Ctx): void {
  if (t.url === undefined && t.url_file === undefined) add(ctx, ['url'], 'expected url or url_file');
  if (t.url !== undefined && t.url_file !== undefined)
    add(ctx, ['url_file'], 'only one of url and url_file may be given');
  if (t.secret_file !== undefined && t.kind !== 'generic') {
    add(
      ctx,
      ['secret_file'],
      `secret_file signs generic (Standard Webhooks) deliveries only; kind ${t.kind} does not use it`,
    );
  }
  if (t.backoff_initial_ms > t.backoff_max_ms) {
    add(ctx, ['backoff_max_ms'], `expected at least backoff_initial_ms (${t.backoff_initial_ms})`);
  }
}
