/**
 * From trial outcomes to the benchmark's table rows and last-line figures
 * (pure). A trial whose replies never resumed within the recovery bound is
 * kept, with its gap as a lower bound, and counted as `unrecovered`: dropping
 * it would flatter the stack. A trial that could not be measured at all (no
 * takeover, a tool failed) is counted as `failed` and left out of the stats.
 */
import { summarize } from '../report.ts';
import type { SoakOutcome } from './soak.ts';
import type { CaseKind } from './stack.ts';
import { FAULT_KINDS } from './stack.ts';
import type { TrialOutcome } from './trial.ts';

export interface CaseStats {
  stack: string;
  kind: CaseKind;
  trials: number;
  measured: number;
  failed: number;
  unrecovered: number;
  min: number | null;
  median: number | null;
  p95: number | null;
  max: number | null;
  /** p95 of the send-time span of the longest lost run (0 when nothing was lost). */
  lostSpanP95: number | null;
  lostMedian: number | null;
  lostMax: number | null;
  /** Lowest achieved probe rate over the trials (probes/s). */
  rateMinHz: number | null;
  /** Longest pause of the probe's own sending (its resolution under load). */
  probeMaxSendGapMs: number | null;
  errors: string[];
}

const round = (v: number, digits = 1): number => Number(v.toFixed(digits));

export function caseStats(stack: string, kind: CaseKind, outcomes: readonly TrialOutcome[]): CaseStats {
  const mine = outcomes.filter((o) => o.stack === stack && o.kind === kind);
  const measured = mine.filter((o) => o.error === null && o.outageMs !== null);
  const gaps = summarize(measured.map((o) => o.outageMs as number));
  const lost = summarize(measured.map((o) => o.lost ?? 0));
  const has = measured.length > 0;
  return {
    stack,
    kind,
    trials: mine.length,
    measured: measured.length,
    failed: mine.length - measured.length,
    unrecovered: measured.filter((o) => !o.recovered).length,
    min: has ? round(gaps.min) : null,
    median: has ? round(gaps.median) : null,
    p95: has ? round(gaps.p95) : null,
    max: has ? round(gaps.max) : null,
    lostSpanP95: has ? round(summarize(measured.map((o) => o.lostSpanMs ?? 0)).p95) : null,
    lostMedian: has ? lost.median : null,
    lostMax: has ? lost.max : null,
    rateMinHz: has ? round(Math.min(...measured.map((o) => o.rateHz ?? 0)), 0) : null,
    probeMaxSendGapMs: has ? round(Math.max(...measured.map((o) => o.maxSendGapMs ?? 0))) : null,
    errors: [...new Set(mine.flatMap((o) => (o.error ? [o.error] : [])))],
  };
}

/** The worst p95 over the unplanned cases; null if any of them has no measurement. */
export function worstUnplannedP95(stats: readonly CaseStats[]): number | null {
  const p95s = FAULT_KINDS.map((k) => stats.find((s) => s.kind === k)?.p95 ?? null);
  if (p95s.some((p) => p === null)) return null;
  return Math.max(...(p95s as number[]));
}

export interface FigureInput {
  advertMs: number;
  trials: number;
  /** Our stack's per-case stats, or null when it could not run (see `oursReason`). */
  ours: readonly CaseStats[] | null;
  oursReason: string | null;
  keepalivedDefault: readonly CaseStats[];
  keepalivedSame: readonly CaseStats[];
  soakOurs: SoakOutcome | null;
  soakKeepalived: SoakOutcome | null;
  soakSeconds: number;
}

const p95Of = (stats: readonly CaseStats[] | null, kind: CaseKind): number | null =>
  stats?.find((s) => s.kind === kind)?.p95 ?? null;

/** The last-line JSON object (issue 5's keys first, then the baseline's details). */
export function failoverFigures(i: FigureInput): Record<string, unknown> {
  const oursWorst = i.ours ? worstUnplannedP95(i.ours) : null;
  const kaSameWorst = worstUnplannedP95(i.keepalivedSame);
  const planned = i.ours?.find((s) => s.kind === 'planned');
  return {
    advert_ms: i.advertMs,
    link_down_p95_ms: p95Of(i.ours, 'link-down'),
    kill9_p95_ms: p95Of(i.ours, 'kill9'),
    sigstop_p95_ms: p95Of(i.ours, 'sigstop'),
    planned_lost: planned?.lostMax ?? null,
    keepalived_default_p95_ms: worstUnplannedP95(i.keepalivedDefault),
    keepalived_same_interval_p95_ms: kaSameWorst,
    ratio_vs_keepalived:
      oursWorst !== null && kaSameWorst !== null && kaSameWorst > 0
        ? round(oursWorst / kaSameWorst, 3)
        : null,
    false_failovers: i.soakOurs && i.soakOurs.error === null ? i.soakOurs.falseFailovers : null,
    vip_retaken: i.soakOurs && i.soakOurs.error === null ? i.soakOurs.retaken : null,
    trials: i.trials,
    soak_s: i.soakSeconds,
    dsrd_unavailable: i.oursReason,
    keepalived_default: perCase(i.keepalivedDefault),
    keepalived_same_interval: perCase(i.keepalivedSame),
    keepalived_false_failovers:
      i.soakKeepalived && i.soakKeepalived.error === null ? i.soakKeepalived.falseFailovers : null,
  };
}

function perCase(stats: readonly CaseStats[]): Record<string, unknown> {
  return Object.fromEntries(
    stats.map((s) => [
      s.kind,
      {
        p95_ms: s.p95,
        median_ms: s.median,
        lost_run_p95_ms: s.lostSpanP95,
        lost_max: s.lostMax,
        measured: s.measured,
        unrecovered: s.unrecovered,
      },
    ]),
  );
}
