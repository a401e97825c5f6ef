import test from 'ava';
import { RECOVERY_TIMEOUT_MS, trialPlan } from '../../../lab/failover/trial-plan.ts';

test('SIGSTOP is held for twice the master-down interval; other cases are not held', (t) => {
  t.is(trialPlan('sigstop', 100, 361).holdMs, 722);
  for (const k of ['link-down', 'kill9', 'planned'] as const) t.is(trialPlan(k, 100, 361).holdMs, 0);
});

test('after SIGCONT the trial waits past a master-down interval before judging recovery', (t) => {
  t.true(trialPlan('sigstop', 1000, 3609).settleMs > 3609);
});

test("the probe's own bound covers every phase of the trial", (t) => {
  for (const k of ['link-down', 'kill9', 'sigstop', 'planned'] as const) {
    for (const [advert, down] of [
      [30, 110],
      [100, 361],
      [1000, 3609],
    ]) {
      const p = trialPlan(k, advert, down);
      const phases = p.preMs + p.holdMs + p.takeoverTimeoutMs + p.settleMs + p.recoveryTimeoutMs + p.tailMs;
      t.true(p.maxDurationMs > phases, `${k} ${advert}`);
      t.true(p.takeoverTimeoutMs > down, 'a takeover gets more than one master-down interval');
      t.is(p.recoveryTimeoutMs, RECOVERY_TIMEOUT_MS);
    }
  }
});
