/**
 * The `drill_result` alert (issue 8): every drill that ran (its preflight at least) tells the alert
 * targets whether it passed, with its one-line summary. A usage error (no such group or peer, a
 * drill already running) never started one and raises nothing.
 */
import type { DrillReport } from '../../admin/catalogue/drill.ts';
import type { AlertsPart } from '../alerts/part.ts';

/** The event's detail is bounded (alerts/events.ts); a longer summary is cut with an ellipsis. */
const DETAIL_MAX = 1024;

export function raiseDrillResult(alerts: Pick<AlertsPart, 'emit'> | undefined, report: DrillReport): void {
  const s = report.summary;
  alerts?.emit('drill_result', {
    group: report.group,
    passed: report.ok,
    detail: s.length <= DETAIL_MAX ? s : `${s.slice(0, DETAIL_MAX - 1)}…`,
  });
}
