/**
 * The health part with its real checkers and the real clock against real servers on loopback:
 * a service stops (its port closes), the part takes the real server out; it comes back, the part
 * puts it back. Intervals are short so the test is quick; it waits on events, not on the clock.
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:net';
import test from 'ava';
import { HealthEngine } from '../../health/engine.ts';
import type { HealthEvent } from '../../health/health-events.ts';
import { httpServer } from './local-servers.ts';

/** The next event of the part that `match` accepts (an event subscription, not a poll). */
function nextEvent(
  part: HealthEngine,
  match: (e: HealthEvent) => boolean,
  ms = 10_000,
): Promise<HealthEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      part.off('event', on);
      reject(new Error('event did not come'));
    }, ms);
    const on = (e: HealthEvent): void => {
      if (!match(e)) return;
      clearTimeout(timer);
      part.off('event', on);
      resolve(e);
    };
    part.on('event', on);
  });
}

async function listenTcp(port: number): Promise<Server> {
  const server = createServer((s) => s.destroy());
  server.listen(port, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

test('a real server whose service stops is taken out, and put back when it returns', async (t) => {
  const http = await httpServer('127.0.0.1', (_req, res) => res.end('ok'));
  t.teardown(() => http.close());
  let tcp = await listenTcp(0);
  const port = (tcp.address() as { port: number }).port;
  t.teardown(() => tcp.close());

  const interval = 100;
  const fall = 3;
  const part = new HealthEngine(
    {
      damping: null,
      services: [
        {
          name: 'app',
          port,
          minHealthy: 1,
          drainTimeoutMs: 0,
          drainStopsPersistence: false,
          realServers: [
            {
              id: 'tcp-rs',
              address: '127.0.0.1',
              weight: 5,
              checks: [{ kind: 'tcp', intervalMs: interval, timeoutMs: 80, rise: 2, fall }],
            },
            {
              id: 'http-rs',
              address: '::1',
              weight: 7,
              checks: [{ kind: 'http', port: http.port, intervalMs: interval, timeoutMs: 80, rise: 2, fall }],
            },
          ],
        },
      ],
    },
    { remainingFlows: () => ({ open: 0, closing: 0 }) },
  );
  // The HTTP server listens on 127.0.0.1 only, so the ::1 real server is refused: down at once.
  const httpDown = nextEvent(part, (e) => e.type === 'realserver.down' && e.realserver === 'http-rs');
  const tcpUp = nextEvent(part, (e) => e.type === 'realserver.up' && e.realserver === 'tcp-rs');
  part.start();
  t.teardown(() => part.stop());
  await Promise.all([httpDown, tcpUp]);
  t.deepEqual(
    part.backends('app').map((b) => [b.id, b.weight]),
    [
      ['tcp-rs', 5],
      ['http-rs', 0],
    ],
  );

  const stoppedAt = performance.now();
  await new Promise<void>((r) => tcp.close(() => r()));
  const down = await nextEvent(part, (e) => e.type === 'realserver.down' && e.realserver === 'tcp-rs');
  const detectedMs = performance.now() - stoppedAt;
  t.log(`down detected after ${detectedMs.toFixed(0)} ms (fall x interval = ${fall * interval} ms)`);
  t.like(down, { service: 'app', from: 'up' });
  t.regex((down as { reason: string }).reason, /ECONNREFUSED/);
  t.is(part.serviceStatus('app'), 'down');
  t.deepEqual(part.trackedServices(), [{ service: 'app', failed: true }]);

  tcp = await listenTcp(port);
  await nextEvent(part, (e) => e.type === 'service.up');
  t.deepEqual(
    part.backends('app').map((b) => [b.id, b.weight]),
    [
      ['tcp-rs', 5],
      ['http-rs', 0],
    ],
  );
});
