import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import test from 'ava';

const ROOT = new URL('../../', import.meta.url).pathname;
const unit = readFileSync(join(ROOT, 'systemd/dsrd.service'), 'utf8');

function directives(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    const key = line.slice(0, eq);
    out.set(key, [...(out.get(key) ?? []), line.slice(eq + 1)]);
  }
  return out;
}

const d = directives(unit);
const one = (k: string): string | undefined => d.get(k)?.[0];

test('dsrd.service: notify type with watchdog, reload by SIGHUP, config checked before start', (t) => {
  t.is(one('Type'), 'notify');
  t.is(one('NotifyAccess'), 'main');
  t.regex(one('WatchdogSec') ?? '', /^\d+s$/);
  t.is(one('ExecReload'), '/bin/kill -HUP $MAINPID');
  t.regex(
    one('ExecStart') ?? '',
    /node_modules\/\.bin\/node \S+\/bin\/dsrd\.js --config \/etc\/dsr-director\/dsrd\.yaml$/,
  );
  t.regex(one('ExecStartPre') ?? '', /bin\/dsrd\.js --check --config/);
  t.is(one('RuntimeDirectory'), 'dsr-director');
});

test('dsrd.service: the VIPs are taken away however dsrd ended (ExecStopPost= runs after a kill too)', (t) => {
  t.regex(
    one('ExecStopPost') ?? '',
    /node_modules\/\.bin\/node \S+\/bin\/dsrd\.js --cleanup --config \/etc\/dsr-director\/dsrd\.yaml$/,
  );
});

test('dsrd.service: exactly the capabilities the daemon needs', (t) => {
  t.deepEqual((one('CapabilityBoundingSet') ?? '').split(/\s+/).sort(), [
    'CAP_BPF',
    'CAP_CHOWN',
    'CAP_NET_ADMIN',
    'CAP_NET_RAW',
    'CAP_PERFMON',
  ]);
  t.false(unit.includes('CAP_SYS_ADMIN '), 'no CAP_SYS_ADMIN granted');
  t.is(one('AmbientCapabilities'), '');
  t.is(one('NoNewPrivileges'), 'yes');
  t.true((one('RestrictAddressFamilies') ?? '').includes('AF_PACKET'));
  t.is(one('ReadWritePaths'), '/sys/fs/bpf');
});

test('systemd-analyze verify accepts the unit (paths pointed at this checkout)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dsr-unit-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const copy = join(dir, 'dsrd.service');
  writeFileSync(copy, unit.replaceAll('/opt/dsr-director/', ROOT));
  try {
    const { stderr } = await promisify(execFile)('systemd-analyze', ['verify', copy], { timeout: 30_000 });
    t.is(stderr.trim(), '', stderr);
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT') {
      t.log('systemd-analyze is not installed; skipped');
      t.pass();
      return;
    }
    t.fail(err.stderr ?? err.message);
  }
});

test('dsrd.service: the election thread raises itself to real-time with the unit capabilities and limits', async (t) => {
  // As systemd starts dsrd: the unit's bounding set (no CAP_SYS_NICE), its LimitRTPRIO= and its
  // CPUScheduling*= applied before exec (chrt). Without the limit the same thread is refused and
  // runs at the default policy (the daemon goes on and says so).
  const caps = (one('CapabilityBoundingSet') ?? '')
    .split(/\s+/)
    .map((c) => `+${c.replace(/^CAP_/, '').toLowerCase()}`);
  const priority = one('CPUSchedulingPriority') ?? '';
  t.is(one('CPUSchedulingPolicy'), 'fifo');
  t.is(one('CPUSchedulingResetOnFork'), 'yes');
  t.true(Number(one('LimitRTPRIO')) >= Number(priority) + 1, 'LimitRTPRIO= covers the election thread');
  const fixture = join(ROOT, 'test/daemon/fixtures/election-thread-rt.ts');
  // chrt first: systemd sets the scheduling while still privileged, then drops capabilities.
  const chrt = ['chrt', '--fifo', '--reset-on-fork', priority];
  const run = async (drop: string[]) => {
    const [cmd, ...args] = [...chrt, ...drop, process.execPath, fixture];
    const { stdout } = await promisify(execFile)(cmd, args, { timeout: 30_000 });
    return JSON.parse(stdout) as { main: string; thread: string; error: string | null };
  };
  const unitCaps = ['setpriv', '--bounding-set', ['-all', ...caps].join(','), '--inh-caps', '-all'];

  const refused = await run(unitCaps);
  t.is(refused.main, `fifo ${priority}, reset on fork`);
  t.is(refused.thread, 'other');
  t.regex(refused.error ?? '', /EPERM/);

  const root = await run([]);
  t.is(root.thread, `fifo ${Number(priority) + 1}, reset on fork`);
  t.is(root.error, null);

  // Raising RLIMIT_RTPRIO needs CAP_SYS_RESOURCE, which systemd has and some containers do not.
  try {
    await promisify(execFile)('prlimit', ['--rtprio=1', 'true']);
  } catch {
    t.log('this host cannot raise RLIMIT_RTPRIO (no CAP_SYS_RESOURCE): the LimitRTPRIO= run is skipped');
    return;
  }
  const limited = await run(['prlimit', `--rtprio=${one('LimitRTPRIO')}`, ...unitCaps]);
  t.is(limited.thread, `fifo ${Number(priority) + 1}, reset on fork`);
  t.is(limited.error, null);
});
