/**
 * `npm run package [-- --out DIR] [--revision N]`: builds dsr-director_<version>_<arch>.deb with dpkg-deb, from
 * this checkout after `scripts/setup` (node_modules and the BPF objects in place). Issue 25.
 *
 * What goes in, and why (Debian policy where it applies):
 * - /usr/lib/dsr-director: the runtime layers' TypeScript (run by Node's type stripping, as in the
 *   checkout), package.json (ESM, version), the forwarder's BPF object prebuilt, the production
 *   dependencies only, and the Node 24 runtime that `npm ci` brought (node_modules/node) at
 *   runtime/node: the director needs no npm, clang or network at install.
 * - /usr/bin/dsrd, /usr/bin/dsrctl: two-line wrappers that exec that runtime, so the daemon is
 *   still the process systemd started (sd_notify checks the PID).
 * - /lib/systemd/system/dsrd.service: systemd/dsrd.service with the installed paths.
 * - sysusers.d (the dsr-admin group) and tmpfiles.d (/var/lib/dsr-director, 0750) entries.
 * - /etc/dsr-director/dsrd.yaml.example, a conffile: dpkg keeps an edited one on upgrade and
 *   removal, and removes it on purge (policy §10.7.3). The live config, dsrd.yaml, is the
 *   operator's and is never shipped, so installing starts nothing.
 * - Maintainer scripts: postinst creates the group and the state directory and reloads systemd,
 *   restarting dsrd only if it was running (an upgrade); prerm stops it on removal (not on
 *   upgrade: the old daemon serves until postinst restarts the new one); postrm purge removes the
 *   state (policy §6.8).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { manPages } from '../bin/man-pages.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PREFIX = '/usr/lib/dsr-director';
/** The product's layers that run on a director (not lab, bench, test or scripts). */
const RUNTIME_DIRS = [
  'admin',
  'alerts',
  'bin',
  'cli',
  'config',
  'core',
  'daemon',
  'failover',
  'forwarder',
  'health',
  'sync',
];
/** BPF objects the daemon loads (the others are the lab's). */
const BPF_OBJECTS = ['dsr_xdp.o'];
/**
 * What the director needs at run time (procps: the unit reloads with /bin/kill). systemd runs it,
 * but dsrd runs without (a container, a test root).
 */
const DEPENDS = ['libc6 (>= 2.36)', 'libbpf1', 'iproute2', 'procps'];
const RECOMMENDS = ['systemd'];

function fail(message: string): never {
  console.error(`package: ${message}`);
  process.exit(1);
}

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: join(ROOT, 'build', 'deb') },
    // The Debian revision: a rebuild of the same upstream version (an upgrade test, a packaging fix).
    revision: { type: 'string', default: '1' },
  },
});
if (!/^[0-9][0-9a-z.+~]*$/.test(values.revision))
  fail(`--revision ${values.revision}: not a Debian revision`);
const outDir = resolve(values.out);

function run(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function write(path: string, text: string | Buffer, mode = 0o644): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  version: string;
  description: string;
};
const version = `${pkg.version}-${values.revision}`;
const arch = run('dpkg', ['--print-architecture']).trim();
const nodeBinary = join(ROOT, 'node_modules', 'node', 'bin', 'node');
if (!existsSync(nodeBinary)) fail('node_modules/node/bin/node is missing: run scripts/setup first');
for (const o of BPF_OBJECTS) {
  if (!existsSync(join(ROOT, 'build', 'bpf', o))) fail(`build/bpf/${o} is missing: run npm run build first`);
}

const stage = join(outDir, 'stage');
rmSync(stage, { recursive: true, force: true });
const lib = join(stage, PREFIX);

// ---- the program ----
// Not the BPF C sources: the object is built (the director has no clang).
const bpfSources = join(ROOT, 'forwarder', 'bpf');
for (const d of RUNTIME_DIRS) {
  cpSync(join(ROOT, d), join(lib, d), { recursive: true, filter: (src) => src !== bpfSources });
}
write(join(lib, 'package.json'), readFileSync(join(ROOT, 'package.json')));
for (const o of BPF_OBJECTS) write(join(lib, 'build', 'bpf', o), readFileSync(join(ROOT, 'build', 'bpf', o)));
write(join(lib, 'runtime', 'node'), readFileSync(nodeBinary), 0o755);

// Production dependencies only, as the lock file records them (every package not marked dev),
// those npm installed here (optional ones for other platforms are not), and not the `node`
// package: its binary is above.
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { dev?: boolean; devOptional?: boolean }>;
};
for (const [path, meta] of Object.entries(lock.packages)) {
  if (path === '' || meta.dev === true || meta.devOptional === true) continue;
  if (path === 'node_modules/node' || path.startsWith('node_modules/node/')) continue;
  if (!existsSync(join(ROOT, path))) continue;
  cpSync(join(ROOT, path), join(lib, path), {
    recursive: true,
    dereference: true,
    // Nested packages are entries of their own in the lock file.
    filter: (src) => !relative(join(ROOT, path), src).includes('node_modules'),
  });
}

// ---- commands, unit, system entries ----
const wrapper = (script: string): string =>
  `#!/bin/sh\n# dsr-director: the bundled Node runtime runs ${script}; exec keeps the PID.\nexec ${PREFIX}/runtime/node ${PREFIX}/bin/${script} "$@"\n`;
write(join(stage, 'usr/bin/dsrd'), wrapper('dsrd.js'), 0o755);
write(join(stage, 'usr/bin/dsrctl'), wrapper('dsrctl.js'), 0o755);

const unit = readFileSync(join(ROOT, 'systemd', 'dsrd.service'), 'utf8')
  .replaceAll('/opt/dsr-director/node_modules/.bin/node /opt/dsr-director/bin/dsrd.js', '/usr/bin/dsrd')
  .replace(/^Documentation=.*$/m, 'Documentation=file:///usr/share/doc/dsr-director/README.md')
  .replace(
    /^# Install: the project checked out[\s\S]*?for dsrctl\.\n/m,
    '# Installed by the dsr-director package; the config is /etc/dsr-director/dsrd.yaml (see dsrd.yaml.example),\n# operators in the dsr-admin group for dsrctl.\n',
  );
if (unit.includes('/opt/dsr-director'))
  fail('systemd/dsrd.service has a checkout path the package does not rewrite');
write(join(stage, 'lib/systemd/system/dsrd.service'), unit);
write(
  join(stage, 'usr/lib/sysusers.d/dsr-director.conf'),
  readFileSync(join(ROOT, 'systemd', 'dsr-director.sysusers.conf')),
);
write(
  join(stage, 'usr/lib/tmpfiles.d/dsr-director.conf'),
  '# dsr-director: node.state_dir (session ids, replay state) and the alert queue; the unit also has StateDirectory=.\nd /var/lib/dsr-director 0750 root root -\n',
);
write(
  join(stage, 'etc/dsr-director/dsrd.yaml.example'),
  readFileSync(join(ROOT, 'config', 'examples', 'dsrd.yaml')),
);
// For the monitoring side: Prometheus alerting rules and the Grafana dashboard.
for (const f of ['prometheus-rules.yaml', 'grafana-dashboard.json']) {
  write(join(stage, 'usr/share/dsr-director', f), readFileSync(join(ROOT, 'docs', f)));
}

// ---- manual pages (policy §12.1: compressed with gzip -9n; zlib writes neither name nor time) ----
const manDate = run('date', ['-u', '+%Y-%m-%d']).trim();
for (const page of manPages({ version: pkg.version, date: manDate })) {
  write(join(stage, 'usr/share/man', `${page.path}.gz`), gzipSync(page.text, { level: 9 }));
}

// ---- documentation (policy §12) ----
const doc = join(stage, 'usr/share/doc/dsr-director');
write(join(doc, 'README.md'), readFileSync(join(ROOT, 'README.md')));
for (const f of readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md'))) {
  write(join(doc, 'docs', f), readFileSync(join(ROOT, 'docs', f)));
}
write(
  join(doc, 'copyright'),
  `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\nUpstream-Name: dsr-director\n\nFiles: *\nLicense: Apache-2.0\n On Debian systems the full text is in /usr/share/common-licenses/Apache-2.0.\n\nFiles: usr/lib/dsr-director/runtime/node usr/lib/dsr-director/node_modules/*\nComment: Node.js and the npm packages dsr-director runs on, each under its own license (see its\n directory under node_modules; Node.js: MIT and bundled licenses).\n`,
);
const date = run('date', ['-R']).trim();
write(
  join(doc, 'changelog.Debian.gz'),
  gzipSync(
    `dsr-director (${version}) unstable; urgency=medium\n\n  * Built from the dsr-director tree by npm run package.\n\n -- dsr-director team <dsr-director@localhost>  ${date}\n`,
    { level: 9 },
  ),
);

// ---- maintainer scripts ----
const debian = join(stage, 'DEBIAN');
write(join(debian, 'conffiles'), '/etc/dsr-director/dsrd.yaml.example\n');
write(
  join(debian, 'postinst'),
  `#!/bin/sh
set -e
if [ "$1" = configure ]; then
  # The dsr-admin group (dsrctl access) and the state directory, as systemd would at boot.
  if command -v systemd-sysusers >/dev/null 2>&1; then
    systemd-sysusers dsr-director.conf
  elif ! getent group dsr-admin >/dev/null; then
    groupadd --system dsr-admin
  fi
  if command -v systemd-tmpfiles >/dev/null 2>&1; then
    systemd-tmpfiles --create dsr-director.conf
  else
    install -d -m 0750 /var/lib/dsr-director
  fi
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload
    # An upgrade: the director that ran goes on with the new version (docs/install.md, rolling
    # upgrade). A first install starts nothing: there is no config yet.
    systemctl try-restart dsrd.service
  fi
fi
exit 0
`,
  0o755,
);
write(
  join(debian, 'prerm'),
  `#!/bin/sh
set -e
# On removal only: on upgrade the old daemon keeps serving until postinst restarts the new one.
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
  systemctl stop dsrd.service || true
fi
exit 0
`,
  0o755,
);
write(
  join(debian, 'postrm'),
  `#!/bin/sh
set -e
if [ "$1" = purge ]; then
  # Session ids, replay state and the alert queue; the operator's config goes with purge too.
  rm -rf /var/lib/dsr-director /var/cache/dsr-director
  rm -f /etc/dsr-director/dsrd.yaml
  rm -rf /etc/dsr-director/keys
  rmdir /etc/dsr-director 2>/dev/null || true
fi
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
fi
exit 0
`,
  0o755,
);

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? files(p) : [p];
  });
}
const payload = files(stage).filter((p) => !p.startsWith(debian));
const installedKb = Math.ceil(payload.reduce((n, p) => n + statSync(p).size, 0) / 1024);
write(
  join(debian, 'md5sums'),
  payload
    .map((p) => `${createHash('md5').update(readFileSync(p)).digest('hex')}  ${relative(stage, p)}`)
    .sort()
    .join('\n')
    .concat('\n'),
);
write(
  join(debian, 'control'),
  `Package: dsr-director
Version: ${version}
Architecture: ${arch}
Maintainer: dsr-director team <dsr-director@localhost>
Installed-Size: ${installedKb}
Depends: ${DEPENDS.join(', ')}
Recommends: ${RECOMMENDS.join(', ')}
Section: net
Priority: optional
Homepage: https://github.com/dsr-director/dsr-director
Description: ${pkg.description}
 Two directors elect an active one; it owns the VIPs and an XDP program on it sends
 client packets to the real servers, which answer the clients directly. Connections
 and persistence are synced to the standby. Includes dsrd (the daemon, a systemd
 service) and dsrctl (status, drains, failover drills). The Node.js runtime it runs
 on is bundled; no compiler or network is needed on the director.
`,
);

const debFile = join(outDir, `dsr-director_${version}_${arch}.deb`);
rmSync(debFile, { force: true });
run('dpkg-deb', ['--root-owner-group', '-Zxz', '-z1', '--build', stage, debFile]);
console.log(debFile);
