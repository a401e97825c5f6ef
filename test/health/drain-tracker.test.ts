import test from 'ava';
import fc from 'fast-check';
import { isDsrError } from '../../core/errors.ts';
import { DrainTracker } from '../../health/drain-tracker.ts';

function setup() {
  let now = 1_700_000_000_000;
  const flows = new Map<string, number>();
  const tracker = new DrainTracker({
    now: () => now,
    remainingFlows: (rs, service) => ({ open: flows.get(`${rs}/${service ?? '*'}`) ?? 0, closing: 0 }),
  });
  return {
    tracker,
    flows,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
  };
}

test('drain: weight 0 for new flows at once, persistence stopped by default', (t) => {
  const { tracker, flows } = setup();
  flows.set('rs1/web', 3);
  const events = tracker.drain('rs1', { service: 'web', timeoutMs: 60_000 });
  t.like(events, [{ type: 'drain.started', rs: 'rs1', service: 'web', timeoutMs: 60_000 }]);
  t.is(tracker.weightFor('rs1', 'web', 100), 0);
  t.false(tracker.allowsNewPersistence('rs1', 'web'));
  // Another service is untouched.
  t.is(tracker.weightFor('rs1', 'dns', 100), 100);
  t.true(tracker.allowsNewPersistence('rs1', 'dns'));
});

test('drain: keepPersistence leaves new persistence entries allowed', (t) => {
  const { tracker } = setup();
  tracker.drain('rs1', { service: 'web', timeoutMs: 1000, stopPersistence: false });
  t.true(tracker.allowsNewPersistence('rs1', 'web'));
});

test('drain: counts down and completes when the last flow closes', (t) => {
  const { tracker, flows, advance } = setup();
  flows.set('rs1/web', 3);
  tracker.drain('rs1', { service: 'web', timeoutMs: 60_000 });
  advance(1000);
  t.like(tracker.tick(), [{ type: 'drain.progress', remaining: 3, msLeft: 59_000 }]);
  advance(1000);
  t.deepEqual(tracker.tick(), []); // no change, no event
  flows.set('rs1/web', 1);
  advance(1000);
  t.like(tracker.tick(), [{ type: 'drain.progress', remaining: 1, msLeft: 57_000 }]);
  flows.set('rs1/web', 0);
  advance(1000);
  t.like(tracker.tick(), [{ type: 'drain.complete', outcome: 'no-flows', remaining: 0, durationMs: 4000 }]);
  t.false(tracker.active);
  // Completed: still out of rotation until enabled; no more events.
  t.is(tracker.weightFor('rs1', 'web', 100), 0);
  advance(1000);
  t.deepEqual(tracker.tick(), []);
});

test('drain: completes on timeout with the flows left', (t) => {
  const { tracker, flows, advance } = setup();
  flows.set('rs1/web', 5);
  tracker.drain('rs1', { service: 'web', timeoutMs: 10_000 });
  advance(9_999);
  t.like(tracker.tick(), [{ type: 'drain.progress' }]);
  advance(1);
  t.like(tracker.tick(), [{ type: 'drain.complete', outcome: 'timeout', remaining: 5, durationMs: 10_000 }]);
});

test('drain: timeout 0 waits for the last flow however long it takes', (t) => {
  const { tracker, flows, advance } = setup();
  flows.set('rs1/web', 1);
  tracker.drain('rs1', { service: 'web', timeoutMs: 0 });
  advance(1000);
  t.like(tracker.tick(), [{ type: 'drain.progress', msLeft: null }]);
  advance(365 * 86_400_000);
  t.deepEqual(tracker.tick(), []);
  t.true(tracker.active);
});

test('drain without a service covers every service and counts all flows', (t) => {
  const { tracker, flows } = setup();
  flows.set('rs1/*', 2);
  tracker.drain('rs1', { timeoutMs: 1000 });
  t.is(tracker.weightFor('rs1', 'web', 5), 0);
  t.is(tracker.weightFor('rs1', 'dns', 5), 0);
  t.like(tracker.tick(), [{ type: 'drain.progress', service: null, remaining: 2 }]);
});

test('enable: without a service ends every drain of the real server; with one, only that one', (t) => {
  const { tracker } = setup();
  tracker.drain('rs1', { timeoutMs: 1000 });
  tracker.drain('rs1', { service: 'web', timeoutMs: 1000 });
  tracker.drain('rs2', { service: 'web', timeoutMs: 1000 });
  t.like(tracker.enable('rs1', 'web'), [{ type: 'drain.ended', service: 'web', completed: false }]);
  t.is(tracker.weightFor('rs1', 'web', 5), 0, 'the all-services drain still applies');
  t.is(tracker.enable('rs1').length, 1);
  t.is(tracker.weightFor('rs1', 'web', 5), 5);
  t.is(tracker.weightFor('rs2', 'web', 5), 0);
  t.deepEqual(tracker.enable('rs9'), []);
});

test('drain again while draining adjusts the timeout and keeps the start', (t) => {
  const { tracker, flows, advance } = setup();
  flows.set('rs1/web', 1);
  tracker.drain('rs1', { service: 'web', timeoutMs: 1000 });
  advance(500);
  t.deepEqual(tracker.drain('rs1', { service: 'web', timeoutMs: 2000 }), []);
  advance(1000);
  t.like(tracker.tick(), [{ type: 'drain.progress', msLeft: 500 }]);
});

test('setWeight: overrides the configured weight, service-specific first; null clears', (t) => {
  const { tracker } = setup();
  t.like(tracker.setWeight('rs1', 10), [{ type: 'weight.set', weight: 10, service: null }]);
  t.is(tracker.weightFor('rs1', 'web', 100), 10);
  tracker.setWeight('rs1', 3, 'web');
  t.is(tracker.weightFor('rs1', 'web', 100), 3);
  t.is(tracker.weightFor('rs1', 'dns', 100), 10);
  t.deepEqual(tracker.setWeight('rs1', 3, 'web'), [], 'same weight again is not an event');
  tracker.setWeight('rs1', null, 'web');
  tracker.setWeight('rs1', null);
  t.is(tracker.weightFor('rs1', 'web', 100), 100);
  // A drain wins over an override.
  tracker.setWeight('rs1', 7);
  tracker.drain('rs1', { timeoutMs: 0 });
  t.is(tracker.weightFor('rs1', 'web', 100), 0);
});

test('bad operator input is an E_ADMIN_REQUEST error and changes nothing', (t) => {
  const { tracker } = setup();
  for (const w of [-1, 1.5, 65536, Number.NaN]) {
    const err = t.throws(() => tracker.setWeight('rs1', w));
    t.true(isDsrError(err, 'E_ADMIN_REQUEST'));
  }
  t.throws(() => tracker.drain('rs1', { timeoutMs: -5 }));
  t.deepEqual(tracker.snapshot(), { version: 1, drains: [], weights: [] });
});

test('a flow counter that throws or lies produces no event and no completion', (t) => {
  let mode: 'throw' | 'nan' | 'ok' = 'throw';
  const tracker = new DrainTracker({
    now: () => 0,
    remainingFlows: () => {
      if (mode === 'throw') throw new Error('map read failed');
      return { open: mode === 'nan' ? Number.NaN : 0, closing: 0 };
    },
  });
  tracker.drain('rs1', { timeoutMs: 0 });
  t.deepEqual(tracker.tick(), []);
  mode = 'nan';
  t.deepEqual(tracker.tick(), []);
  t.true(tracker.active);
  mode = 'ok';
  t.like(tracker.tick(), [{ type: 'drain.complete' }]);
});

test('no count yet (undefined) is neither progress nor completion, even past the timeout', (t) => {
  let count: number | undefined;
  let now = 0;
  const tracker = new DrainTracker({
    now: () => now,
    remainingFlows: () => (count === undefined ? undefined : { open: count, closing: 0 }),
  });
  tracker.drain('rs1', { timeoutMs: 0 });
  t.deepEqual(tracker.tick(), [], 'a drain started on a stale count waits for a fresh one');
  t.true(tracker.active);
  count = 2;
  t.like(tracker.tick(), [{ type: 'drain.progress', remaining: 2 }]);
  count = 0;
  t.like(tracker.tick(), [{ type: 'drain.complete', outcome: 'no-flows' }]);
  tracker.enable('rs1');
  count = undefined;
  tracker.drain('rs1', { timeoutMs: 1000 });
  now = 5000;
  t.deepEqual(tracker.tick(), []);
  count = 3;
  t.like(tracker.tick(), [{ type: 'drain.complete', outcome: 'timeout', remaining: 3 }]);
});

test('snapshot/restore carries drains (with their deadline) and weights to another director', (t) => {
  const a = setup();
  a.flows.set('rs1/web', 4);
  a.tracker.drain('rs1', { service: 'web', timeoutMs: 30_000 });
  a.tracker.setWeight('rs2', 7);
  a.advance(10_000);
  a.tracker.tick();
  const wire = JSON.parse(JSON.stringify(a.tracker.snapshot()));

  const b = setup();
  b.advance(30_000); // the standby's wall clock, now past the deadline set on the first director
  b.flows.set('rs1/web', 4);
  b.tracker.restore(wire);
  t.is(b.tracker.weightFor('rs1', 'web', 100), 0);
  t.is(b.tracker.weightFor('rs2', 'web', 100), 7);
  t.like(b.tracker.tick(), [{ type: 'drain.complete', outcome: 'timeout', durationMs: 30_000 }]);
});

test('restore refuses a bad snapshot and keeps the state it had', (t) => {
  const { tracker } = setup();
  tracker.setWeight('rs1', 5);
  const before = tracker.snapshot();
  const bad = [
    null,
    { version: 2, drains: [], weights: [] },
    { version: 1, drains: [{ rs: 'x' }], weights: [] },
    { version: 1, drains: [], weights: [{ rs: 'x', service: null, weight: 70000 }] },
    { version: 1, drains: [], weights: [], extra: 1 },
  ];
  for (const input of bad) {
    const err = t.throws(() => tracker.restore(input));
    t.true(isDsrError(err, 'E_DECODE'));
  }
  t.deepEqual(tracker.snapshot(), before);
});

test('property: restore(snapshot()) is the identity, and random input never throws anything but E_DECODE', (t) => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          fc.constantFrom('rs1', 'rs2', 'rs3'),
          fc.option(fc.constantFrom('web', 'dns')),
          fc.nat(100_000),
        ),
      ),
      fc.array(
        fc.tuple(
          fc.constantFrom('rs1', 'rs2'),
          fc.option(fc.constantFrom('web')),
          fc.integer({ min: 0, max: 65535 }),
        ),
      ),
      fc.anything(),
      (drains, weights, junk) => {
        const { tracker } = setup();
        for (const [rs, service, timeoutMs] of drains) tracker.drain(rs, { service, timeoutMs });
        for (const [rs, service, w] of weights) tracker.setWeight(rs, w, service);
        const snap = tracker.snapshot();
        const other = setup().tracker;
        other.restore(JSON.parse(JSON.stringify(snap)));
        if (JSON.stringify(other.snapshot()) !== JSON.stringify(snap)) return false;
        try {
          other.restore(junk);
        } catch (err) {
          if (!isDsrError(err, 'E_DECODE')) return false;
        }
        return true;
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});
