/** Health events → alert events (issue 8): what is raised, with which fields, and what is not news. */
import { EventEmitter } from 'node:events';
import test from 'ava';
import type { AlertEventFields, AlertEventType } from '../../alerts/index.ts';
import { bridgeHealthAlerts, raiseHealthAlert } from '../../daemon/health/alerts.ts';
import type { HealthEvent } from '../../health/index.ts';

function sink() {
  const raised: { type: AlertEventType; fields: unknown }[] = [];
  return {
    raised,
    emit<T extends AlertEventType>(type: T, fields: AlertEventFields<T>) {
      raised.push({ type, fields });
    },
  };
}

test('down, recovery and drain complete are raised with their fields', (t) => {
  const s = sink();
  const events: HealthEvent[] = [
    { type: 'realserver.down', service: 'web', realserver: 'rs1', from: 'up', reason: 'http 503', at: 1 },
    { type: 'service.down', service: 'web', from: 'up', reason: 'no real server up', at: 2 },
    { type: 'realserver.up', service: 'web', realserver: 'rs1', from: 'down', at: 3 },
    { type: 'service.up', service: 'web', from: 'down', realServersUp: 1, at: 4 },
    {
      type: 'drain.complete',
      rs: 'rs2',
      service: null,
      at: 5,
      outcome: 'no-flows',
      remaining: 0,
      closing: 4,
      durationMs: 1500,
    },
  ];
  for (const e of events) raiseHealthAlert(s, e);
  t.deepEqual(s.raised, [
    { type: 'real_server_down', fields: { service: 'web', realServer: 'rs1', reason: 'http 503' } },
    { type: 'service_down', fields: { service: 'web', reason: 'no real server up' } },
    { type: 'real_server_up', fields: { service: 'web', realServer: 'rs1' } },
    { type: 'service_up', fields: { service: 'web', realServersUp: 1 } },
    {
      type: 'drain_complete',
      fields: {
        service: '*',
        realServer: 'rs2',
        outcome: 'no_flows',
        durationSeconds: 1.5,
        remainingFlows: 0,
        closingFlows: 4,
      },
    },
  ]);
});

test('the first verdict after a start is not a recovery: no "up" alert', (t) => {
  const s = sink();
  raiseHealthAlert(s, { type: 'realserver.up', service: 'web', realserver: 'rs1', from: 'unknown', at: 1 });
  raiseHealthAlert(s, { type: 'service.up', service: 'web', from: 'unknown', realServersUp: 3, at: 2 });
  raiseHealthAlert(s, {
    type: 'drain.progress',
    rs: 'rs1',
    service: 'web',
    at: 3,
    remaining: 2,
    closing: 0,
    msLeft: null,
  });
  t.deepEqual(s.raised, []);
});

test('only the director that speaks for the service raises its alerts: one alert per event for a pair', (t) => {
  // Two directors see the same transition; only the master of the service's VIP group speaks.
  const raised: string[] = [];
  const directors = ['d1', 'd2'].map((name) => {
    const health = new EventEmitter<{ event: [HealthEvent] }>();
    const s = sink();
    bridgeHealthAlerts(health, s, { speaksFor: (service) => name === 'd1' && service !== 'other' });
    return { health, raised: s.raised };
  });
  const down: HealthEvent = {
    type: 'realserver.down',
    service: 'web',
    realserver: 'rs1',
    from: 'up',
    reason: 'http 503',
    at: 1,
  };
  for (const d of directors) d.health.emit('event', down);
  for (const d of directors) raised.push(...d.raised.map((r) => r.type));
  t.deepEqual(raised, ['real_server_down']);
  t.is(directors[0].raised.length, 1, 'd1 speaks for web');
  // A service d1 does not speak for: d2 does not either here, so nothing.
  directors[0].health.emit('event', { ...down, service: 'other' });
  t.is(directors[0].raised.length, 1);
});
