/**
 * Health checks in the lab: a director namespace checks two real servers (HTTP body, TCP, UDP
 * reply, over IPv4 and IPv6). Stopping the services on one real server marks it down within
 * fall x interval (plus one interval of slack for a busy machine); starting them again brings it
 * back after rise, and the other real server is never disturbed.
 */
import { fileURLToPath } from 'node:url';
import test from 'ava';
import type { HealthEvent } from '../../health/health-events.ts';
import type { HealthSpec } from '../../health/health-spec.ts';
import {
  createLab,
  type Host,
  type Lab,
  type LabProcess,
  requireRoot,
  startRealServerServices,
} from '../../lab/index.ts';

const skip = requireRoot();
if (skip) {
  test('health lab tests skipped', (t) => {
    t.log(`skipped: ${skip}`);
    t.pass();
  });
}
const labTest = skip ? test.skip : test.serial;

const RUNNER = fileURLToPath(new URL('./lab-health-runner.ts', import.meta.url));
const INTERVAL = 200;
const FALL = 3;
const RISE = 2;

function spec(rs: Host[]): HealthSpec {
  const timing = { intervalMs: INTERVAL, timeoutMs: 150, rise: RISE, fall: FALL };
  return {
    damping: null,
    services: [
      {
        name: 'web',
        port: 80,
        minHealthy: 1,
        drainTimeoutMs: 0,
        drainStopsPersistence: false,
        realServers: rs.flatMap((h) => [
          {
            id: `${h.name}-v4`,
            address: h.ipv4,
            weight: 1,
            checks: [
              { kind: 'http' as const, bodyRegex: `^${h.name}\\n$`, ...timing },
              { kind: 'tcp' as const, port: 7000, ...timing },
              {
                kind: 'udp' as const,
                port: 7001,
                payload: 'ping',
                expectRegex: `^${h.name} ping$`,
                ...timing,
              },
            ],
          },
          {
            id: `${h.name}-v6`,
            address: h.ipv6,
            weight: 1,
            checks: [{ kind: 'http' as const, ...timing }],
          },
        ]),
      },
    ],
  };
}

let lab: Lab;
const services = new Map<string, LabProcess>();

test.before(async () => {
  if (skip) return;
  lab = await createLab({ clients: 0, directors: 1, realServers: 2, startServers: false });
  for (const rs of lab.realServers) services.set(rs.name, await startRealServerServices(lab, rs));
});
test.after.always(async () => {
  await lab?.destroy();
});

labTest('a stopped service is detected down within fall x interval and comes back after rise', async (t) => {
  const events: HealthEvent[] = [];
  const waiters: { match: (e: HealthEvent) => boolean; resolve: (e: HealthEvent) => void }[] = [];
  const runner = lab.node(lab.directors[0], RUNNER, [JSON.stringify(spec(lab.realServers))], {
    onLine: (line) => {
      if (!line.startsWith('{')) return;
      const e = JSON.parse(line) as HealthEvent;
      events.push(e);
      for (const w of [...waiters]) {
        if (w.match(e)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(e);
        }
      }
    },
  });
  t.teardown(() => runner.stop());
  const next = (match: (e: HealthEvent) => boolean, ms = 15_000): Promise<HealthEvent> => {
    const seen = events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('expected health event did not come')), ms);
      waiters.push({
        match,
        resolve: (e) => {
          clearTimeout(timer);
          resolve(e);
        },
      });
    });
  };
  const rsEvent =
    (type: string, id: string, after = 0) =>
    (e: HealthEvent) =>
      e.type === type && 'realserver' in e && e.realserver === id && e.at >= after;

  await runner.waitForLine(/^READY$/, 15_000);
  await Promise.all(['r1-v4', 'r1-v6', 'r2-v4', 'r2-v6'].map((id) => next(rsEvent('realserver.up', id))));
  t.truthy(await next((e) => e.type === 'service.up'));

  const stoppedAt = Date.now();
  await services.get('r1')!.stop();
  const downV4 = await next(rsEvent('realserver.down', 'r1-v4', stoppedAt));
  const downV6 = await next(rsEvent('realserver.down', 'r1-v6', stoppedAt));
  const detected = Math.max(downV4.at, downV6.at) - stoppedAt;
  t.log(`r1 down after ${detected} ms (fall x interval = ${FALL * INTERVAL} ms)`);
  t.true(detected <= (FALL + 1) * INTERVAL + 300, `took ${detected} ms`);
  t.regex((downV4 as { reason: string }).reason, /ECONNREFUSED/);

  const restartedAt = Date.now();
  services.set('r1', await startRealServerServices(lab, lab.realServers[0]));
  const up = await next(rsEvent('realserver.up', 'r1-v4', restartedAt));
  t.log(`r1 back after ${up.at - restartedAt} ms (rise x interval = ${RISE * INTERVAL} ms)`);
  await next(rsEvent('realserver.up', 'r1-v6', restartedAt));

  // r2 was never disturbed, and the service never went down (quorum 1).
  t.false(
    events.some((e) => 'realserver' in e && e.realserver.startsWith('r2') && e.type === 'realserver.down'),
  );
  t.false(events.some((e) => e.type === 'service.down'));
});
