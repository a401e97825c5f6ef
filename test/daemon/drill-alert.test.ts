/** drill_result (issue 8): a drill's pass/fail and summary reach the alert targets. */
import test from 'ava';
import type { DrillReport } from '../../admin/catalogue/drill.ts';
import type { AlertEventFields, AlertEventType } from '../../alerts/index.ts';
import { parseAlertEvent } from '../../alerts/index.ts';
import { raiseDrillResult } from '../../daemon/drill/alert.ts';

function report(ok: boolean, summary: string): DrillReport {
  return {
    group: 'web',
    director: 'lb1',
    peer: 'lb2',
    back: true,
    ok,
    stoppedAt: ok ? 'done' : 'verify',
    startedAt: '2025-01-01T00:00:00.000Z',
    durationMs: 4200,
    preflight: [],
    legs: [],
    flows: { marginMs: 2000, before: null, peer: null, after: null },
    timeline: [],
    summary,
  };
}

test('a drill raises drill_result with its verdict and summary, the summary bounded', (t) => {
  const raised: { type: AlertEventType; fields: Record<string, unknown> }[] = [];
  const alerts = {
    emit<T extends AlertEventType>(type: T, fields: AlertEventFields<T>) {
      raised.push({ type, fields: fields as Record<string, unknown> });
    },
  };
  raiseDrillResult(alerts, report(true, 'PASS: lb2 took web over in 12 ms'));
  raiseDrillResult(alerts, report(false, `FAIL: ${'x'.repeat(3000)}`));
  raiseDrillResult(undefined, report(true, 'no alerts part: nothing to do'));
  t.deepEqual(raised[0], {
    type: 'drill_result',
    fields: { group: 'web', passed: true, detail: 'PASS: lb2 took web over in 12 ms' },
  });
  t.like(raised[1], { type: 'drill_result', fields: { group: 'web', passed: false } });
  const detail = raised[1].fields.detail as string;
  t.is(detail.length, 1024);
  t.true(detail.startsWith('FAIL: xxx') && detail.endsWith('…'));
  // What is raised fits the event schema (the spool re-reads it after a restart).
  for (const r of raised) {
    t.truthy(
      parseAlertEvent({ ...r.fields, type: r.type, id: 'e1', time: 1, node: 'lb1', severity: 'info' }),
    );
  }
});
