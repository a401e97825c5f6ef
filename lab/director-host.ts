/**
 * What the lab's director hosts share, whoever builds them (the pair, the quorum voters): their
 * bpffs, the VIP on their interface, their daemon's status.
 *
 * The directors' own bpffs: `ip netns exec` hides /sys/fs/bpf, so a lab's forwarders pin on a bpffs
 * mounted under /run, one directory per director, named after the lab's prefix so labs in other
 * processes and test workers never share one.
 */
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DaemonStatus } from '../admin/catalogue/status.ts';
import { callDaemon } from '../admin/client.ts';
import { removePins } from '../forwarder/loader.ts';
import { run } from './exec.ts';
import type { Host, Lab } from './topology.ts';

export class DirectorBpffs {
  readonly path: string;
  #mounted = false;

  constructor(lab: Lab) {
    this.path = `/run/${lab.prefix}-bpf`;
  }

  async mount(): Promise<void> {
    mkdirSync(this.path, { recursive: true });
    await run('mount', ['-t', 'bpf', 'bpf', this.path]);
    this.#mounted = true;
  }

  /** Where a director's dsrd pins its maps (forwarder.pin_dir). */
  pinDir(name: string): string {
    return join(this.path, name);
  }

  /** Teardown steps (lab/teardown.ts): every director's pins, the mount, the directory. */
  teardown(names: readonly string[]): (() => unknown)[] {
    return [
      ...names.map((name) => () => removePins(this.pinDir(name))),
      () => (this.#mounted ? run('umount', [this.path]) : undefined),
      // Not recursive: were it still mounted, this fails (and says so) rather than empty the bpffs.
      () => {
        if (existsSync(this.path)) rmdirSync(this.path);
      },
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
