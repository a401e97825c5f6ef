/**
 * The health part as dsrd runs it: built from a parsed config, commands on a real admin registry,
 * status contribution. Checkers are fakes here: the config's real servers are lab addresses that
 * this process must not send to.
 */
import test from 'ava';
import { pino } from 'pino';
import { CommandRegistry } from '../../admin/registry.ts';
import { diffConfig } from '../../config/index.ts';
import { HealthPart } from '../../daemon/health/part.ts';
import type { PartContext } from '../../daemon/part.ts';
import type { CheckSpec } from '../../health/check-spec.ts';
import type { Checker } from '../../health/checker.ts';
import { fakeFiles, KEY_BYTES, parseOk, yaml } from '../config/helpers.ts';
import { FakeTimers } from '../health/fake-timers.ts';

const files = fakeFiles({ '/etc/dsr/k1.key': { bytes: KEY_BYTES } });

const configText = (extraRs = '') =>
  yaml(
    'node:',
    '  id: lb1',
    'interfaces:',
    '  - name: eth0',
    'vip_groups:',
    '  - name: web',
    '    id: 1',
    '    vips: [198.18.100.10]',
    'services:',
    '  - name: http',
    '    vip: 198.18.100.10',
    '    protocol: tcp',
    '    port: 80',
    '    min_healthy: 1',
    '    drain: {timeout_s: 30}',
    '    health_check: {kind: tcp, interval_ms: 1000, rise: 1, fall: 1}',
    '    real_servers:',
    '      - address: 198.18.200.1',
    '      - address: 198.18.200.2',
    extraRs,
  );

function setup() {
  const timers = new FakeTimers();
  const flows = new Map<string, number>();
  const down = new Set<string>();
  const registry = new CommandRegistry();
  const part = new HealthPart({
    timers,
    random: () => 0,
    remainingFlows: (rs) => ({ open: flows.get(rs) ?? 0, closing: 0 }),
    checkerFactory: (s: CheckSpec): Checker => ({
      kind: s.kind,
      timeoutMs: 500,
      check: async (target) => ({ ok: !down.has(target.address), latencyMs: 1, detail: 'fake' }),
    }),
  });
  const config = parseOk(configText(), files);
  const ctx = {
    config,
    log: pino({ level: 'silent' }),
    admin: registry,
    signal: new AbortController().signal,
    fatal: () => {},
  } as unknown as PartContext;
  const call = (cmd: string, args: Record<string, unknown>, progress: unknown[] = []) =>
    registry.dispatch(
      { v: 1, id: 1, cmd, args },
      { progress: (e) => progress.push(e), signal: new AbortController().signal },
    );
  return { timers, flows, down, registry, part, ctx, config, call };
}

test('start registers the commands, stop removes them', async (t) => {
  const h = setup();
  h.part.start(h.ctx);
  t.deepEqual(
    ['drain', 'enable', 'weight', 'health'].map((c) => h.registry.has(c)),
    [true, true, true, true],
  );
  await h.part.stop();
  t.false(h.registry.has('drain'));
  t.deepEqual(h.part.trackedServices(), []);
});

test('drain --wait streams the countdown and answers on completion; enable and weight work', async (t) => {
  const h = setup();
  h.part.start(h.ctx);
  t.teardown(() => h.part.stop());
  await h.timers.advance(1000);
  h.flows.set('198.18.200.1', 2);
  const progress: unknown[] = [];
  const reply = h.call('drain', { rs: '198.18.200.1', wait: true }, progress);
  await h.timers.advance(1000);
  h.flows.set('198.18.200.1', 1);
  await h.timers.advance(1000);
  h.flows.set('198.18.200.1', 0);
  await h.timers.advance(1000);
  const r = await reply;
  t.like(r, {
    ok: true,
    result: { rs: '198.18.200.1', state: 'drained', outcome: 'no-flows', timeoutMs: 30_000 },
  });
  t.deepEqual(progress, [
    { rs: '198.18.200.1', service: null, remaining: 2, closing: 0, secondsLeft: 29 },
    { rs: '198.18.200.1', service: null, remaining: 1, closing: 0, secondsLeft: 28 },
  ]);
  t.deepEqual(
    h.part.backends('http').map((b) => b.weight),
    [0, 1],
  );
  t.like(await h.call('enable', { rs: '198.18.200.1' }), { ok: true });
  t.like(await h.call('weight', { rs: '198.18.200.2', weight: 9, service: 'http' }), { ok: true });
  t.deepEqual(
    h.part.backends('http').map((b) => b.weight),
    [1, 9],
  );
});

test('bad arguments and unknown real servers are refused with a clear error', async (t) => {
  const h = setup();
  h.part.start(h.ctx);
  t.teardown(() => h.part.stop());
  const notIp = await h.call('drain', { rs: 'web1' });
  t.false(notIp.ok);
  const unknown = await h.call('drain', { rs: '198.18.200.77' });
  t.like(unknown, { ok: false, error: { code: 'E_ADMIN_REQUEST' } });
  const badWeight = await h.call('weight', { rs: '198.18.200.1', weight: -1 });
  t.false(badWeight.ok);
});

test('status contributes real-server states for dsrctl status, and the detail', async (t) => {
  const h = setup();
  h.down.add('198.18.200.2');
  h.part.start(h.ctx);
  t.teardown(() => h.part.stop());
  await h.timers.advance(1000);
  h.part.engine!.drain('198.18.200.1');
  const s = h.part.status();
  t.deepEqual(s.services, [
    {
      name: 'http',
      state: 'down',
      realServers: [
        { address: '198.18.200.1', weight: 0, configuredWeight: 1, state: 'draining' },
        { address: '198.18.200.2', weight: 0, configuredWeight: 1, state: 'down' },
      ],
    },
  ]);
  t.is(s.health?.services[0].name, 'http');
  t.deepEqual(h.part.trackedServices(), [{ service: 'http', failed: true }]);
});

test('status lists the sorry server, marked, taking new flows only while the service is down', async (t) => {
  const h = setup();
  const config = parseOk(
    configText().replace('    min_healthy: 1', '    min_healthy: 2\n    sorry_server: 198.18.200.9'),
    files,
  );
  h.part.start({ ...h.ctx, config } as PartContext);
  t.teardown(() => h.part.stop());
  await h.timers.advance(1000);
  const sorryRow = () => h.part.status().services?.[0].realServers?.find((r) => r.sorry === true);
  t.like(h.part.status().services?.[0], { state: 'up' });
  t.deepEqual(sorryRow(), {
    address: '198.18.200.9',
    weight: 0,
    configuredWeight: 0,
    state: 'disabled',
    sorry: true,
  });
  h.down.add('198.18.200.2');
  await h.timers.advance(1000);
  t.like(h.part.status().services?.[0], { state: 'down' });
  t.like(sorryRow(), { address: '198.18.200.9', state: 'up' });
  t.true((sorryRow()?.weight ?? 0) > 0, 'it has the new flows');
});

test('reload applies a config change to the running checks', async (t) => {
  const h = setup();
  h.part.start(h.ctx);
  t.teardown(() => h.part.stop());
  await h.timers.advance(1000);
  const next = parseOk(configText('      - address: 198.18.200.3'), files);
  const change = { previous: h.config, next, diff: diffConfig(h.config, next) };
  t.true(h.part.affectedBy(change));
  h.part.reload(change);
  await h.timers.advance(1000);
  t.deepEqual(
    h.part.backends('http').map((b) => `${b.id}=${b.weight}`),
    ['198.18.200.1=1', '198.18.200.2=1', '198.18.200.3=1'],
  );
});
