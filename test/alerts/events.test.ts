import test from 'ava';
import { describeEvent } from '../../alerts/event-text.ts';
import {
  ALERT_EVENT_TYPES,
  createAlertEventFactory,
  parseAlertEvent,
  severityOf,
} from '../../alerts/events.ts';
import { checkEventSelector, selectorsMatch } from '../../alerts/targets.ts';

test('the factory stamps id, time, node and severity; ids are unique by default', (t) => {
  const f = createAlertEventFactory({ node: 'dir-a', now: () => 1_700_000_000_123.7 });
  const e = f.make('became_fault', { group: 'g1', previous: 'master', reason: 'interface eth0 down' });
  t.like(e, {
    type: 'became_fault',
    node: 'dir-a',
    time: 1_700_000_000_123,
    severity: 'critical',
    group: 'g1',
  });
  t.regex(e.id, /^evt_[0-9a-f]{32}$/);
  const seen = new Set(Array.from({ length: 1000 }, () => f.make('test', { message: 'x' }).id));
  t.is(seen.size, 1000);
});

test('every event type round-trips through the schema and has wording', (t) => {
  const f = createAlertEventFactory({ node: 'n', newId: () => 'evt_fixed', now: () => 0 });
  const samples = [
    f.make('became_master', { group: 'g', previous: 'backup', reason: 'r' }),
    f.make('became_backup', { group: 'g', previous: 'master', reason: 'r' }),
    f.make('became_fault', { group: 'g', previous: 'init', reason: 'r' }),
    f.make('failover_completed', { group: 'g', durationSeconds: 0.33, syncLagSeconds: 0.01 }),
    f.make('peer_lost', { peer: 'p' }),
    f.make('peer_recovered', { peer: 'p', downSeconds: 12 }),
    f.make('quorum_lost', { voters: ['a', 'b', 'w'], reachable: ['a'] }),
    f.make('quorum_regained', { reachable: ['a', 'w'], downSeconds: 3 }),
    f.make('leader_changed', { leader: 'a', previous: 'b', term: 7 }),
    f.make('split_brain_detected', { group: 'g', masters: ['a', 'b'] }),
    f.make('split_brain_resolved', { group: 'g' }),
    f.make('vip_conflict', {
      group: 'g',
      vip: '198.18.0.200',
      mac: '02:d5:00:00:09:09',
      ownMac: '02:d5:00:00:01:00',
    }),
    f.make('fingerprint_mismatch', { peer: 'p', localFingerprint: 'aa', peerFingerprint: 'bb' }),
    f.make('fingerprint_match', { peer: 'p', fingerprint: 'aa' }),
    f.make('real_server_down', { service: 's', realServer: 'r', reason: 'x' }),
    f.make('real_server_up', { service: 's', realServer: 'r' }),
    f.make('service_down', { service: 's', reason: 'x' }),
    f.make('service_up', { service: 's', realServersUp: 2 }),
    f.make('drain_complete', {
      service: 's',
      realServer: 'r',
      outcome: 'no_flows',
      durationSeconds: 30,
      remainingFlows: 0,
      closingFlows: 2,
    }),
    f.make('sync_lag_high', { lagSeconds: 2, thresholdSeconds: 1 }),
    f.make('sync_lag_normal', { peer: 'p', lagSeconds: 0.1, thresholdSeconds: 1 }),
    f.make('drill_result', { group: 'g', passed: false, outageSeconds: 0.4, detail: 'd' }),
    f.make('heartbeat', { groups: ['g'] }),
    f.make('test', { message: 'm' }),
  ];
  t.deepEqual(new Set(samples.map((s) => s.type)), new Set(ALERT_EVENT_TYPES), 'one sample per type');
  for (const s of samples) {
    t.deepEqual(parseAlertEvent(JSON.parse(JSON.stringify(s))), s, s.type);
    const d = describeEvent(s);
    t.true(d.title.length > 0 && d.detail.length > 0, s.type);
  }
  t.is(severityOf('drill_result', { passed: true }), 'info');
  t.is(samples.find((x) => x.type === 'drill_result')?.severity, 'warning');
  t.is(samples.find((x) => x.type === 'vip_conflict')?.severity, 'critical');
});

test('parseAlertEvent rejects what does not fit', (t) => {
  const good = createAlertEventFactory({ node: 'n' }).make('peer_lost', { peer: 'p' });
  t.is(parseAlertEvent({ ...good, type: 'peer.gone' }), null);
  t.is(parseAlertEvent({ ...good, peer: 7 }), null);
  t.is(parseAlertEvent({ ...good, time: -1 }), null);
  t.is(parseAlertEvent({ ...good, severity: 'meh' }), null);
  t.is(parseAlertEvent('peer_lost'), null);
  t.is(parseAlertEvent(null), null);
});

test('event selectors: exact, prefix* and *', (t) => {
  t.true(selectorsMatch(['*'], 'test'));
  t.true(selectorsMatch(['became_*'], 'became_fault'));
  t.false(selectorsMatch(['became_*'], 'real_server_down'));
  t.true(selectorsMatch(['peer_lost', 'split_brain_*'], 'split_brain_resolved'));
  t.false(selectorsMatch(['peer_lost'], 'peer_recovered'));
  t.is(checkEventSelector('became_*'), null);
  t.regex(checkEventSelector('becam_x*') ?? '', /no event type starts with/);
  t.regex(checkEventSelector('became_maser') ?? '', /unknown event type "became_maser"/);
});
