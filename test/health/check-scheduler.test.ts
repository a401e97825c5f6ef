import test from 'ava';
import { CheckScheduler, type ScheduledJob } from '../../health/check-scheduler.ts';
import type { CheckResult } from '../../health/checker.ts';
import { FakeTimers, seededRandom } from './fake-timers.ts';

interface Harness {
  timers: FakeTimers;
  scheduler: CheckScheduler;
  results: { key: string; result: CheckResult; at: number }[];
  starts: { key: string; at: number }[];
  /** Runs in progress across all jobs of this harness, and the most seen at once. */
  active: number;
  maxActive: number;
}

function harness(opts: { concurrency?: number; random?: () => number; startSpread?: number } = {}): Harness {
  const timers = new FakeTimers();
  const results: Harness['results'] = [];
  const scheduler = new CheckScheduler({
    timers,
    random: opts.random ?? (() => 0),
    concurrency: opts.concurrency ?? 64,
    startSpread: opts.startSpread,
    onResult: (key, result, at) => results.push({ key, result, at }),
  });
  return { timers, scheduler, results, starts: [], active: 0, maxActive: 0 };
}

/** A job whose run takes `durationMs` of fake time, or ends early on abort when it honours it. */
function job(
  h: Harness,
  key: string,
  o: {
    intervalMs?: number;
    timeoutMs?: number;
    durationMs?: number;
    honourAbort?: boolean;
    ok?: boolean;
  } = {},
): ScheduledJob {
  return {
    key,
    intervalMs: o.intervalMs ?? 1000,
    timeoutMs: o.timeoutMs ?? 500,
    run: (signal) =>
      new Promise<CheckResult>((resolve) => {
        h.starts.push({ key, at: h.timers.now() });
        h.active++;
        h.maxActive = Math.max(h.maxActive, h.active);
        const done = (r: CheckResult): void => {
          h.active--;
          resolve(r);
        };
        const handle = h.timers.setTimeout(
          () => done({ ok: o.ok ?? true, latencyMs: o.durationMs ?? 10, detail: 'done' }),
          o.durationMs ?? 10,
        );
        if (o.honourAbort !== false) {
          signal.addEventListener('abort', () => {
            h.timers.clearTimeout(handle);
            done({ ok: false, latencyMs: 0, detail: String(signal.reason?.message) });
          });
        }
      }),
  };
}

test('first runs are spread over the first interval by the injected randomness', async (t) => {
  const h = harness({ random: seededRandom(7) });
  for (let i = 0; i < 20; i++) h.scheduler.add(job(h, `t${i}`, { intervalMs: 1000 }));
  h.scheduler.start();
  await h.timers.advance(999);
  t.is(h.starts.length, 20);
  const times = new Set(h.starts.map((s) => s.at));
  t.true(times.size >= 15, `only ${times.size} distinct start times`);
  t.true(h.starts.every((s) => s.at >= 0 && s.at < 1000));
});

test('startSpread 0 starts everything at once; runs then follow the interval from each start', async (t) => {
  const h = harness({ startSpread: 0, random: () => 0.9 });
  h.scheduler.add(job(h, 'a', { intervalMs: 1000, durationMs: 100 }));
  h.scheduler.start();
  await h.timers.advance(3500);
  t.deepEqual(
    h.starts.map((s) => s.at),
    [0, 1000, 2000, 3000],
  );
  t.deepEqual(
    h.results.map((r) => r.at),
    [100, 1100, 2100, 3100],
  );
});

test('a run longer than the interval is never overlapped; the next one starts when it ends', async (t) => {
  const h = harness();
  h.scheduler.add(job(h, 'slow', { intervalMs: 1000, timeoutMs: 5000, durationMs: 2500 }));
  h.scheduler.start();
  await h.timers.advance(10_000);
  t.is(h.maxActive, 1);
  t.deepEqual(
    h.starts.map((s) => s.at),
    [0, 2500, 5000, 7500, 10_000],
  );
});

test('concurrency is bounded and every job still runs', async (t) => {
  const h = harness({ concurrency: 3 });
  for (let i = 0; i < 10; i++) h.scheduler.add(job(h, `t${i}`, { intervalMs: 5000, durationMs: 100 }));
  h.scheduler.start();
  await h.timers.advance(2000);
  t.is(h.maxActive, 3);
  t.deepEqual(new Set(h.results.map((r) => r.key)).size, 10);
  t.is(h.scheduler.stats().queued, 0);
});

test('the scheduler aborts a run at its timeout and reports the checker result', async (t) => {
  const h = harness();
  h.scheduler.add(job(h, 'hang', { intervalMs: 1000, timeoutMs: 300, durationMs: 60_000 }));
  h.scheduler.start();
  await h.timers.advance(350);
  t.is(h.results.length, 1);
  t.like(h.results[0], { key: 'hang', at: 300, result: { ok: false, detail: 'timeout after 300 ms' } });
  t.is(h.active, 0);
});

test('a run that ignores the abort is reported failed and no second run starts until it settles', async (t) => {
  const h = harness();
  h.scheduler.add(
    job(h, 'wedged', { intervalMs: 1000, timeoutMs: 300, durationMs: 4200, honourAbort: false }),
  );
  h.scheduler.start();
  await h.timers.advance(4000);
  t.is(h.starts.length, 1);
  t.true(h.results.length >= 3);
  t.true(h.results.every((r) => !r.result.ok && /has not finished/.test(r.result.detail)));
  t.is(h.scheduler.stats().stuck, 1);
  await h.timers.advance(1500); // the run settles at 4200: its late result is dropped, cadence resumes
  t.is(h.scheduler.stats().stuck, 0);
  t.is(h.starts.length, 2);
  t.false(h.results.some((r) => r.result.detail === 'done' && r.at === 4200));
});

test('stop aborts runs in flight, waits for them, and nothing is reported afterwards', async (t) => {
  const h = harness();
  h.scheduler.add(job(h, 'a', { intervalMs: 1000, timeoutMs: 5000, durationMs: 3000 }));
  h.scheduler.start();
  await h.timers.advance(100);
  t.is(h.active, 1);
  await h.scheduler.stop();
  t.is(h.active, 0);
  await h.timers.advance(10_000);
  t.is(h.results.length, 0);
  t.is(h.timers.pendingCount, 0);
});

test('remove drops the job and its result; update applies from the next run', async (t) => {
  const h = harness();
  h.scheduler.add(job(h, 'a', { intervalMs: 1000, durationMs: 200 }));
  h.scheduler.add(job(h, 'b', { intervalMs: 1000, durationMs: 200 }));
  h.scheduler.start();
  await h.timers.advance(100);
  h.scheduler.remove('a');
  h.scheduler.update(job(h, 'b', { intervalMs: 400, durationMs: 200, ok: false }));
  await h.timers.advance(1500);
  t.false(h.results.some((r) => r.key === 'a'));
  const b = h.results.filter((r) => r.key === 'b');
  // The first run (old definition) ends at 200 and arms the next for 1000 under the old interval;
  // from the run at 1000 on, the new definition (400 ms, failing) applies.
  t.like(b[0], { at: 200, result: { ok: true } });
  t.deepEqual(
    b.slice(1).map((r) => [r.at, r.result.ok]),
    [
      [1200, false],
      [1600, false],
    ],
  );
  t.deepEqual(h.scheduler.keys(), ['b']);
});
