/** The alert events a target can subscribe to are the alert model's own list (one list, issue 8). */
import test from 'ava';
import { ALERT_EVENT_TYPES } from '../../alerts/events.ts';
import { ALERT_EVENTS } from '../../config/index.ts';
import { MINIMAL, parseOk, yaml } from './helpers.ts';

test('the subscribable events are every alert event type but the on-demand test event', (t) => {
  t.deepEqual(
    [...ALERT_EVENTS],
    [...ALERT_EVENT_TYPES].filter((e) => e !== 'test'),
  );
});

test('a target that leaves out `events` gets every event type, the newest included', (t) => {
  const c = parseOk(
    MINIMAL +
      yaml(
        'alerts:',
        '  targets:',
        '    - name: hook',
        '      kind: generic',
        '      url: https://198.18.0.50/x',
      ),
  );
  const events = c.alerts.targets[0].events;
  t.deepEqual([...events], [...ALERT_EVENTS]);
  for (const e of [
    'fingerprint_match',
    'sync_lag_normal',
    'failover_completed',
    'drill_result',
    'heartbeat',
  ]) {
    t.true(events.includes(e as (typeof events)[number]), e);
  }
});
