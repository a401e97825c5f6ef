import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { createChecker } from '../../health/checkers/create-checker.ts';
import { sleep } from '../../lab/wait.ts';

const never = new AbortController().signal;
const target = { address: '198.18.0.100', port: 8080 };

/** True while the process exists and is not a zombie (a killed orphan may wait for its reaper). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** SIGKILL is delivered at once, but a loaded machine may reap the process a little later. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i++) await sleep(20);
  return !alive(pid);
}

test('exec: true is healthy, false is not', async (t) => {
  const ok = await createChecker({ kind: 'exec', argv: ['true'], timeoutMs: 5000 }).check(target, never);
  t.true(ok.ok, ok.detail);
  const bad = await createChecker({ kind: 'exec', argv: ['false'], timeoutMs: 5000 }).check(target, never);
  t.false(bad.ok);
  t.is(bad.detail, 'false exit 1');
});

test('exec: the expected exit code is configurable', async (t) => {
  const r = await createChecker({
    kind: 'exec',
    argv: ['sh', '-c', 'exit 3'],
    expectExit: 3,
    timeoutMs: 5000,
  }).check(target, never);
  t.true(r.ok, r.detail);
});

test('exec: placeholders and environment reach the program, output lands in the detail', async (t) => {
  const r = await createChecker({
    kind: 'exec',
    argv: [
      'sh',
      '-c',
      'echo "$1 $2 $DSR_RS_ADDRESS $DSR_RS_PORT $EXTRA"; exit 1',
      'sh',
      '{address}',
      'p={port}',
    ],
    env: { EXTRA: 'x' },
    timeoutMs: 5000,
  }).check(target, never);
  t.false(r.ok);
  t.is(r.detail, 'sh exit 1: 198.18.0.100 p=8080 198.18.0.100 8080 x');
});

test('exec: arguments are never parsed by a shell', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dsr-health-exec-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const marker = join(dir, 'pwned');
  const r = await createChecker({
    kind: 'exec',
    argv: ['echo', `; touch ${marker}`, `$(touch ${marker})`],
  }).check(target, never);
  t.true(r.ok, r.detail);
  t.throws(() => readFileSync(marker));
});

test('exec: the daemon environment is not passed on', async (t) => {
  process.env.DSR_HEALTH_TEST_SECRET = 'hunter2';
  t.teardown(() => delete process.env.DSR_HEALTH_TEST_SECRET);
  const r = await createChecker({
    kind: 'exec',
    argv: ['sh', '-c', 'test -z "$DSR_HEALTH_TEST_SECRET"'],
  }).check(target, never);
  t.true(r.ok, r.detail);
});

test('exec: a missing program fails with ENOENT', async (t) => {
  const r = await createChecker({ kind: 'exec', argv: ['/nonexistent/dsr-check'] }).check(target, never);
  t.false(r.ok);
  t.regex(r.detail, /ENOENT/);
});

test('exec: on timeout the program and everything it forked are killed', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dsr-health-exec-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pidFile = join(dir, 'pids');
  // The shell starts a background sleep (a grandchild of ours) and then waits on it.
  const r = await createChecker({
    kind: 'exec',
    argv: ['sh', '-c', `sleep 30 & echo "$$ $!" > ${pidFile}; wait`],
    timeoutMs: 300,
  }).check(target, never);
  t.false(r.ok);
  t.is(r.detail, 'timeout after 300 ms');
  const pids = readFileSync(pidFile, 'utf8').trim().split(' ').map(Number);
  t.is(pids.length, 2);
  for (const pid of pids) t.true(await gone(pid), `pid ${pid} still running`);
});

test('exec: a background process left by a program that exits is killed too', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dsr-health-exec-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const pidFile = join(dir, 'pid');
  const r = await createChecker({
    kind: 'exec',
    argv: ['sh', '-c', `sleep 30 </dev/null >/dev/null 2>&1 & echo $! > ${pidFile}`],
    timeoutMs: 5000,
  }).check(target, never);
  t.true(r.ok, r.detail);
  const pid = Number(readFileSync(pidFile, 'utf8').trim());
  t.true(await gone(pid), `pid ${pid} still running`);
});

test('exec: an empty argv is a config error', (t) => {
  const err = t.throws(() => createChecker({ kind: 'exec', argv: [] }));
  t.regex(err.message, /E_CONFIG_INVALID/);
});
