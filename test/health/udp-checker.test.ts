import test from 'ava';
import { createChecker } from '../../health/checkers/create-checker.ts';
import { sleep } from '../../lab/wait.ts';
import { closedUdpPort, udpServer } from './local-servers.ts';

const never = new AbortController().signal;

for (const host of ['127.0.0.1', '::1']) {
  test(`udp: an echo server on ${host} is healthy and the reply is matched`, async (t) => {
    const server = await udpServer(host, (msg) => Buffer.concat([Buffer.from('rs1 '), msg]));
    t.teardown(() => server.close());
    const checker = createChecker({
      kind: 'udp',
      timeoutMs: 2000,
      payload: 'ping',
      expectRegex: '^rs\\d ping$',
    });
    const r = await checker.check({ address: host, port: server.port }, never);
    t.true(r.ok, r.detail);
    t.is(server.received(), 1);
  });
}

test('udp: a reply that does not match the regex is unhealthy', async (t) => {
  const server = await udpServer('127.0.0.1', () => Buffer.from('busy'));
  t.teardown(() => server.close());
  const r = await createChecker({
    kind: 'udp',
    timeoutMs: 2000,
    payload: 'ping',
    expectRegex: '^pong',
  }).check({ address: '127.0.0.1', port: server.port }, never);
  t.false(r.ok);
  t.regex(r.detail, /does not match.*busy/);
});

test('udp: a hex payload is sent byte for byte', async (t) => {
  let got: Buffer | undefined;
  const server = await udpServer('127.0.0.1', (msg) => {
    got = msg;
    return Buffer.from([0xff]);
  });
  t.teardown(() => server.close());
  const r = await createChecker({
    kind: 'udp',
    timeoutMs: 2000,
    payloadHex: '00ff10',
    expectRegex: '^\\xff$',
  }).check({ address: '127.0.0.1', port: server.port }, never);
  t.true(r.ok, r.detail);
  t.deepEqual(got, Buffer.from([0x00, 0xff, 0x10]));
});

test('udp: a target the socket cannot connect to is unhealthy, not a crash', async (t) => {
  // The kernel refuses connect() to a broadcast address without SO_BROADCAST (EACCES) before
  // anything is sent: the same path as ENETUNREACH while the director's link is down.
  const r = await createChecker({ kind: 'udp', timeoutMs: 2000, payload: 'ping' }).check(
    { address: '255.255.255.255', port: 7001 },
    never,
  );
  t.false(r.ok);
  t.regex(r.detail, /EACCES/);
});

test('udp: a server that stays silent times out', async (t) => {
  const server = await udpServer('127.0.0.1', () => null);
  t.teardown(() => server.close());
  const r = await createChecker({ kind: 'udp', timeoutMs: 150, payload: 'ping' }).check(
    { address: '127.0.0.1', port: server.port },
    never,
  );
  t.false(r.ok);
  t.is(r.detail, 'timeout after 150 ms');
  // The server's own 'message' event may come after the checker's timer on a loaded machine.
  for (let i = 0; i < 100 && server.received() === 0; i++) await sleep(20);
  t.is(server.received(), 1);
});

test('udp: a closed port fails at once from the ICMP port unreachable', async (t) => {
  const port = await closedUdpPort('127.0.0.1');
  const r = await createChecker({ kind: 'udp', timeoutMs: 500, payload: 'ping' }).check(
    { address: '127.0.0.1', port },
    never,
  );
  t.false(r.ok);
  t.regex(r.detail, /ECONNREFUSED/);
});
