/**
 * The package installed with dpkg into a fresh Debian 12 root (issue 25): debootstrap minbase
 * plus the package's dependencies, no Node.js, npm or clang (lab/debian-root.ts). Then, from the
 * installed paths: the versions, the group and state directory postinst made, a config checked by
 * the installed dsrd, an upgrade to a rebuilt package that keeps the operator's edits, remove
 * (config kept) and purge (config and state gone), as Debian policy expects.
 *
 * The root booted under systemd: booted.serial.test.ts; two of them as a pair set up with pair init
 * and pair join: installed-pair.serial.test.ts.
 */
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { productVersion } from '../../core/version.ts';
import { buildPackage, DebianRoot, debianRootSkip } from '../../lab/debian-root.ts';

/** dpkg-query's own format syntax (not a template string). */
// biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query -f fields
const VERSION_STATUS = '${Version} ${Status}';
// biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query -f fields
const VERSION = '${Version}';

const version = productVersion();

const skip = debianRootSkip();
if (skip) console.log(`package install test skipped: ${skip}`);

(skip ? test.skip : test.serial)(
  'dpkg installs, upgrades, removes and purges the package in a fresh Debian 12 root',
  (t) => {
    t.timeout(900_000);
    const out = mkdtempSync(join(tmpdir(), 'dsr-deb-'));
    t.teardown(() => rmSync(out, { recursive: true, force: true }));
    const first = buildPackage(join(out, '1'), '1');
    const second = buildPackage(join(out, '2'), '2');
    const root = DebianRoot.create();
    t.teardown(() => root.destroy());

    // Nothing of a build or development machine in it.
    t.is(root.run('sh', ['-c', 'command -v node nodejs npm clang || true']).trim(), '');

    copyFileSync(first, root.at('/tmp/dsr-director-1.deb'));
    root.run('dpkg', ['-i', '/tmp/dsr-director-1.deb']);
    t.is(
      root.run('dpkg-query', ['-W', '-f', VERSION_STATUS, 'dsr-director']),
      `${version}-1 install ok installed`,
    );
    t.is(root.run('/usr/bin/dsrd', ['--version']).trim(), `dsrd ${version}`);
    t.is(root.run('/usr/bin/dsrctl', ['--version']).trim(), `dsrctl ${version}`);
    t.regex(root.run('getent', ['group', 'dsr-admin']), /^dsr-admin:x:\d+:/, 'postinst made the group');
    t.is(statSync(root.at('/var/lib/dsr-director')).mode & 0o777, 0o750, 'and the state directory');
    t.false(existsSync(root.at('/etc/dsr-director/dsrd.yaml')), 'no live config: nothing starts');

    // An operator's config, from the example: the installed dsrd checks it.
    const etc = root.at('/etc/dsr-director');
    mkdirSync(join(etc, 'keys'), { recursive: true });
    for (const f of ['election-1.key', 'webhook.secret']) {
      writeFileSync(join(etc, 'keys', f), randomBytes(32));
      chmodSync(join(etc, 'keys', f), 0o600);
    }
    mkdirSync(root.at('/usr/local/lib/dsr-director'), { recursive: true });
    writeFileSync(root.at('/usr/local/lib/dsr-director/check-router'), '#!/bin/sh\nexit 0\n', {
      mode: 0o755,
    });
    copyFileSync(join(etc, 'dsrd.yaml.example'), join(etc, 'dsrd.yaml'));
    t.regex(
      root.run('/usr/bin/dsrd', ['--check', '--config', '/etc/dsr-director/dsrd.yaml']),
      /configuration is valid/,
    );

    // An upgrade to a rebuilt package keeps the operator's edit of the conffile and the config.
    const example = join(etc, 'dsrd.yaml.example');
    writeFileSync(example, `${readFileSync(example, 'utf8')}# edited by the operator\n`);
    copyFileSync(second, root.at('/tmp/dsr-director-2.deb'));
    root.run('dpkg', ['-i', '/tmp/dsr-director-2.deb']);
    t.is(root.run('dpkg-query', ['-W', '-f', VERSION, 'dsr-director']), `${version}-2`);
    t.regex(readFileSync(example, 'utf8'), /# edited by the operator\n$/);
    t.true(existsSync(join(etc, 'dsrd.yaml')));

    // The installed unit, as systemd would load it in this root.
    t.notThrows(() => root.verifyUnit('dsrd.service'), 'systemd-analyze verify of the installed unit');

    // The installed dsrctl writes a real server's boot-time setup into this root; systemd loads it.
    root.run('/usr/bin/dsrctl', [
      'realserver',
      'setup',
      '--vip',
      '198.18.100.10',
      '--persist',
      '--root',
      '/',
    ]);
    t.notThrows(
      () => root.verifyUnit('dsr-realserver-vips.service'),
      'systemd-analyze verify of the real-server unit',
    );

    // Remove: the program goes, config and state stay (policy §6.8, §10.7.3).
    root.run('dpkg', ['-r', 'dsr-director']);
    t.false(existsSync(root.at('/usr/bin/dsrd')));
    t.false(existsSync(root.at('/usr/lib/dsr-director')));
    t.true(existsSync(example));
    t.true(existsSync(join(etc, 'dsrd.yaml')));
    t.true(existsSync(root.at('/var/lib/dsr-director')));

    // Purge: config and state go too.
    root.run('dpkg', ['-P', 'dsr-director']);
    t.false(existsSync(etc), '/etc/dsr-director gone');
    t.false(existsSync(root.at('/var/lib/dsr-director')), 'state gone');
    t.is(
      root.run('sh', ['-c', 'dpkg-query -W dsr-director 2>&1 || true']).includes('no packages found'),
      true,
    );
  },
);
