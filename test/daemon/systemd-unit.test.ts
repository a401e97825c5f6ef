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
