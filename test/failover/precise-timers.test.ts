/** preciseTimers: never before the deadline, one alarm at a time, disarm cancels. */
import { performance } from 'node:perf_hooks';
import test from 'ava';
import { preciseTimers } from '../../failover/thread/precise-timers.ts';
import { sleep } from '../../lab/wait.ts';

test('an alarm runs once, never before its deadline, including sub-ms delays and 0', async (t) => {
  const timers = preciseTimers();
  for (const delay of [0, 0.4, 2.5, 7.3]) {
    const due = performance.now() + delay;
    const firedAt = await new Promise<number>((resolve) =>
      timers.arm(() => resolve(performance.now()), delay, true),
    );
    t.true(firedAt >= due, `delay ${delay}: fired ${(due - firedAt).toFixed(3)} ms early`);
  }
});

test('arming again replaces the armed alarm; disarm cancels it', async (t) => {
  const timers = preciseTimers();
  const fired: string[] = [];
  timers.arm(() => fired.push('first'), 3, true);
  timers.arm(() => fired.push('second'), 6, false);
  await sleep(20);
  t.deepEqual(fired, ['second']);
  timers.arm(() => fired.push('third'), 3, true);
  timers.disarm();
  await sleep(20);
  t.deepEqual(fired, ['second']);
});

test('a deadline far off when the libuv timer runs is armed again, not slept out', async (t) => {
  // The clock steps back 30 ms right after arming, as a cached loop time behind the real one
  // would look: the libuv timer runs ~30 ms before the deadline. Sleeping that out would block
  // the thread; the event loop must stay free (the 1 ms interval keeps running) until the alarm.
  let offset = 0;
  const now = () => performance.now() - offset;
  const timers = preciseTimers(now);
  let loopTurns = 0;
  const interval = setInterval(() => loopTurns++, 1);
  const due = now() + 5;
  const firedAt = await new Promise<number>((resolve) => {
    timers.arm(() => resolve(now()), 5, true);
    offset = 30;
  });
  clearInterval(interval);
  t.true(firedAt >= due, 'not before the deadline in the injected clock');
  // Sleeping it out would block the loop for the whole ~30 ms (0–1 turns); a loaded machine turns it fewer times than 30.
  t.true(loopTurns >= 3, `the event loop turned ${loopTurns} times while waiting`);
});
