import test from 'ava';
import type { HttpCheckSpec } from '../../health/check-spec.ts';
import { createChecker } from '../../health/checkers/create-checker.ts';
import { closedPort, httpServer, selfSignedCert, tcpServer } from './local-servers.ts';

const never = new AbortController().signal;
const http = (extra: Partial<HttpCheckSpec> = {}): HttpCheckSpec => ({
  kind: 'http',
  timeoutMs: 2000,
  ...extra,
});

test('http: 200 is healthy, the request carries method, path and Host, and the socket is closed', async (t) => {
  const server = await httpServer('127.0.0.1', (_req, res) => res.end('hello rs1'));
  t.teardown(() => server.close());
  const checker = createChecker(http({ method: 'HEAD', path: '/healthz', host: 'www.example.test' }));
  const r = await checker.check({ address: '127.0.0.1', port: server.port }, never);
  t.true(r.ok, r.detail);
  t.deepEqual(server.seen, [
    { method: 'HEAD', url: '/healthz', host: 'www.example.test', servername: undefined },
  ]);
  await server.allClosed();
  t.is(server.open(), 0);
});

test('http: works over IPv6; the default Host header is the bracketed address and port', async (t) => {
  const server = await httpServer('::1', (_req, res) => res.end('ok'));
  t.teardown(() => server.close());
  const r = await createChecker(http()).check({ address: '::1', port: server.port }, never);
  t.true(r.ok, r.detail);
  t.is(server.seen[0].host, `[::1]:${server.port}`);
});

test('http: a source address is used for the connection', async (t) => {
  let remote: string | undefined;
  const server = await httpServer('127.0.0.1', (req, res) => {
    remote = req.socket.remoteAddress;
    res.end('ok');
  });
  t.teardown(() => server.close());
  const r = await createChecker(http({ source: '127.0.0.2' })).check(
    { address: '127.0.0.1', port: server.port },
    never,
  );
  t.true(r.ok, r.detail);
  t.is(remote, '127.0.0.2');
});

test('http: 500 is unhealthy, with the status in the detail', async (t) => {
  const server = await httpServer('127.0.0.1', (_req, res) => {
    res.statusCode = 500;
    res.end('boom');
  });
  t.teardown(() => server.close());
  const r = await createChecker(http()).check({ address: '127.0.0.1', port: server.port }, never);
  t.false(r.ok);
  t.regex(r.detail, /HTTP 500 not in 200-399/);
});

test('http: the expected status range is configurable', async (t) => {
  const server = await httpServer('127.0.0.1', (_req, res) => {
    res.statusCode = 301;
    res.setHeader('Location', '/elsewhere');
    res.end();
  });
  t.teardown(() => server.close());
  const target = { address: '127.0.0.1', port: server.port };
  t.true((await createChecker(http({ expectStatus: [300, 399] })).check(target, never)).ok);
  t.false((await createChecker(http({ expectStatus: [200, 299] })).check(target, never)).ok);
});

test('http: body regex match and mismatch', async (t) => {
  const server = await httpServer('127.0.0.1', (_req, res) => res.end('status: READY\n'));
  t.teardown(() => server.close());
  const target = { address: '127.0.0.1', port: server.port };
  const good = await createChecker(http({ bodyRegex: 'status: (READY|OK)' })).check(target, never);
  t.true(good.ok, good.detail);
  const bad = await createChecker(http({ bodyRegex: '^OK$' })).check(target, never);
  t.false(bad.ok);
  t.regex(bad.detail, /body does not match/);
});

test('http: only the first maxBodyBytes are read for the regex', async (t) => {
  const server = await httpServer('127.0.0.1', (_req, res) => res.end(`${'x'.repeat(100)}MARKER`));
  t.teardown(() => server.close());
  const target = { address: '127.0.0.1', port: server.port };
  t.false((await createChecker(http({ bodyRegex: 'MARKER', maxBodyBytes: 50 })).check(target, never)).ok);
  t.true((await createChecker(http({ bodyRegex: 'MARKER', maxBodyBytes: 4096 })).check(target, never)).ok);
});

test('http: a server that accepts and never answers times out, and the connection is closed', async (t) => {
  const server = await tcpServer('127.0.0.1', { hang: true });
  t.teardown(() => server.close());
  const r = await createChecker(http({ timeoutMs: 150 })).check(
    { address: '127.0.0.1', port: server.port },
    never,
  );
  t.false(r.ok);
  t.is(r.detail, 'timeout after 150 ms');
  t.true(r.timedOut, 'told apart from a failure (dsr_health_checks_total{result="timeout"})');
  await server.allClosed();
  t.is(server.open(), 0);
});

test('http: a server that sends headers then stalls the body times out', async (t) => {
  const server = await httpServer('127.0.0.1', (_req, res) => {
    res.writeHead(200, { 'Content-Length': '100' });
    res.write('partial');
  });
  t.teardown(() => server.close());
  const r = await createChecker(http({ timeoutMs: 150, bodyRegex: 'never' })).check(
    { address: '127.0.0.1', port: server.port },
    never,
  );
  t.false(r.ok);
  t.is(r.detail, 'timeout after 150 ms');
  await server.allClosed();
});

test('http: connection refused', async (t) => {
  const port = await closedPort('127.0.0.1');
  const r = await createChecker(http()).check({ address: '127.0.0.1', port }, never);
  t.false(r.ok);
  t.regex(r.detail, /ECONNREFUSED/);
  t.falsy(r.timedOut, 'a refusal is a failure, not a timeout');
});

test('http: a bad body regex is a config error at build time', (t) => {
  const err = t.throws(() => createChecker(http({ bodyRegex: '(' })));
  t.regex(err.message, /E_CONFIG_INVALID/);
});

const cert = selfSignedCert();
const tlsTest = cert ? test : test.skip;
if (!cert) console.log('skipping https tests: openssl could not make a certificate');

tlsTest('https: a self-signed certificate fails verification by default', async (t) => {
  const server = await httpServer('127.0.0.1', (_req, res) => res.end('ok'), cert!);
  t.teardown(() => server.close());
  const r = await createChecker({ kind: 'https', timeoutMs: 2000 }).check(
    { address: '127.0.0.1', port: server.port },
    never,
  );
  t.false(r.ok);
  t.regex(r.detail, /SELF_SIGNED|self.signed/i);
  await server.allClosed();
});

tlsTest('https: skip-verify accepts the self-signed certificate', async (t) => {
  const server = await httpServer('127.0.0.1', (_req, res) => res.end('ok'), cert!);
  t.teardown(() => server.close());
  const r = await createChecker({ kind: 'https', timeoutMs: 2000, tlsSkipVerify: true }).check(
    { address: '127.0.0.1', port: server.port },
    never,
  );
  t.true(r.ok, r.detail);
});

tlsTest('https: a custom CA verifies the certificate against the address (IP SAN), v4 and v6', async (t) => {
  for (const host of ['127.0.0.1', '::1']) {
    const server = await httpServer(host, (_req, res) => res.end('ok'), cert!);
    t.teardown(() => server.close());
    const r = await createChecker({ kind: 'https', timeoutMs: 2000, tlsCa: cert!.cert }).check(
      { address: host, port: server.port },
      never,
    );
    t.true(r.ok, `${host}: ${r.detail}`);
  }
});

tlsTest('https: Host sets SNI and the verified name; a name the certificate lacks fails', async (t) => {
  const server = await httpServer('127.0.0.1', (_req, res) => res.end('ok'), cert!);
  t.teardown(() => server.close());
  const target = { address: '127.0.0.1', port: server.port };
  const good = await createChecker({
    kind: 'https',
    timeoutMs: 2000,
    tlsCa: cert!.cert,
    host: 'localhost',
  }).check(target, never);
  t.true(good.ok, good.detail);
  t.is(server.seen[0].servername, 'localhost');
  t.is(server.seen[0].host, 'localhost');
  const bad = await createChecker({
    kind: 'https',
    timeoutMs: 2000,
    tlsCa: cert!.cert,
    host: 'wrong.test',
  }).check(target, never);
  t.false(bad.ok);
  t.regex(bad.detail, /ERR_TLS_CERT_ALTNAME_INVALID|altnames/i);
});

tlsTest('https: sni overrides the name used for TLS while Host stays as configured', async (t) => {
  const server = await httpServer('127.0.0.1', (_req, res) => res.end('ok'), cert!);
  t.teardown(() => server.close());
  const r = await createChecker({
    kind: 'https',
    timeoutMs: 2000,
    tlsCa: cert!.cert,
    host: 'app.test',
    sni: 'localhost',
  }).check({ address: '127.0.0.1', port: server.port }, never);
  t.true(r.ok, r.detail);
  t.is(server.seen[0].servername, 'localhost');
  t.is(server.seen[0].host, 'app.test');
});

tlsTest('https: status and body rules apply over TLS too', async (t) => {
  const server = await httpServer(
    '127.0.0.1',
    (_req, res) => {
      res.statusCode = 503;
      res.end('maintenance');
    },
    cert!,
  );
  t.teardown(() => server.close());
  const r = await createChecker({ kind: 'https', timeoutMs: 2000, tlsSkipVerify: true }).check(
    { address: '127.0.0.1', port: server.port },
    never,
  );
  t.false(r.ok);
  t.regex(r.detail, /HTTP 503/);
});
