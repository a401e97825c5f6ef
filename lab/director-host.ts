/**
 * What the lab's director hosts share, whoever builds them (the pair, the quorum voters): the
 * daemons started on them with their scratch directory and bpffs (LabDaemons), the VIP on their
 * interface, their daemon's status.
 *
 * The directors' own bpffs: `ip netns exec` hides /sys/fs/bpf, so a lab's forwarders pin on a bpffs
 * mounted under /run, one directory per director, named after the lab's prefix so labs in other
 * processes and test workers never share one.
 */
import { existsSync, mkdirSync, mkdtempSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DaemonStatus } from '../admin/catalogue/status.ts';
import { callDaemon } from '../admin/client.ts';
import { removePins } from '../forwarder/loader.ts';
import { DSRD } from './binaries.ts';
import { run } from './exec.ts';
import type { LabProcess } from './process.ts';
import type { Host, Lab } from './topology.ts';

/** The dsrd processes of a lab's directors, their scratch directory and bpffs, and their teardown. */
export class LabDaemons {
  readonly lab: Lab;
  /** Scratch directory for configs, keys, sockets and spools. */
  readonly dir: string;
  readonly bpffs: string;
  /** Every dsrd started, restarts included, oldest first. */
  readonly procs: LabProcess[] = [];
  #mounted = false;

  constructor(lab: Lab, dirPrefix: string) {
    this.lab = lab;
    this.dir = mkdtempSync(join(tmpdir(), dirPrefix));
    this.bpffs = `/run/${lab.prefix}-bpf`;
  }

  /** Mounts the directors' bpffs. */
  async mount(): Promise<void> {
    mkdirSync(this.bpffs, { recursive: true });
    await run('mount', ['-t', 'bpf', 'bpf', this.bpffs]);
    this.#mounted = true;
  }

  /** Where a director's dsrd pins its maps (forwarder.pin_dir). */
  pinDir(name: string): string {
    return join(this.bpffs, name);
  }

  /**
   * Starts (or restarts) a director's dsrd, under `launch` (chrt, taskset) if given, sets its
   * `proc` at once (its output serves a failed start's report) and waits until it runs.
   */
  async start(
    d: { readonly host: Host; readonly configPath: string; proc: LabProcess | null },
    launch: readonly string[] = [],
  ): Promise<LabProcess> {
    const args = ['--config', d.configPath];
    const [cmd, ...prefix] = launch;
    const p =
      cmd === undefined
        ? this.lab.node(d.host, DSRD, args)
        : this.lab.spawn(d.host, cmd, [...prefix, process.execPath, DSRD, ...args]);
    this.procs.push(p);
    d.proc = p;
    await p.waitForLine(/"msg":"dsrd running"/, 40_000);
    return p;
  }

  /**
   * Teardown steps (lab/teardown.ts): every dsrd stopped, the lab, every director's pins, the
   * mount, the bpffs directory, the scratch directory.
   */
  teardown(): (() => unknown)[] {
    return [
      () => Promise.all(this.procs.map((p) => p.stop())),
      () => this.lab.destroy(),
      ...this.lab.directors.map((d) => () => removePins(this.pinDir(d.name))),
      () => (this.#mounted ? run('umount', [this.bpffs]) : undefined),
      // Not recursive: were it still mounted, this fails (and says so) rather than empty the bpffs.
      () => {
        if (existsSync(this.bpffs)) rmdirSync(this.bpffs);
      },
      () => rmSync(this.dir, { recursive: true, force: true }),
    ];
  }
}

/** Whether `host` has `vip` on its eth0 (the kernel's view: it answers ARP for it). */
export async function holdsVip(lab: Lab, host: Host, vip: string): Promise<boolean> {
  const { stdout } = await lab.exec(host, 'ip', ['-j', 'addr', 'show', 'dev', 'eth0']);
  const links = JSON.parse(stdout) as { addr_info: { local: string }[] }[];
  return links.some((l) => l.addr_info.some((a) => a.local === vip));
}

/** A daemon's status over its admin socket, in-process (no dsrctl spawn); null if it does not answer. */
export async function daemonStatus(sock: string): Promise<DaemonStatus | null> {
  try {
    return (await callDaemon(sock, 'status', {}, { timeoutMs: 5000 })) as DaemonStatus;
  } catch {
    return null;
  }
}
