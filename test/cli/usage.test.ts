import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { DSRD, dsrctl, dsrd, run } from '../../lab/binaries.ts';

const usageCases: [string, string[], RegExp][] = [
  ['no command', [], /Usage: dsrctl/],
  ['unknown command', ['bogus'], /unknown command 'bogus'/],
  ['unknown option', ['status', '--bogus'], /unknown option '--bogus'/],
  ['explain without a port', ['explain', '198.18.0.10', '198.18.0.200:80/tcp'], /is not ADDRESS:PORT/],
  [
    'explain with a bad protocol',
    ['explain', '198.18.0.10:4000', '198.18.0.200:80/sctp'],
    /protocol "sctp" is not tcp or udp/,
  ],
  ['explain missing an argument', ['explain', '198.18.0.10:4000'], /missing required argument 'service'/],
  [
    'explain with an IPv4 in brackets',
    ['explain', '[198.18.0.10]:4000', '198.18.0.200:80/tcp'],
    /only IPv6 addresses go in brackets/,
  ],
  ['conns --limit 0', ['conns', '--limit', '0'], /expected an integer from 1 to 1000000/],
  [
    'log level not a level',
    ['log', 'level', 'loud'],
    /Allowed choices are fatal, error, warn, info, debug, trace, silent/,
  ],
  ['realserver setup without --vip', ['realserver', 'setup'], /needs at least one --vip/],
  [
    'realserver check with a prefix',
    ['realserver', 'check', '--vip', '198.18.0.0/24'],
    /is not an IPv4 or IPv6 address/,
  ],
  ['config diff without a file', ['config', 'diff'], /missing required argument 'file'/],
];

for (const [name, args, message] of usageCases) {
  test.serial(`dsrctl usage error, exit 2: ${name}`, async (t) => {
    const r = await dsrctl(args);
    t.is(r.code, 2, r.stderr);
    t.regex(r.stderr + r.stdout, message);
  });
}

test.serial('dsrctl --help exits 0 and lists the commands', async (t) => {
  const r = await dsrctl(['--help']);
  t.is(r.code, 0);
  for (const c of ['status', 'config', 'conns', 'explain', 'log', 'realserver'])
    t.regex(r.stdout, new RegExp(`\\n  ${c}`));
});

test.serial('dsrctl --version and dsrd --version print the package version, exit 0', async (t) => {
  const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  for (const [cmd, name] of [
    [dsrctl, 'dsrctl'],
    [dsrd, 'dsrd'],
  ] as const) {
    const r = await cmd(['--version']);
    t.is(r.code, 0);
    t.is(r.stdout, `${name} ${version}\n`);
  }
});

test.serial(
  'a daemon that is not running: clear message, exit 3, and a JSON error with --json',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'dsr-cli-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const sock = join(dir, 'dsrd.sock');
    const r = await dsrctl(['--socket', sock, 'status']);
    t.is(r.code, 3);
    t.is(r.stderr, `dsrctl: E_DAEMON_UNREACHABLE: dsrd is not running: no admin socket at ${sock}\n`);
    const j = await dsrctl(['-s', sock, 'status', '--json']);
    t.is(j.code, 3);
    t.is(JSON.parse(j.stdout).error.code, 'E_DAEMON_UNREACHABLE');
    const env = await dsrctl(['config', 'reload'], { ...process.env, DSRCTL_SOCKET: sock });
    t.is(env.code, 3, 'DSRCTL_SOCKET names the socket too');
    t.regex(env.stderr, new RegExp(sock.replaceAll('/', '\\/')));
  },
);

test.serial('config check: file:line:col errors and exit 1; a good file exits 0; --json', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dsr-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'node:\n  id: lb1\n  priorty: 5\n');
  const r = await dsrctl(['config', 'check', bad]);
  t.is(r.code, 1);
  t.regex(r.stderr, new RegExp(`${bad.replaceAll('/', '\\/')}:3:3: node\\.priorty: unknown key "priorty"`));
  const good = join(dir, 'good.yaml');
  writeFileSync(
    good,
    'node:\n  id: lb1\ninterfaces:\n  - name: eth0\nvip_groups:\n  - name: g\n    id: 1\n    vips: [198.18.0.200]\n',
  );
  const ok = await dsrctl(['config', 'check', good]);
  t.is(ok.code, 0, ok.stderr);
  t.regex(ok.stdout, /configuration is valid: node lb1/);
  const j = await dsrctl(['config', 'check', bad, '--json']);
  t.is(j.code, 1);
  const parsed = JSON.parse(j.stdout);
  t.false(parsed.ok);
  t.is(parsed.errors[0].line, 3);
});

test.serial('dsrd: --check exit codes, usage errors exit 2', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dsr-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'node:\n  id: "bad id"\n');
  const r = await dsrd(['--check', '--config', bad]);
  t.is(r.code, 1);
  t.regex(r.stderr, /bad\.yaml:2:7: node\.id: /);
  const missing = await dsrd(['--check', '--config', join(dir, 'none.yaml')]);
  t.is(missing.code, 1);
  t.regex(missing.stderr, /cannot read the config file: ENOENT/);
  const u = await dsrd(['--bogus']);
  t.is(u.code, 2);
  t.regex(u.stderr, /Unknown option '--bogus'[\s\S]*usage: dsrd/);
  t.is((await dsrd(['--json'])).code, 2);
  t.is((await dsrd(['--check', '--cleanup'])).code, 2);
  // A cleanup that cannot read its config says so and fails (the unit's ExecStopPost= logs it).
  const noConfig = await dsrd(['--cleanup', '--config', join(dir, 'none.yaml')]);
  t.is(noConfig.code, 1);
  t.regex(noConfig.stderr, /^dsrd --cleanup: E_CONFIG_READ[\s\S]*cannot read the config file: ENOENT/);
  const h = await dsrd(['--help']);
  t.is(h.code, 0);
  t.regex(h.stdout, /--check/);
  t.regex(h.stdout, /--cleanup/);
});

const oldNode = '/usr/bin/node';
(existsSync(oldNode) ? test.serial : test.skip)(
  'the bin shims refuse a Node older than 24 with a clear message',
  async (t) => {
    const v = await run(oldNode, ['-p', 'process.versions.node.split(".")[0]']);
    if (Number(v.stdout.trim()) >= 24) {
      t.pass('the system node is recent enough; nothing to refuse');
      return;
    }
    const r = await run(oldNode, [DSRD, '--check']);
    t.is(r.code, 1);
    t.regex(r.stderr, /dsrd needs Node\.js 24 or newer; this is v\d+/);
    t.regex(r.stderr, /npx dsrd/);
  },
);

const npx = ['/usr/bin/npx', '/usr/local/bin/npx'].find((p) => existsSync(p));
(npx ? test.serial : test.skip)(
  'npx dsrd --check and npx dsrctl work from the checkout (package.json bin)',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'dsr-cli-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const good = join(dir, 'good.yaml');
    writeFileSync(
      good,
      'node:\n  id: lb1\ninterfaces:\n  - name: eth0\nvip_groups:\n  - name: g\n    id: 1\n    vips: [198.18.0.200]\n',
    );
    const cwd = new URL('../../', import.meta.url).pathname;
    const r = await run('sh', ['-c', `cd "${cwd}" && "${npx}" --offline dsrd --check --config "${good}"`]);
    t.is(r.code, 0, r.stderr);
    t.regex(r.stdout, /configuration is valid/);
    const bad = await run('sh', ['-c', `cd "${cwd}" && "${npx}" --offline dsrctl bogus`]);
    t.is(bad.code, 2);
  },
);
