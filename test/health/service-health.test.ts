import test from 'ava';
import {
  backendsChanged,
  combineHealth,
  downReason,
  evaluateService,
  type ServiceHealthSpec,
  type ServiceInputs,
} from '../../health/service-health.ts';
import type { Health } from '../../health/target-health.ts';

const spec = (o: Partial<ServiceHealthSpec> = {}): ServiceHealthSpec => ({
  name: 'web',
  minHealthy: 2,
  hysteresis: 0,
  sorryServer: null,
  sorryWeight: 1,
  realServers: [
    { id: 'rs1', weight: 10 },
    { id: 'rs2', weight: 20 },
    { id: 'rs3', weight: 30 },
  ],
  ...o,
});

function inputs(
  health: Record<string, Health>,
  drained: string[] = [],
  overrides: Record<string, number> = {},
): ServiceInputs {
  return {
    health: (rs) => health[rs] ?? 'unknown',
    drained: (rs) => drained.includes(rs),
    weight: (rs, configured) => (drained.includes(rs) ? 0 : (overrides[rs] ?? configured)),
  };
}

const weights = (v: ReturnType<typeof evaluateService>) => v.backends.map((b) => [b.id, b.weight]);

test('combineHealth: down beats unknown beats up; no checks is up', (t) => {
  t.is(combineHealth([]), 'up');
  t.is(combineHealth(['up', 'up']), 'up');
  t.is(combineHealth(['up', 'unknown']), 'unknown');
  t.is(combineHealth(['unknown', 'down', 'up']), 'down');
});

test('weights: configured weight when up, 0 when down or unknown', (t) => {
  const v = evaluateService(spec(), 'unknown', inputs({ rs1: 'up', rs2: 'down' }));
  t.deepEqual(weights(v), [
    ['rs1', 10],
    ['rs2', 0],
    ['rs3', 0],
  ]);
});

test('quorum: up at minHealthy, down below it with a reason', (t) => {
  t.is(evaluateService(spec(), 'up', inputs({ rs1: 'up', rs2: 'up', rs3: 'down' })).status, 'up');
  const down = evaluateService(spec(), 'up', inputs({ rs1: 'up', rs2: 'down', rs3: 'down' }));
  t.is(down.status, 'down');
  t.is(down.healthy, 1);
  t.is(downReason(down), '1 of 3 real servers can take new flows, minimum 2');
  // Without a sorry server the remaining real server keeps taking new flows.
  t.deepEqual(weights(down), [
    ['rs1', 10],
    ['rs2', 0],
    ['rs3', 0],
  ]);
});

test('quorum: unknown until the verdicts are in, unless the quorum is already met', (t) => {
  t.is(evaluateService(spec(), 'unknown', inputs({})).status, 'unknown');
  t.is(evaluateService(spec(), 'unknown', inputs({ rs1: 'up' })).status, 'unknown');
  t.is(evaluateService(spec(), 'unknown', inputs({ rs1: 'up', rs2: 'up' })).status, 'up');
  t.is(evaluateService(spec(), 'unknown', inputs({ rs1: 'up', rs2: 'down', rs3: 'down' })).status, 'down');
});

test('quorum: hysteresis keeps the service from bouncing around the minimum', (t) => {
  const s = spec({ minHealthy: 2, hysteresis: 1 });
  const one = inputs({ rs1: 'up', rs2: 'down', rs3: 'down' });
  const two = inputs({ rs1: 'up', rs2: 'up', rs3: 'down' });
  const three = inputs({ rs1: 'up', rs2: 'up', rs3: 'up' });
  t.is(evaluateService(s, 'up', one).status, 'up', 'stays up down to min - h');
  t.is(evaluateService(s, 'up', inputs({ rs1: 'down', rs2: 'down', rs3: 'down' })).status, 'down');
  t.is(evaluateService(s, 'down', two).status, 'down', 'needs min + h to come back');
  t.is(evaluateService(s, 'down', three).status, 'up');
});

test('minHealthy 0: never down', (t) => {
  t.is(evaluateService(spec({ minHealthy: 0 }), 'unknown', inputs({})).status, 'up');
  t.is(
    evaluateService(spec({ minHealthy: 0 }), 'up', inputs({ rs1: 'down', rs2: 'down', rs3: 'down' })).status,
    'up',
  );
});

test('drained and zero-weight real servers get no new flows and do not count for the quorum', (t) => {
  const s = spec({ realServers: [...spec().realServers, { id: 'rs4', weight: 0 }] });
  const v = evaluateService(s, 'up', inputs({ rs1: 'up', rs2: 'up', rs3: 'up', rs4: 'up' }, ['rs1', 'rs2']));
  t.is(v.status, 'down');
  t.is(v.healthy, 1);
  t.deepEqual(
    v.backends.map((b) => [b.id, b.weight, b.drained]),
    [
      ['rs1', 0, true],
      ['rs2', 0, true],
      ['rs3', 30, false],
      ['rs4', 0, false],
    ],
  );
});

test('operator weight overrides apply to up real servers', (t) => {
  const v = evaluateService(
    spec(),
    'up',
    inputs({ rs1: 'up', rs2: 'up', rs3: 'down' }, [], { rs1: 99, rs3: 5 }),
  );
  t.deepEqual(weights(v), [
    ['rs1', 99],
    ['rs2', 20],
    ['rs3', 0],
  ]);
});

test('sorry server: listed last at weight 0, takes all new flows while the service is down', (t) => {
  const s = spec({ sorryServer: 'sorry', sorryWeight: 5 });
  const up = evaluateService(s, 'up', inputs({ rs1: 'up', rs2: 'up', rs3: 'up' }));
  t.false(up.sorryActive);
  t.deepEqual(up.backends.at(-1), { id: 'sorry', weight: 0, health: 'unknown', drained: false, sorry: true });
  const down = evaluateService(s, 'up', inputs({ rs1: 'up', rs2: 'down', rs3: 'down' }));
  t.true(down.sorryActive);
  t.deepEqual(weights(down), [
    ['rs1', 0],
    ['rs2', 0],
    ['rs3', 0],
    ['sorry', 5],
  ]);
  t.regex(downReason(down), /sorry server/);
});

test('backendsChanged: only ids and weights matter', (t) => {
  const a = evaluateService(spec(), 'up', inputs({ rs1: 'up', rs2: 'up', rs3: 'up' })).backends;
  const b = evaluateService(spec(), 'up', inputs({ rs1: 'up', rs2: 'up', rs3: 'up' })).backends;
  t.false(backendsChanged(a, b));
  t.true(backendsChanged(undefined, b));
  t.true(
    backendsChanged(a, evaluateService(spec(), 'up', inputs({ rs1: 'up', rs2: 'up', rs3: 'down' })).backends),
  );
});
