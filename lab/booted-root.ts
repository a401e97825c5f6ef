/**
 * A Debian root (lab/debian-root.ts) booted with systemd as its PID 1 under systemd-nspawn (issue
 * 25): the installed package's postinst, unit, journal and cleanup run as on a director. The
 * container joins a network namespace the caller made (no interface of the host's is touched),
 * sees a bpffs the caller mounted at /sys/fs/bpf, and may load BPF programs (CAP_BPF, the bpf
 * syscall let through nspawn's filter). Commands run in it through nsenter into its PID 1.
 *
 * Needs systemd-nspawn (systemd-container; scripts/setup installs it). The host's own init does not
 * matter: the container is not registered with machined and runs in a cgroup of its own under the
 * caller's.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync } from 'node:fs';
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
 * The cgroup directories a container of its own gets: one per hierarchy nspawn uses (the
 * `name=systemd` one of a hybrid host, and the unified one), under this process's own cgroup
 * (proc(5): /proc/self/cgroup). With --keep-unit, nspawn splits the cgroup it runs in into
 * `payload` and `supervisor`: in a cgroup of its own, two containers do not share those, and
 * removing it leaves nothing behind.
 */
function containerCgroups(machine: string): string[] {
  const dirs: string[] = [];
  for (const line of readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const [, controllers, path] = line.split(':');
    if (path === undefined) continue;
    const mount =
      controllers === 'name=systemd'
        ? '/sys/fs/cgroup/systemd'
        : controllers === ''
          ? existsSync('/sys/fs/cgroup/unified/cgroup.procs')
            ? '/sys/fs/cgroup/unified'
            : '/sys/fs/cgroup'
          : null;
    if (mount !== null && existsSync(join(mount, 'cgroup.procs'))) dirs.push(join(mount, path, machine));
  }
  return dirs;
}

function childrenOf(pid: number): number[] {
  try {
    return readdirSync(`/proc/${pid}/task`).flatMap((tid) =>
      readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim().split(' ').filter(Boolean).map(Number),
    );
  } catch {
    return []; // gone meanwhile
  }
}

/** A process's PID in its own PID namespace, or null. */
function nsPid(pid: number): number | null {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^NSpid:\s+(.*)$/m)?.[1];
    return line === undefined ? null : Number(line.trim().split(/\s+/).at(-1));
  } catch {
    return null;
  }
}

/** Removes a cgroup directory and those under it, deepest first (empty cgroups only: rmdir). */
function removeCgroup(dir: string): void {
  if (!existsSync(dir)) return;
  for (const e of readdirSync(dir, { withFileTypes: true }))
    if (e.isDirectory()) removeCgroup(join(dir, e.name));
  try {
    rmdirSync(dir);
  } catch {}
}

export class BootedRoot {
  readonly #nspawn: ChildProcess;
  readonly #output: string[] = [];
  /** The cgroups the container runs in (containerCgroups). */
  readonly #cgroups: string[];
  #pid = 0;

  private constructor(nspawn: ChildProcess, cgroups: string[]) {
    this.#nspawn = nspawn;
    this.#cgroups = cgroups;
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
    const cgroups = containerCgroups(o.machine);
    for (const dir of cgroups) mkdirSync(dir, { recursive: true });
    // The shell moves itself into the container's cgroups, then becomes nspawn.
    const enter = 'for c in $DSRL_CGROUPS; do echo $$ > "$c/cgroup.procs"; done; exec "$0" "$@"';
    const nspawn = spawn(
      'sh',
      [
        '-c',
        enter,
        'systemd-nspawn',
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
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DSRL_CGROUPS: cgroups.join(' ') } },
    );
    const booted = new BootedRoot(nspawn, cgroups);
    try {
      // nspawn forks a short-lived helper before the container's init: the init is the child
      // that is PID 1 in its own PID namespace (proc(5): the last NSpid field).
      booted.#pid = await waitFor(
        'the container init',
        () => {
          if (nspawn.exitCode !== null) throw new Error(`systemd-nspawn exited: ${booted.output()}`);
          return childrenOf(nspawn.pid!).find((pid) => nsPid(pid) === 1);
        },
        { limitMs: 20_000 },
      );
      let state = '';
      await waitFor(
        'systemd in the container to finish booting',
        () => {
          const r = booted.tryRun('systemctl', ['is-system-running']);
          state = (r.stdout || r.stderr).trim();
          return state === 'running' || state === 'degraded' ? state : undefined;
        },
        {
          limitMs: 60_000,
          everyMs: 200,
          detail: () =>
            `state ${state}; jobs: ${booted.tryRun('systemctl', ['list-jobs', '--no-pager']).stdout}; ${booted.output()}`,
        },
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
    for (const dir of this.#cgroups) removeCgroup(dir);
  }
}
