import test from 'ava';
import { isDsrError } from '../../core/errors.ts';
import { sleep, until, waitFor } from '../../lab/wait.ts';

test('sleep waits at least as long as asked', async (t) => {
  const t0 = performance.now();
  await sleep(30);
  t.true(performance.now() - t0 >= 29);
});

test('until polls a sync or async predicate and says how long it took', async (t) => {
  const t0 = performance.now();
  const ms = await until('30 ms passed', () => performance.now() - t0 >= 30, { everyMs: 5 });
  // Timed from its own start, which a loaded machine may let begin a few ms after t0.
  const elapsed = performance.now() - t0;
  t.true(elapsed >= 30 && ms <= elapsed && ms >= elapsed - 20 && ms < 1000, `${ms} ms of ${elapsed}`);
  let polls = 0;
  await until('the third poll', async () => ++polls === 3, 1000);
  t.is(polls, 3);
});

test('until throws E_TIMEOUT naming what it waited for, with the detail asked for', async (t) => {
  const e = await t.throwsAsync(
    until('the pair to settle', () => false, { limitMs: 50, everyMs: 10, detail: () => 'last: d1 backup' }),
  );
  t.true(isDsrError(e, 'E_TIMEOUT'));
  t.is(e?.message, 'E_TIMEOUT: the pair to settle: not reached in 50 ms; last: d1 backup');
  t.like((e as { context?: unknown }).context, { what: 'the pair to settle', limitMs: 50 });
});

test('waitFor returns the first value that is not undefined, falsy ones included', async (t) => {
  const values = [undefined, undefined, 0, 7];
  t.is(await waitFor('a count', () => values.shift(), { everyMs: 1 }), 0);
  t.is(await waitFor('a line', async () => 'READY', 100), 'READY');
  await t.throwsAsync(
    waitFor('a line', () => undefined, 20),
    { message: /a line: not reached in 20 ms/ },
  );
});
