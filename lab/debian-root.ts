/**
 * A fresh Debian 12 root to install the package into (issue 25): debootstrap --variant=minbase
 * with the package's run-time dependencies and systemd, and nothing else: no Node.js, no npm, no
 * clang. Built once from the Debian mirror (a few minutes) into a tarball under
 * /var/cache/dsr-director-lab, then unpacked fresh for every test in a few seconds, so an install
 * never sees what another left.
 *
 * The root is used with chroot; /proc is mounted in it while it lives (Node reads /proc/self),
 * and unmounted and removed by destroy(), also after a failed test.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CHECKOUT = fileURLToPath(new URL('..', import.meta.url));
const CACHE = '/var/cache/dsr-director-lab';
const MIRROR = 'http://deb.debian.org/debian';
/** The package's dependencies, and systemd, which runs it on a director. */
const INCLUDE = ['libbpf1', 'iproute2', 'procps', 'systemd'];
/** Named by what it holds, so a change of the list builds a new one. */
const TARBALL = join(CACHE, `bookworm-minbase-${INCLUDE.join('-')}.tar`);

function sh(cmd: string, args: readonly string[], timeoutMs = 120_000): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
}

/** Why a Debian root cannot be had here, or null. */
export function debianRootSkip(): string | null {
  if (process.getuid?.() !== 0) return 'needs root (debootstrap, chroot)';
  if (!existsSync(TARBALL) && !existsSync('/usr/sbin/debootstrap')) {
    return 'debootstrap is not installed (scripts/setup installs it)';
  }
  return null;
}

/** The cached tarball of a pristine root, debootstrapped first if it is not there. */
function pristine(): string {
  if (existsSync(TARBALL)) return TARBALL;
  mkdirSync(CACHE, { recursive: true });
  const dir = mkdtempSync(join(CACHE, 'build-'));
  try {
    sh(
      '/usr/sbin/debootstrap',
      ['--variant=minbase', `--include=${INCLUDE.join(',')}`, 'bookworm', dir, MIRROR],
      15 * 60_000,
    );
    sh('tar', ['-C', dir, '-cf', `${TARBALL}.part`, '.'], 5 * 60_000);
    renameSync(`${TARBALL}.part`, TARBALL);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(`${TARBALL}.part`, { force: true });
  }
  return TARBALL;
}

/** The package built from this checkout (scripts/package.ts) into `out`; the .deb's path. */
export function buildPackage(out: string, revision = '1'): string {
  const printed = execFileSync(
    process.execPath,
    ['scripts/package.ts', '--out', out, '--revision', revision],
    {
      cwd: CHECKOUT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 240_000,
    },
  );
  return printed.trim().split('\n').pop()!;
}

export class DebianRoot {
  readonly path: string;
  #procMounted = false;

  private constructor(path: string) {
    this.path = path;
  }

  /**
   * A fresh root in its own directory, /proc mounted for chroot (`proc: false` for a root that
   * systemd-nspawn boots: it mounts its own).
   */
  static create(o: { proc?: boolean } = {}): DebianRoot {
    const tar = pristine();
    const root = new DebianRoot(mkdtempSync('/var/tmp/dsrl-root-'));
    try {
      sh('tar', ['-C', root.path, '-xf', tar], 5 * 60_000);
      if (o.proc === false) return root;
      sh('mount', ['-t', 'proc', 'proc', join(root.path, 'proc')]);
      root.#procMounted = true;
    } catch (e) {
      root.destroy();
      throw e;
    }
    return root;
  }

  /** Runs a command inside the root (chroot), with a plain PATH and no inherited Node settings. */
  run(cmd: string, args: readonly string[] = [], timeoutMs = 120_000): string {
    return execFileSync('chroot', [this.path, cmd, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
    });
  }

  /** `systemd-analyze verify` of `unit` as systemd would load it in this root; throws what it says. */
  verifyUnit(unit: string): void {
    sh('systemd-analyze', ['verify', `--root=${this.path}`, unit]);
  }

  /** A path inside the root, as the host sees it. */
  at(path: string): string {
    return join(this.path, path);
  }

  /**
   * Unmounts /proc, then removes the root. If anything is still mounted under it (an unmount
   * failed), it removes nothing and throws: a recursive removal would go into what is mounted.
   */
  destroy(): void {
    if (this.#procMounted) {
      try {
        sh('umount', ['-l', join(this.path, 'proc')]);
      } catch {}
      this.#procMounted = false;
    }
    if (!existsSync(this.path)) return;
    const prefix = `${this.path}/`;
    const left = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((m) => m !== undefined && (m === this.path || m.startsWith(prefix)));
    if (left.length > 0) {
      throw new Error(`${this.path} still has mounts (${left.join(', ')}); not removed`);
    }
    rmSync(this.path, { recursive: true, force: true });
  }
}
