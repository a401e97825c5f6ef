/**
 * The health part end to end under a fake clock, with fake checkers whose verdict per address the
 * test sets. (The real checkers are tested against real servers in the *-checker tests, and the
 * part with real checkers in engine-live.test.ts.)
 */
import test from 'ava';
import { isDsrError } from '../../core/errors.ts';
import type { CheckSpec } from '../../health/check-spec.ts';
import type { Checker } from '../../health/checker.ts';
import { HealthEngine } from '../../health/engine.ts';
import type { HealthEvent } from '../../health/health-events.ts';
import type { HealthServiceSpec, HealthSpec } from '../../health/health-spec.ts';
import { FakeTimers, flush, seededRandom } from './fake-timers.ts';

const tcp = (o: Partial<CheckSpec> = {}): CheckSpec =>
  ({ kind: 'tcp', intervalMs: 1000, timeoutMs: 500, rise: 2, fall: 3, ...o }) as CheckSpec;

function service(o: Partial<HealthServiceSpec> = {}): HealthServiceSpec {
  return {
    name: 'web',
    port: 80,
    minHealthy: 2,
    drainTimeoutMs: 60_000,
    drainStopsPersistence: true,
    realServers: ['198.18.0.100', '198.18.0.101', '198.18.0.102'].map((address, i) => ({
      id: `rs${i + 1}`,
      address,
      weight: 10 * (i + 1),
      checks: [tcp()],
    })),
    ...o,
  };
}

function setup(spec: HealthSpec = { services: [service()], damping: null }) {
  const timers = new FakeTimers();
  const healthy = new Map<string, boolean>();
  const flows = new Map<string, number>();
  const probes: string[] = [];
  const factory = (s: CheckSpec): Checker => ({
    kind: s.kind,
    timeoutMs: s.timeoutMs ?? 1000,
    check: async (target) => {
      probes.push(`${target.address}:${target.port}`);
      const ok = healthy.get(target.address) ?? true;
      return { ok, latencyMs: 1, detail: ok ? 'connected' : 'ECONNREFUSED' };
    },
  });
  const part = new HealthEngine(spec, {
    timers,
    random: seededRandom(1),
    checkerFactory: factory,
    remainingFlows: (rs, svc) => ({ open: flows.get(`${rs}/${svc ?? '*'}`) ?? 0, closing: 0 }),
    drainTickMs: 1000,
  });
  const events: HealthEvent[] = [];
  part.on('event', (e) => events.push(e));
  const of = <T extends HealthEvent['type']>(type: T) =>
    events.filter((e): e is Extract<HealthEvent, { type: T }> => e.type === type);
  return { timers, healthy, flows, probes, part, events, of };
}

const weights = (part: HealthEngine, svc = 'web') => part.backends(svc).map((b) => `${b.id}=${b.weight}`);

test('start publishes backends at weight 0, the first round of checks brings everything up', async (t) => {
  const h = setup();
  h.part.start();
  t.teardown(() => h.part.stop());
  t.deepEqual(
    h.of('backends').map((e) => e.backends.map((b) => b.weight)),
    [[0, 0, 0]],
  );
  t.is(h.part.serviceStatus('web'), 'unknown');
  await h.timers.advance(1000);
  t.deepEqual(
    h
      .of('realserver.up')
      .map((e) => `${e.realserver} from ${e.from}`)
      .sort(),
    ['rs1 from unknown', 'rs2 from unknown', 'rs3 from unknown'],
  );
  t.like(h.of('service.up'), [{ service: 'web', from: 'unknown' }]);
  t.deepEqual(weights(h.part), ['rs1=10', 'rs2=20', 'rs3=30']);
  t.deepEqual(h.part.trackedServices(), [{ service: 'web', failed: false }]);
});

test('a real server that stops answering is down within fall x interval and loses its weight', async (t) => {
  const h = setup();
  h.part.start();
  t.teardown(() => h.part.stop());
  await h.timers.advance(5000);
  const before = h.events.length;
  const failedAt = h.timers.now();
  h.healthy.set('198.18.0.101', false);
  await h.timers.advance(3000); // fall 3, interval 1000
  const down = h.of('realserver.down');
  t.is(down.length, 1);
  t.like(down[0], { service: 'web', realserver: 'rs2', from: 'up' });
  t.regex(down[0].reason, /tcp check of 198.18.0.101 port 80: ECONNREFUSED/);
  t.true(down[0].at - h.timers.wallBase <= failedAt + 3000);
  t.deepEqual(weights(h.part), ['rs1=10', 'rs2=0', 'rs3=30']);
  // Transitions only: target status, real server, backends; the service stays up (2 of 3).
  t.deepEqual(
    h.events.slice(before).map((e) => e.type),
    ['target.status', 'realserver.down', 'backends'],
  );
  h.healthy.set('198.18.0.101', true);
  await h.timers.advance(2000); // rise 2
  t.like(h.of('realserver.up').at(-1), { realserver: 'rs2', from: 'down' });
  t.deepEqual(weights(h.part), ['rs1=10', 'rs2=20', 'rs3=30']);
});

test('losing the quorum takes the service down, fails the tracked condition, activates the sorry server', async (t) => {
  const h = setup({ services: [service({ sorryServer: '198.18.0.250', sorryWeight: 1 })], damping: null });
  h.part.start();
  t.teardown(() => h.part.stop());
  await h.timers.advance(2000);
  h.healthy.set('198.18.0.100', false);
  h.healthy.set('198.18.0.101', false);
  await h.timers.advance(3000);
  t.like(h.of('service.down'), [{ service: 'web', from: 'up' }]);
  t.regex(h.of('service.down')[0].reason, /1 of 3 .* minimum 2; new flows go to the sorry server/);
  t.deepEqual(h.part.trackedServices(), [{ service: 'web', failed: true }]);
  t.deepEqual(
    h.part.trackedConditions([
      { name: 'web', weight: 50 },
      { name: 'not-here', weight: 0 },
    ]),
    [
      { name: 'web', weight: 50, failed: true },
      { name: 'not-here', weight: 0, failed: false },
    ],
  );
  t.deepEqual(weights(h.part), ['rs1=0', 'rs2=0', 'rs3=0', '198.18.0.250=1']);
  t.true(h.of('backends').at(-1)!.sorryActive);
  h.healthy.clear();
  await h.timers.advance(2000);
  // rs3 never failed, so the quorum (2) is back with the first of rs1/rs2 to rise.
  t.like(h.of('service.up').at(-1), { from: 'down', realServersUp: 2 });
  t.deepEqual(weights(h.part), ['rs1=10', 'rs2=20', 'rs3=30', '198.18.0.250=0']);
});

test('drain: weight 0 at once, countdown, completion event and waitForDrain; enable restores', async (t) => {
  const h = setup();
  h.part.start();
  t.teardown(() => h.part.stop());
  await h.timers.advance(2000);
  h.flows.set('rs1/web', 2);
  const entry = h.part.drain('rs1', { service: 'web' });
  t.like(entry, { rs: 'rs1', service: 'web', state: 'draining', timeoutMs: 60_000, stopPersistence: true });
  t.deepEqual(weights(h.part), ['rs1=0', 'rs2=20', 'rs3=30']);
  t.false(h.part.allowsNewPersistence('rs1', 'web'));
  const waited = h.part.waitForDrain('rs1', 'web');
  await h.timers.advance(1000);
  t.like(h.of('drain.progress'), [{ rs: 'rs1', remaining: 2 }]);
  h.flows.set('rs1/web', 0);
  await h.timers.advance(1000);
  t.like(h.of('drain.complete'), [{ rs: 'rs1', service: 'web', outcome: 'no-flows', durationMs: 2000 }]);
  t.like(await waited, { state: 'drained', outcome: 'no-flows' });
  t.is(h.timers.pendingCount, 3, 'only the three check timers remain: the drain tick stopped');
  h.part.enable('rs1');
  t.like(h.of('drain.ended'), [{ rs: 'rs1', completed: true }]);
  t.deepEqual(weights(h.part), ['rs1=10', 'rs2=20', 'rs3=30']);
});

test('drain: waitForDrain rejects when the drain is ended first; unknown names are refused', async (t) => {
  const h = setup();
  h.part.start();
  t.teardown(() => h.part.stop());
  h.flows.set('rs2/*', 1);
  h.part.drain('rs2');
  const waited = h.part.waitForDrain('rs2', null);
  h.part.enable('rs2');
  await t.throwsAsync(waited, { message: /ended before it completed/ });
  for (const bad of [
    () => h.part.drain('nope'),
    () => h.part.drain('rs1', { service: 'dns' }),
    () => h.part.setWeight('rs1', 70_000),
  ]) {
    const err = t.throws(bad);
    t.true(isDsrError(err, 'E_ADMIN_REQUEST'), String(err));
  }
});

test('setWeight changes the forwarder weight of an up real server', async (t) => {
  const h = setup();
  h.part.start();
  t.teardown(() => h.part.stop());
  await h.timers.advance(1000);
  h.part.setWeight('rs3', 1);
  t.deepEqual(weights(h.part), ['rs1=10', 'rs2=20', 'rs3=1']);
  t.like(h.of('weight.set'), [{ rs: 'rs3', weight: 1 }]);
  h.part.setWeight('rs3', null);
  t.deepEqual(weights(h.part), ['rs1=10', 'rs2=20', 'rs3=30']);
});

test('drain state moves to another director and takes effect there', async (t) => {
  const a = setup();
  const b = setup();
  a.part.start();
  b.part.start();
  t.teardown(() => a.part.stop());
  t.teardown(() => b.part.stop());
  await a.timers.advance(1000);
  await b.timers.advance(1000);
  a.part.drain('rs2');
  a.part.setWeight('rs3', 5);
  b.part.restoreDrains(JSON.parse(JSON.stringify(a.part.drainSnapshot())));
  t.deepEqual(weights(b.part), ['rs1=10', 'rs2=0', 'rs3=5']);
  t.throws(() => b.part.restoreDrains({ version: 1, drains: 'x', weights: [] }));
  t.deepEqual(weights(b.part), ['rs1=10', 'rs2=0', 'rs3=5']);
});

test('two services checking the same real server the same way share one probe', async (t) => {
  const h = setup({ services: [service(), service({ name: 'web-alt' })], damping: null });
  h.part.start();
  t.teardown(() => h.part.stop());
  await h.timers.advance(1000);
  t.is(h.probes.length, 3);
  t.is(h.part.status().scheduler.jobs, 3);
  t.deepEqual(weights(h.part, 'web-alt'), ['rs1=10', 'rs2=20', 'rs3=30']);
});

test('reload: timing changes keep health; a new real server starts unknown; a changed probe inherits', async (t) => {
  const h = setup();
  h.part.start();
  t.teardown(() => h.part.stop());
  await h.timers.advance(2000);
  const before = h.events.length;
  const next = service();
  next.realServers[0].checks = [tcp({ intervalMs: 500, rise: 1, fall: 1 })]; // timing only
  next.realServers[1].checks = [{ kind: 'http', path: '/health', intervalMs: 1000 }]; // new probe, same place
  next.realServers.push({ id: 'rs4', address: '198.18.0.103', weight: 40, checks: [tcp()] });
  h.part.reload({ services: [next], damping: null });
  // Health is kept (no target or real server events); the forwarder learns of rs4, at weight 0
  // until its first check.
  t.deepEqual(
    h.events.slice(before).map((e) => e.type),
    ['backends'],
  );
  t.deepEqual(weights(h.part), ['rs1=10', 'rs2=20', 'rs3=30', 'rs4=0']);
  t.like(h.part.status().services[0].realServers[1].checks, [{ kind: 'http', status: 'up', last: null }]);
  await h.timers.advance(1000);
  t.deepEqual(weights(h.part), ['rs1=10', 'rs2=20', 'rs3=30', 'rs4=40']);
  t.deepEqual(
    h
      .of('realserver.up')
      .slice(-1)
      .map((e) => [e.realserver, e.from]),
    [['rs4', 'unknown']],
  );
});

test('reload: a bad spec is refused and the running checks are untouched', async (t) => {
  const h = setup();
  h.part.start();
  t.teardown(() => h.part.stop());
  await h.timers.advance(1000);
  const bad = service({ port: 0 }); // tcp checks without a port of their own
  const err = t.throws(() => h.part.reload({ services: [bad], damping: null }));
  t.true(isDsrError(err, 'E_CONFIG_INVALID'));
  t.regex(err!.message, /needs a port/);
  t.deepEqual(weights(h.part), ['rs1=10', 'rs2=20', 'rs3=30']);
  t.is(h.part.status().scheduler.jobs, 3);
});

test('status: per service, real server and check, JSON-able', async (t) => {
  const h = setup();
  h.part.start();
  t.teardown(() => h.part.stop());
  h.healthy.set('198.18.0.102', false);
  await h.timers.advance(1000);
  const s = h.part.status();
  t.notThrows(() => JSON.stringify(s));
  t.like(s.services[0], { name: 'web', status: 'up', healthy: 2, minHealthy: 2, sorryActive: false });
  t.like(s.services[0].realServers[2], {
    id: 'rs3',
    health: 'down',
    configuredWeight: 30,
    effectiveWeight: 0,
    checks: [{ kind: 'tcp', port: 80, status: 'down', lastFailure: 'ECONNREFUSED', rise: 2, fall: 3 }],
  });
});

test('stop: no checks and no events afterwards', async (t) => {
  const h = setup();
  h.part.start();
  await h.timers.advance(1000);
  await h.part.stop();
  const n = h.events.length;
  const probes = h.probes.length;
  h.healthy.set('198.18.0.100', false);
  await h.timers.advance(10_000);
  await flush();
  t.is(h.events.length, n);
  t.is(h.probes.length, probes);
});

test('flap damping through the part: a bouncing real server is held out of the table', async (t) => {
  const h = setup({
    services: [
      service({
        realServers: [{ id: 'rs1', address: '198.18.0.100', weight: 1, checks: [tcp({ rise: 1, fall: 1 })] }],
        minHealthy: 1,
      }),
    ],
  });
  h.part.start();
  t.teardown(() => h.part.stop());
  for (let i = 0; i < 8; i++) {
    h.healthy.set('198.18.0.100', i % 2 === 1);
    await h.timers.advance(1000);
  }
  t.is(h.of('target.suppressed').length, 1);
  t.deepEqual(weights(h.part), ['rs1=0']);
  h.healthy.set('198.18.0.100', true);
  await h.timers.advance(30_000);
  t.deepEqual(weights(h.part), ['rs1=0'], 'still suppressed although the checks pass');
  await h.timers.advance(300_000);
  t.deepEqual(weights(h.part), ['rs1=1']);
  t.like(h.of('target.status').at(-1), { to: 'up', cause: 'damping' });
});
