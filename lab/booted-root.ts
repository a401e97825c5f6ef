/**
 * A Debian root (lab/debian-root.ts) booted with systemd as its PID 1 under systemd-nspawn (issue
 * 25): the installed package's postinst, unit, journal and cleanup run as on a director. The
 * container joins a network namespace the caller made (no interface of the host's is touched),
 * sees a bpffs the caller mounted at /sys/fs/bpf, and may load BPF programs (CAP_BPF, the bpf
 * syscall let through nspawn's filter). Commands run in it through nsenter into its PID 1.
 *
 * Needs systemd-nspawn (systemd-container; scripts/setup installs it). The host's own init does not
 * matter: the container is not registered with machined and keeps the caller's cgroup.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DebianRoot } from './debian-root.ts';
import { sleep, waitFor } from './wait.ts';

export interface RunOutcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Why a root cannot be booted here, or null. */
export function bootSkip(): string | null {
  if (!existsSync('/usr/bin/systemd-nspawn'))
    return 'systemd-nspawn is not installed (scripts/setup installs systemd-container)';
  return null;
}

/**
 * With --keep-unit, nspawn splits the cgroup it runs in into `payload` (the container) and
 * `supervisor` (itself), in every hierarchy that names them; they outlive it.
 */
const NSPAWN_CGROUPS = ['payload', 'supervisor'];
const cgroupDirs = (): string[] =>
  readdirSync('/sys/fs/cgroup').flatMap((h) =>
    NSPAWN_CGROUPS.map((c) => join('/sys/fs/cgroup', h, c)).filter((d) => existsSync(d)),
  );

/** Removes a cgroup directory and those under it, deepest first (empty cgroups only: rmdir). */
function removeCgroup(dir: string): void {
  for (const e of readdirSync(dir, { withFileTypes: true }))
    if (e.isDirectory()) removeCgroup(join(dir, e.name));
  try {
    rmdirSync(dir);
  } catch {}
}

export class BootedRoot {
  readonly #nspawn: ChildProcess;
  readonly #output: string[] = [];
  /** The nspawn cgroups there were before it started: those are not ours to remove. */
  readonly #cgroupsBefore: Set<string>;
  #pid = 0;

  private constructor(nspawn: ChildProcess, cgroupsBefore: Set<string>) {
    this.#nspawn = nspawn;
    this.#cgroupsBefore = cgroupsBefore;
    const keep = (b: Buffer) =>
      this.#output.push(
        ...b
          .toString('utf8')
          .split('\n')
          .filter((l) => l !== ''),
      );
    nspawn.stdout?.on('data', keep);
    nspawn.stderr?.on('data', keep);
  }

  /** Boots `root` in netns `/run/netns/<netns>` with `bpffs` as its /sys/fs/bpf; resolves once systemd is up. */
  static async boot(
    root: DebianRoot,
    o: { machine: string; netns: string; bpffs: string },
  ): Promise<BootedRoot> {
    const cgroupsBefore = new Set(cgroupDirs());
    const nspawn = spawn(
      'systemd-nspawn',
      [
        `--directory=${root.path}`,
        '--boot',
        `--machine=${o.machine}`,
        '--register=no',
        '--keep-unit',
        '--console=pipe',
        `--network-namespace-path=/run/netns/${o.netns}`,
        `--bind=${o.bpffs}:/sys/fs/bpf`,
        '--capability=CAP_BPF,CAP_PERFMON,CAP_NET_ADMIN,CAP_SYS_RESOURCE,CAP_IPC_LOCK',
        '--system-call-filter=bpf perf_event_open',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const booted = new BootedRoot(nspawn, cgroupsBefore);
    try {
      booted.#pid = await waitFor(
        'the container init',
        () => {
          if (nspawn.exitCode !== null) throw new Error(`systemd-nspawn exited: ${booted.output()}`);
          const children = `/proc/${nspawn.pid}/task/${nspawn.pid}/children`;
          const pid = existsSync(children) ? Number(readFileSync(children, 'utf8').trim().split(' ')[0]) : 0;
          return pid > 0 ? pid : undefined;
        },
        { limitMs: 20_000 },
      );
      await waitFor(
        'systemd in the container to finish booting',
        () => {
          const state = booted.tryRun('systemctl', ['is-system-running']).stdout.trim();
          return state === 'running' || state === 'degraded' ? state : undefined;
        },
        { limitMs: 60_000, everyMs: 200, detail: () => booted.output() },
      );
    } catch (e) {
      await booted.poweroff();
      throw e;
    }
    return booted;
  }

  /** A command in the container (all its namespaces), with a plain PATH. */
  tryRun(cmd: string, args: readonly string[] = [], input?: string): RunOutcome {
    const r = spawnSync('nsenter', ['-t', String(this.#pid), '-a', '--', cmd, ...args], {
      encoding: 'utf8',
      input,
      timeout: 120_000,
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' },
    });
    return { code: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? String(r.error ?? '') };
  }

  /** As tryRun; throws with what the command said when it fails. */
  run(cmd: string, args: readonly string[] = []): string {
    const r = this.tryRun(cmd, args);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.code}: ${r.stderr || r.stdout}`);
    return r.stdout;
  }

  /** What systemd-nspawn printed (for failure reports). */
  output(): string {
    return this.#output.slice(-40).join('\n');
  }

  /**
   * Shuts the container down (systemctl poweroff), kills it if it does not end within 20 s, and
   * removes the cgroups nspawn made.
   */
  async poweroff(): Promise<void> {
    if (this.#nspawn.exitCode === null && this.#nspawn.signalCode === null) {
      const exited = new Promise<void>((r) => this.#nspawn.once('exit', () => r()));
      if (this.#pid > 0) this.tryRun('systemctl', ['poweroff']);
      else this.#nspawn.kill('SIGTERM');
      const ended = await Promise.race([exited.then(() => true), sleep(20_000).then(() => false)]);
      if (!ended) {
        this.#nspawn.kill('SIGKILL');
        await exited;
      }
    }
    for (const dir of cgroupDirs()) if (!this.#cgroupsBefore.has(dir)) removeCgroup(dir);
  }
}
