import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { pino } from 'pino';
import { z } from 'zod';
import { AdminClient, callDaemon } from '../../admin/client.ts';
import { parseGroupFile } from '../../admin/groups.ts';
import { CommandRegistry } from '../../admin/registry.ts';
import { AdminServer, probeSocket } from '../../admin/server.ts';
import { isDsrError } from '../../core/errors.ts';

const log = pino({ level: 'silent' });

/** What a daemon killed with SIGKILL leaves behind: a socket file nobody listens on. */
function leaveStaleSocket(path: string): void {
  const script = `require('node:net').createServer().listen(${JSON.stringify(path)}, () => process.kill(process.pid, 'SIGKILL'))`;
  spawnSync(process.execPath, ['-e', script], { timeout: 10_000 });
  if (!statSync(path).isSocket()) throw new Error('no stale socket was left');
}

function tempDir(t: { teardown: (f: () => void) => void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'dsr-admin-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

function registry(): CommandRegistry {
  const r = new CommandRegistry();
  r.register({ name: 'ping', summary: 'answers pong', args: z.object({}).strict(), run: () => 'pong' });
  r.register({
    name: 'count',
    summary: 'counts down with progress events',
    args: z.object({ from: z.number().int().min(0).max(10) }).strict(),
    run: ({ from }, ctx) => {
      for (let i = from; i > 0; i--) ctx.progress({ left: i });
      return { done: true };
    },
  });
  r.register({ name: 'big', summary: 'returns a BigInt (a bug)', args: z.object({}), run: () => 1n });
  return r;
}

async function startServer(
  t: { teardown: (f: () => Promise<void>) => void },
  path: string,
): Promise<AdminServer> {
  const server = new AdminServer({ path, registry: registry(), log });
  await server.start();
  t.teardown(() => server.stop());
  return server;
}

/** Sends raw bytes on a fresh connection and collects `n` response lines. */
function raw(path: string, payload: string | Buffer, n: number): Promise<Record<string, unknown>[]> {
  return new Promise((resolve, reject) => {
    const sock = createConnection(path);
    let buf = '';
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`timed out; got ${JSON.stringify(buf)}`));
    }, 5000);
    sock.on('data', (d) => {
      buf += d.toString();
      const lines = buf.split('\n').filter((l) => l !== '');
      if (lines.length >= n) {
        clearTimeout(timer);
        sock.destroy();
        resolve(lines.map((l) => JSON.parse(l)));
      }
    });
    sock.on('error', reject);
    sock.write(payload);
  });
}

test('the socket is created with mode 0660 and removed on stop', async (t) => {
  const path = join(tempDir(t), 'sub', 'dsrd.sock');
  const server = await startServer(t, path);
  t.is(statSync(path).mode & 0o777, 0o660);
  t.is(await callDaemon(path, 'ping'), 'pong');
  await server.stop();
  t.throws(() => statSync(path));
});

test('as root, the socket is chowned to the configured group', async (t) => {
  if (process.getuid?.() !== 0) {
    t.log('skipped: needs root to chown');
    t.pass();
    return;
  }
  const path = join(tempDir(t), 'dsrd.sock');
  const server = new AdminServer({ path, registry: registry(), log, gid: 4321 });
  await server.start();
  t.teardown(() => server.stop());
  t.is(statSync(path).gid, 4321);
  t.is(statSync(path).uid, 0);
});

test('malformed input on one connection gets error objects and the connection keeps working', async (t) => {
  const path = join(tempDir(t), 'dsrd.sock');
  await startServer(t, path);
  const lines = await raw(
    path,
    [
      'this is not json',
      '{"v":2,"id":1,"cmd":"ping"}',
      '{"v":1,"id":2,"cmd":"nope"}',
      '{"v":1,"id":3,"cmd":"count","args":{"from":"ten"}}',
      '',
      '{"v":1,"id":4,"cmd":"big"}',
      '{"v":1,"id":5,"cmd":"ping"}',
      '',
    ].join('\n'),
    6,
  );
  const byId = new Map(lines.map((l) => [l.id, l]));
  t.deepEqual((byId.get(null) as { error: { code: string } }).error.code, 'E_ADMIN_REQUEST');
  t.regex(JSON.stringify(byId.get(1)), /version 2 is not supported/);
  t.regex(JSON.stringify(byId.get(2)), /unknown command \\"nope\\"/);
  t.regex(JSON.stringify(byId.get(3)), /bad arguments for \\"count\\": args.from/);
  t.regex(JSON.stringify(byId.get(4)), /E_INTERNAL.*not serialisable/);
  t.deepEqual(byId.get(5), { v: 1, id: 5, ok: true, result: 'pong' });
});

test('an oversized request line (> 64 KiB) is refused without buffering it, then the next line works', async (t) => {
  const path = join(tempDir(t), 'dsrd.sock');
  const server = await startServer(t, path);
  const huge = `{"v":1,"id":1,"cmd":"ping","args":{"x":"${'a'.repeat(200 * 1024)}"}}\n`;
  const lines = await raw(path, `${huge}{"v":1,"id":2,"cmd":"ping"}\n`, 2);
  t.is(lines[0].id, null);
  t.regex(JSON.stringify(lines[0]), /longer than 65536 bytes/);
  t.deepEqual(lines[1], { v: 1, id: 2, ok: true, result: 'pong' });
  t.true(server.badRequests >= 1);
});

test('binary garbage and a half line followed by a close do not crash the server', async (t) => {
  const path = join(tempDir(t), 'dsrd.sock');
  await startServer(t, path);
  const lines = await raw(path, Buffer.from([0xff, 0xfe, 0x00, 0x0a, 0x7b]), 1);
  t.is(lines[0].ok, false);
  t.is(await callDaemon(path, 'ping'), 'pong');
});

test('progress events arrive before the final response', async (t) => {
  const path = join(tempDir(t), 'dsrd.sock');
  await startServer(t, path);
  const events: unknown[] = [];
  const result = await callDaemon(path, 'count', { from: 3 }, { onEvent: (e) => events.push(e) });
  t.deepEqual(events, [{ left: 3 }, { left: 2 }, { left: 1 }]);
  t.deepEqual(result, { done: true });
});

test('many calls on one client connection are matched by id', async (t) => {
  const path = join(tempDir(t), 'dsrd.sock');
  await startServer(t, path);
  const client = await AdminClient.connect(path);
  t.teardown(() => client.close());
  const results = await Promise.all([
    client.call('ping'),
    client.call('count', { from: 0 }),
    client.call('ping'),
  ]);
  t.deepEqual(results, ['pong', { done: true }, 'pong']);
  const err = await t.throwsAsync(client.call('count', { from: 99 }));
  t.true(isDsrError(err, 'E_ADMIN_REQUEST'));
});

test('a stale socket file (nobody listening) is removed on start', async (t) => {
  const path = join(tempDir(t), 'dsrd.sock');
  leaveStaleSocket(path);
  t.is(await probeSocket(path), 'stale');
  await startServer(t, path);
  t.is(await callDaemon(path, 'ping'), 'pong');
});

test('a socket a live daemon answers on is left alone and start fails clearly', async (t) => {
  const path = join(tempDir(t), 'dsrd.sock');
  await startServer(t, path);
  const second = new AdminServer({ path, registry: registry(), log });
  const err = await t.throwsAsync(second.start());
  t.true(isDsrError(err, 'E_ADMIN_SOCKET'));
  t.regex(err.message, /another dsrd answers on/);
  t.is(await callDaemon(path, 'ping'), 'pong', 'the first daemon is untouched');
});

test('a regular file at the socket path is not removed', async (t) => {
  const path = join(tempDir(t), 'dsrd.sock');
  writeFileSync(path, 'precious');
  const err = await t.throwsAsync(new AdminServer({ path, registry: registry(), log }).start());
  t.regex(err.message, /exists and is not a socket; refusing to remove it/);
  t.is(statSync(path).size, 8);
});

test('client: no socket and stale socket are E_DAEMON_UNREACHABLE with the reason', async (t) => {
  const dir = tempDir(t);
  const missing = await t.throwsAsync(callDaemon(join(dir, 'none.sock'), 'ping'));
  t.true(isDsrError(missing, 'E_DAEMON_UNREACHABLE'));
  t.regex(missing.message, /dsrd is not running: no admin socket at/);
  const path = join(dir, 'stale.sock');
  leaveStaleSocket(path);
  const stale = await t.throwsAsync(callDaemon(path, 'ping'));
  t.regex(stale.message, /exists but nobody answers/);
});

test('group file parsing', (t) => {
  const g = parseGroupFile('root:x:0:\n# comment\ndsr:x:998:alice,bob\nbroken\n');
  t.is(g.get('root'), 0);
  t.is(g.get('dsr'), 998);
  t.false(g.has('broken'));
});
