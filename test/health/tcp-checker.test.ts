import test from 'ava';
import { createChecker } from '../../health/checkers/create-checker.ts';
import { closedPort, tcpServer } from './local-servers.ts';

const never = new AbortController().signal;

for (const host of ['127.0.0.1', '::1']) {
  test(`tcp: connects to a listening port on ${host} and closes the connection`, async (t) => {
    const server = await tcpServer(host, { hang: true });
    t.teardown(() => server.close());
    const checker = createChecker({ kind: 'tcp', timeoutMs: 2000 });
    const r = await checker.check({ address: host, port: server.port }, never);
    t.true(r.ok, r.detail);
    t.true(r.latencyMs >= 0);
    await server.allClosed(); // the checker's socket is gone even though the server never closes
    t.is(server.open(), 0);
  });

  test(`tcp: a closed port on ${host} fails with ECONNREFUSED`, async (t) => {
    const port = await closedPort(host);
    const r = await createChecker({ kind: 'tcp', timeoutMs: 2000 }).check({ address: host, port }, never);
    t.false(r.ok);
    t.regex(r.detail, /ECONNREFUSED/);
  });
}

test('tcp: an abort from the caller ends the check as aborted', async (t) => {
  const server = await tcpServer('127.0.0.1', { hang: true });
  t.teardown(() => server.close());
  const ac = new AbortController();
  ac.abort();
  const r = await createChecker({ kind: 'tcp', timeoutMs: 2000 }).check(
    { address: '127.0.0.1', port: server.port },
    ac.signal,
  );
  t.false(r.ok);
  t.is(r.detail, 'aborted');
});

test('tcp: a target that is not an IP literal fails without a DNS lookup', async (t) => {
  const r = await createChecker({ kind: 'tcp' }).check({ address: 'localhost', port: 80 }, never);
  t.false(r.ok);
  t.regex(r.detail, /not an IP address/);
});
