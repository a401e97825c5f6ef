/**
 * `npm run package` (issue 25): the .deb is built with dpkg-deb from this tree, its metadata and
 * file list are what a director needs and nothing of the development tree, its maintainer scripts
 * parse, and the programs it carries run from the unpacked tree with only the bundled runtime and
 * production dependencies (no checkout's node_modules reachable from there).
 *
 * Installing it with dpkg into a fresh Debian root: install.serial.test.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import test from 'ava';
import type { Command } from 'commander';
import { COMMANDS } from '../../cli/commands/index.ts';
import { dsrctlProgram } from '../../cli/program.ts';
import { productVersion } from '../../core/version.ts';
import { buildPackage } from '../../lab/debian-root.ts';

const run = (cmd: string, args: readonly string[]): string =>
  execFileSync(cmd, args, {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 240_000,
  });

const version = productVersion();

test.serial('the .deb: metadata, files, maintainer scripts, and programs that run from it', (t) => {
  t.timeout(300_000);
  const out = mkdtempSync(join(tmpdir(), 'dsr-deb-'));
  t.teardown(() => rmSync(out, { recursive: true, force: true }));
  const deb = buildPackage(out);
  const arch = run('dpkg', ['--print-architecture']).trim();
  t.is(deb, join(out, `dsr-director_${version}-1_${arch}.deb`));

  // ---- metadata ----
  const field = (name: string) => run('dpkg-deb', ['-f', deb, name]).trim();
  t.is(field('Package'), 'dsr-director');
  t.is(field('Version'), `${version}-1`);
  t.is(field('Architecture'), arch);
  const depends = field('Depends');
  for (const d of ['libbpf1', 'iproute2', 'procps']) t.true(depends.includes(d), `Depends: ${depends}`);
  t.is(field('Recommends'), 'systemd');
  for (const d of ['clang', 'npm', 'nodejs', 'llvm']) t.false(depends.includes(d), `no ${d} at run time`);
  t.true(Number(field('Installed-Size')) > 1000);

  // ---- files ----
  const list = run('dpkg-deb', ['-c', deb])
    .split('\n')
    .map((l) => l.split(/\s+/).slice(5).join(' '))
    .filter((p) => p !== '');
  const has = (p: string) => list.includes(p);
  for (const p of [
    './usr/bin/dsrd',
    './usr/bin/dsrctl',
    './lib/systemd/system/dsrd.service',
    './usr/lib/sysusers.d/dsr-director.conf',
    './usr/lib/tmpfiles.d/dsr-director.conf',
    './etc/dsr-director/dsrd.yaml.example',
    './usr/lib/dsr-director/runtime/node',
    './usr/lib/dsr-director/build/bpf/dsr_xdp.o',
    './usr/lib/dsr-director/package.json',
    './usr/lib/dsr-director/daemon/main.ts',
    './usr/share/doc/dsr-director/copyright',
    './usr/share/dsr-director/prometheus-rules.yaml',
    './usr/share/dsr-director/grafana-dashboard.json',
    './usr/share/doc/dsr-director/changelog.Debian.gz',
    './usr/share/man/man1/dsrctl.1.gz',
    './usr/share/man/man8/dsrd.8.gz',
  ]) {
    t.true(has(p), `${p} is in the package`);
  }
  for (const dep of ['commander', 'koffi', 'pino', 'prom-client', 'yaml', 'zod']) {
    t.true(has(`./usr/lib/dsr-director/node_modules/${dep}/package.json`), `${dep} is in the package`);
  }
  const unwanted = list.filter(
    (p) =>
      /^\.\/usr\/lib\/dsr-director\/(lab|bench|test|scripts|forwarder\/bpf)\//.test(p) ||
      /^\.\/usr\/lib\/dsr-director\/node_modules\/(ava|typescript|@biomejs|fast-check|@types)\//.test(p) ||
      p === './etc/dsr-director/dsrd.yaml',
  );
  t.deepEqual(unwanted.slice(0, 5), [], 'nothing of the development tree, no live config');

  // ---- control files ----
  const control = join(out, 'control');
  run('dpkg-deb', ['-e', deb, control]);
  t.is(readFileSync(join(control, 'conffiles'), 'utf8'), '/etc/dsr-director/dsrd.yaml.example\n');
  for (const s of ['postinst', 'prerm', 'postrm']) t.notThrows(() => run('sh', ['-n', join(control, s)]), s);
  t.regex(
    readFileSync(join(control, 'postrm'), 'utf8'),
    /"\$1" = purge[\s\S]*rm -rf \/var\/lib\/dsr-director/,
  );

  // ---- the unpacked programs run on what the package carries ----
  const tree = join(out, 'tree');
  run('dpkg-deb', ['-x', deb, tree]);
  const node = join(tree, 'usr/lib/dsr-director/runtime/node');
  const bin = (name: string) => join(tree, 'usr/lib/dsr-director/bin', name);
  t.is(run(node, ['--version']).trim(), `v${process.versions.node}`);
  t.is(run(node, [bin('dsrd.js'), '--version']).trim(), `dsrd ${version}`);
  t.regex(run(node, [bin('dsrctl.js'), '--help']), /Operate a dsr-director daemon/);
  const unit = readFileSync(join(tree, 'lib/systemd/system/dsrd.service'), 'utf8');
  t.regex(unit, /^ExecStart=\/usr\/bin\/dsrd --config \/etc\/dsr-director\/dsrd\.yaml$/m);
  t.regex(unit, /^ExecStopPost=\/usr\/bin\/dsrd --cleanup --config \/etc\/dsr-director\/dsrd\.yaml$/m);
  t.notRegex(unit, /\/opt\/dsr-director/);
  t.regex(
    readFileSync(join(tree, 'usr/bin/dsrd'), 'utf8'),
    /^exec \/usr\/lib\/dsr-director\/runtime\/node \/usr\/lib\/dsr-director\/bin\/dsrd\.js "\$@"$/m,
  );

  // ---- manual pages: every command of the program, every option of the daemon ----
  const page = (p: string) => gunzipSync(readFileSync(join(tree, 'usr/share/man', p))).toString('utf8');
  const dsrctl1 = page('man1/dsrctl.1.gz');
  t.regex(dsrctl1, new RegExp(`^\\.TH DSRCTL 1 "\\d{4}-\\d{2}-\\d{2}" "dsr-director ${version}"`));
  const { program } = dsrctlProgram({ io: { out: () => {}, err: () => {} }, env: {}, commands: COMMANDS });
  const walk = (c: Command, path: string): string[] =>
    c.commands.flatMap((s) => [`${path} ${s.name()}`, ...walk(s, `${path} ${s.name()}`)]);
  const missing = walk(program, 'dsrctl').filter(
    (c) => !dsrctl1.includes(`.SS "${c.replaceAll('-', '\\-')} `),
  );
  t.deepEqual(missing, [], 'every command and subcommand has its section');
  const dsrd8 = page('man8/dsrd.8.gz');
  for (const flag of ['\\-\\-config', '\\-\\-check', '\\-\\-cleanup', '\\-\\-json'])
    t.true(dsrd8.includes(flag), flag);
  for (const p of ['man1/dsrctl.1.gz', 'man8/dsrd.8.gz']) {
    const r = spawnSync('groff', ['-man', '-Tutf8', '-ww', '-z'], { input: page(p), encoding: 'utf8' });
    t.is(r.status, 0, `${p}: groff (groff-base, installed by scripts/setup) ran`);
    t.is(r.stderr, '', `${p}: groff has no warning`);
  }
});
