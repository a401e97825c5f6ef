/** The main thread's heartbeat as the election thread reads it (issue 21, item 2): pure, own clock. */
import test from 'ava';
import {
  BEAT_MS,
  HeartbeatWatch,
  MainHeartbeat,
  STALE_AFTER_MS,
} from '../../failover/thread/main-heartbeat.ts';

test('stale once the beat is older than the bound; fresh again at the next beat', (t) => {
  const hb = new MainHeartbeat();
  const watch = new HeartbeatWatch(hb.buffer);
  hb.beat(1000);
  let now = 1000;
  const look = (ms: number): boolean => {
    let stale = false;
    for (const end = now + ms; now < end; now += BEAT_MS) stale = watch.stale(now);
    return stale;
  };
  t.false(look(STALE_AFTER_MS), 'within the bound');
  t.true(look(3 * BEAT_MS), 'past it');
  hb.beat(now);
  t.false(watch.stale(now));
});

test("a gap in the election thread's own looks (the whole process paused) counts from its return", (t) => {
  const hb = new MainHeartbeat();
  const watch = new HeartbeatWatch(hb.buffer);
  hb.beat(0);
  t.false(watch.stale(0));
  // Both threads stopped for 10 s (SIGSTOP): on return the beat is old, but so is our last look.
  t.false(watch.stale(10_000));
  t.false(watch.stale(10_000 + BEAT_MS));
  // The main thread still does not beat: stale after the bound, counted from the return.
  let now = 10_000 + BEAT_MS;
  const stale: boolean[] = [];
  while (now + BEAT_MS <= 10_000 + STALE_AFTER_MS) {
    now += BEAT_MS;
    stale.push(watch.stale(now));
  }
  t.false(stale.includes(true), 'not within the bound after the return');
  t.true(watch.stale(now + 2 * BEAT_MS));
});

test('the first look starts the count: a thread started long after the last beat is not stale at once', (t) => {
  const hb = new MainHeartbeat();
  hb.beat(0);
  const watch = new HeartbeatWatch(hb.buffer);
  t.false(watch.stale(60_000));
});
