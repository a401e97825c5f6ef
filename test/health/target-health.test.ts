import test from 'ava';
import fc from 'fast-check';
import type { CheckResult } from '../../health/checker.ts';
import { type DampingConfig, DEFAULT_DAMPING, penaltyCeiling } from '../../health/flap-damping.ts';
import {
  type Health,
  initialTargetState,
  nextWakeup,
  observe,
  type TargetEvent,
  type TargetHealthConfig,
  type TargetHealthState,
  tick,
} from '../../health/target-health.ts';

const ok: CheckResult = { ok: true, latencyMs: 1, detail: 'HTTP 200' };
const fail = (detail = 'ECONNREFUSED'): CheckResult => ({ ok: false, latencyMs: 1, detail });

/** Feeds results 1 s apart from `start`; returns the final state and every event. */
function run(cfg: TargetHealthConfig, results: CheckResult[], state?: TargetHealthState, start = 1000) {
  let s = state ?? initialTargetState(cfg, 0);
  const events: TargetEvent[] = [];
  results.forEach((r, i) => {
    const step = observe(cfg, s, r, start + i * 1000);
    s = step.state;
    events.push(...step.events);
  });
  return { state: s, events };
}

const statusChanges = (events: TargetEvent[]) =>
  events.filter((e) => e.type === 'status').map((e) => (e.type === 'status' ? `${e.from}->${e.to}` : ''));

const plain: TargetHealthConfig = { rise: 2, fall: 3, damping: null };

test('unknown: the first result decides at once', (t) => {
  t.deepEqual(statusChanges(run(plain, [ok]).events), ['unknown->up']);
  const down = run(plain, [fail('timeout after 1000 ms')]);
  t.deepEqual(statusChanges(down.events), ['unknown->down']);
  t.like(down.events[0], { type: 'status', cause: 'checks', detail: 'timeout after 1000 ms' });
});

test('fall: an up target goes down on the fall-th consecutive failure, not before', (t) => {
  const { state } = run(plain, [ok]);
  const two = run(plain, [fail(), fail()], state, 5000);
  t.deepEqual(two.events, []);
  t.is(two.state.status, 'up');
  const three = run(plain, [fail('a'), fail('b'), fail('HTTP 500')], state, 5000);
  t.deepEqual(statusChanges(three.events), ['up->down']);
  t.like(three.events[0], { at: 7000, detail: 'HTTP 500' });
  t.is(three.state.since, 7000);
});

test('fall: a success in between restarts the count', (t) => {
  const { state } = run(plain, [ok]);
  const r = run(plain, [fail(), fail(), ok, fail(), fail()], state);
  t.deepEqual(r.events, []);
  t.is(r.state.status, 'up');
  t.is(r.state.failures, 2);
});

test('rise: a down target comes up on the rise-th consecutive success', (t) => {
  const { state } = run(plain, [fail()]);
  t.deepEqual(run(plain, [ok], state).events, []);
  t.deepEqual(statusChanges(run(plain, [ok, fail(), ok, ok], state).events), ['down->up']);
});

test('initial down needs rise successes; initial up needs fall failures', (t) => {
  const down: TargetHealthConfig = { ...plain, initial: 'down' };
  t.deepEqual(run(down, [ok]).events, []);
  t.deepEqual(statusChanges(run(down, [ok, ok]).events), ['down->up']);
  const up: TargetHealthConfig = { ...plain, initial: 'up' };
  t.deepEqual(run(up, [fail(), fail()]).events, []);
  t.deepEqual(statusChanges(run(up, [fail(), fail(), fail()]).events), ['up->down']);
});

test('steady results produce no events', (t) => {
  const { state } = run(plain, [ok]);
  t.deepEqual(run(plain, Array(50).fill(ok), state).events, []);
});

const damped: TargetHealthConfig = { rise: 1, fall: 1, damping: DEFAULT_DAMPING };

test('damping: a flapping target is suppressed at the third quick fall and held down', (t) => {
  // rise=fall=1 and 1 s apart: up, down, up, down, up, down within 6 s.
  const r = run(damped, [ok, fail(), ok, fail(), ok, fail('third')]);
  t.deepEqual(statusChanges(r.events), [
    'unknown->up',
    'up->down',
    'down->up',
    'up->down',
    'down->up',
    'up->down',
  ]);
  const suppressed = r.events.filter((e) => e.type === 'suppressed');
  t.is(suppressed.length, 1);
  t.true(r.state.damping.suppressed);
  t.is(r.state.falls, 3);
  // The checks pass again but the target stays down while suppressed: no event at all.
  const held = run(damped, [ok, ok, ok], r.state, 10_000);
  t.deepEqual(held.events, []);
  t.is(held.state.raw, 'up');
  t.is(held.state.status, 'down');
});

test('damping: released when the penalty decays below reuse, with a status event caused by damping', (t) => {
  const r = run(damped, [ok, fail(), ok, fail(), ok, fail(), ok]);
  const wake = nextWakeup(damped, r.state)!;
  t.true(wake > 7000);
  t.deepEqual(tick(damped, r.state, wake - 1).events, []);
  const released = tick(damped, r.state, wake + 1);
  t.deepEqual(
    released.events.map((e) => e.type),
    ['released', 'status'],
  );
  t.like(released.events[1], { from: 'down', to: 'up', cause: 'damping' });
  t.is(released.state.status, 'up');
});

test('damping: a target still failing when released stays down without an event', (t) => {
  const r = run(damped, [ok, fail(), ok, fail(), ok, fail()]);
  const released = tick(damped, r.state, nextWakeup(damped, r.state)! + 1);
  t.deepEqual(
    released.events.map((e) => e.type),
    ['released'],
  );
  t.is(released.state.status, 'down');
});

test('damping: the suppression never outlasts maxSuppressMs after the last fall', (t) => {
  const cfg: TargetHealthConfig = { ...damped, damping: { ...DEFAULT_DAMPING, maxSuppressMs: 120_000 } };
  const flaps = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? ok : fail()));
  const r = run(cfg, flaps);
  t.true(r.state.damping.penalty <= penaltyCeiling(cfg.damping!) + 1e-6);
  const lastFall = r.state.damping.at;
  t.true(nextWakeup(cfg, r.state)! <= lastFall + 120_000 + 1);
});

test('damping off: no suppression however often it flaps', (t) => {
  const r = run(
    { ...damped, damping: null },
    Array.from({ length: 40 }, (_, i) => (i % 2 ? fail() : ok)),
  );
  t.false(r.state.damping.suppressed);
  t.is(r.events.filter((e) => e.type === 'status').length, 40);
});

const dampingArb: fc.Arbitrary<DampingConfig | null> = fc.option(
  fc.record({
    penalty: fc.constant(1000),
    suppressAt: fc.integer({ min: 1100, max: 4000 }),
    reuseAt: fc.integer({ min: 100, max: 1000 }),
    halfLifeMs: fc.integer({ min: 1000, max: 60_000 }),
    maxSuppressMs: fc.integer({ min: 60_000, max: 600_000 }),
  }),
);

test('property: events are transitions only and status follows raw unless suppressed', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 1, max: 4 }),
      dampingArb,
      fc.constantFrom<Health>('unknown', 'up', 'down'),
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 0, max: 30_000 }), fc.boolean()), { maxLength: 120 }),
      (rise, fall, damping, initial, steps) => {
        const cfg: TargetHealthConfig = { rise, fall, damping, initial };
        let s = initialTargetState(cfg, 0);
        let now = 0;
        let reported: Health = initial;
        for (const [success, dt, isTick] of steps) {
          now += dt;
          const step = isTick ? tick(cfg, s, now) : observe(cfg, s, success ? ok : fail(), now);
          for (const e of step.events) {
            if (e.type !== 'status') continue;
            if (e.from === e.to || e.from !== reported) return false;
            reported = e.to;
          }
          s = step.state;
          if (s.status !== reported) return false;
          if (s.status !== (s.damping.suppressed ? 'down' : s.raw)) return false;
          if (s.successes > 0 && s.failures > 0) return false;
        }
        return true;
      },
    ),
    { numRuns: 500 },
  );
  t.pass();
});

test('results are counted by outcome: success, failure, and timeout apart', (t) => {
  const timedOut: CheckResult = {
    ok: false,
    latencyMs: 1000,
    detail: 'timeout after 1000 ms',
    timedOut: true,
  };
  const { state } = run(plain, [ok, ok, fail(), timedOut, ok]);
  t.deepEqual(state.results, { success: 3, failure: 1, timeout: 1 });
});
