import test from 'ava';
import { caseStats, failoverFigures, worstUnplannedP95 } from '../../../lab/failover/figures.ts';
import type { CaseKind } from '../../../lab/failover/stack.ts';
import { failedTrial, type TrialOutcome } from '../../../lab/failover/trial.ts';

function outcome(
  stack: string,
  kind: CaseKind,
  outageMs: number,
  o: Partial<TrialOutcome> = {},
): TrialOutcome {
  return {
    stack,
    kind,
    ok: true,
    error: null,
    outageMs,
    recovered: true,
    lost: Math.round(outageMs),
    lostSpanMs: outageMs,
    sent: 1000,
    rateHz: 990,
    maxSendGapMs: 3,
    gapStartAfterFaultMs: 2,
    oldMaster: 'd1',
    newMaster: 'd2',
    acquired: ['d2'],
    serverBefore: 'r1',
    serverAfter: 'r1',
    ...o,
  };
}

test('case stats: min/median/p95 over measured trials; failed ones counted, not averaged', (t) => {
  const outs = [
    ...Array.from({ length: 19 }, (_, i) => outcome('ka', 'link-down', 300 + i)),
    outcome('ka', 'link-down', 900),
    failedTrial('ka', 'link-down', new Error('no takeover in 4000 ms')),
    outcome('other', 'link-down', 1),
    outcome('ka', 'kill9', 5),
  ];
  const s = caseStats('ka', 'link-down', outs);
  t.is(s.trials, 21);
  t.is(s.measured, 20);
  t.is(s.failed, 1);
  t.is(s.min, 300);
  t.is(s.median, 309);
  t.is(s.p95, 318);
  t.is(s.max, 900);
  t.deepEqual(s.errors, ['no takeover in 4000 ms']);
});

test('an unrecovered trial stays in the stats as a lower bound and is flagged', (t) => {
  const s = caseStats('ka', 'sigstop', [
    outcome('ka', 'sigstop', 10),
    outcome('ka', 'sigstop', 60000, { recovered: false }),
  ]);
  t.is(s.unrecovered, 1);
  t.is(s.max, 60000);
  t.is(s.p95, 60000);
});

test('a case with no measurement has null figures', (t) => {
  const s = caseStats('ka', 'planned', [failedTrial('ka', 'planned', 'x')]);
  t.is(s.p95, null);
  t.is(s.lostMax, null);
  t.is(s.measured, 0);
});

test('worst unplanned p95 ignores the planned case and needs every unplanned case', (t) => {
  const all = (['link-down', 'kill9', 'sigstop', 'planned'] as const).map((k, i) =>
    caseStats('ka', k, [outcome('ka', k, [300, 20, 40, 9999][i])]),
  );
  t.is(worstUnplannedP95(all), 300);
  t.is(worstUnplannedP95(all.filter((s) => s.kind !== 'kill9')), null);
});

test('figures: issue 5 keys, null for our stack when it could not run, ratio when both ran', (t) => {
  const kinds = ['link-down', 'kill9', 'sigstop', 'planned'] as const;
  const stats = (stack: string, ms: number[]) =>
    kinds.map((k, i) => caseStats(stack, k, [outcome(stack, k, ms[i])]));
  const base = {
    advertMs: 100,
    trials: 3,
    keepalivedDefault: stats('kd', [3600, 10, 10, 640]),
    keepalivedSame: stats('ks', [330, 12, 15, 64]),
    soakKeepalived: null,
    soakSeconds: 20,
  };
  const without = failoverFigures({ ...base, ours: null, oursReason: 'missing election', soakOurs: null });
  for (const key of [
    'advert_ms',
    'link_down_p95_ms',
    'kill9_p95_ms',
    'sigstop_p95_ms',
    'planned_lost',
    'keepalived_default_p95_ms',
    'keepalived_same_interval_p95_ms',
    'ratio_vs_keepalived',
    'false_failovers',
    'trials',
  ]) {
    t.true(key in without, key);
  }
  t.is(without.link_down_p95_ms, null);
  t.is(without.ratio_vs_keepalived, null);
  t.is(without.keepalived_default_p95_ms, 3600);
  t.is(without.keepalived_same_interval_p95_ms, 330);
  t.is(without.dsrd_unavailable, 'missing election');
  const perCase = without.keepalived_default as Record<string, Record<string, unknown>>;
  t.deepEqual(perCase['link-down'], {
    p95_ms: 3600,
    median_ms: 3600,
    lost_run_p95_ms: 3600,
    lost_max: 3600,
    measured: 1,
    unrecovered: 0,
  });

  const soak = {
    stack: 'ours',
    seconds: 20,
    startedAt: 0,
    lossPercent: 5,
    burners: 2,
    falseFailovers: 0,
    retaken: 0,
    changes: [],
    stalls: null,
    explained: [],
    witness: null,
    probe: null,
    error: null,
  };
  const withOurs = failoverFigures({
    ...base,
    ours: stats('ours', [40, 30, 45, 0]),
    oursReason: null,
    soakOurs: soak,
  });
  t.is(withOurs.link_down_p95_ms, 40);
  t.is(withOurs.sigstop_p95_ms, 45);
  t.is(withOurs.planned_lost, 0);
  t.is(withOurs.ratio_vs_keepalived, Number((45 / 330).toFixed(3)));
  t.is(withOurs.false_failovers, 0);
  t.is(
    failoverFigures({ ...base, ours: null, oursReason: null, soakOurs: { ...soak, error: 'probe died' } })
      .false_failovers,
    null,
  );
});
