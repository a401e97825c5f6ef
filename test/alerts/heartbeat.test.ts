import test from 'ava';
import { createAlertEventFactory } from '../../alerts/events.ts';
import { MasterHeartbeat } from '../../alerts/heartbeat.ts';
import { manualTimers } from './helpers.ts';

test('heartbeat emits "still master" each interval only while master of something', (t) => {
  const clock = manualTimers();
  let groups: string[] = ['g1'];
  const emitted: unknown[] = [];
  const hb = new MasterHeartbeat({
    intervalMs: 60_000,
    timers: clock.timers,
    events: createAlertEventFactory({ node: 'dir-a', newId: () => 'evt_hb', now: () => 5 }),
    masterGroups: () => groups,
    uptimeSeconds: () => 42,
    emit: (e) => emitted.push(e),
  });
  hb.start();
  hb.start(); // idempotent
  t.is(clock.pending(), 1);
  clock.fireAll();
  t.like(emitted[0], {
    type: 'heartbeat',
    groups: ['g1'],
    uptimeSeconds: 42,
    node: 'dir-a',
    severity: 'info',
  });
  groups = [];
  clock.fireAll();
  t.is(emitted.length, 1, 'no heartbeat while master of nothing');
  groups = ['g1', 'g2'];
  clock.fireAll();
  t.is(emitted.length, 2);
  hb.stop();
  t.is(clock.pending(), 0);
  t.deepEqual(clock.delays, [60_000, 60_000, 60_000, 60_000]);
  t.throws(() => new MasterHeartbeat({ ...({} as Record<string, never>), intervalMs: 0 } as never));
});
