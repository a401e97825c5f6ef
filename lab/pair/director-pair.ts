/**
 * Two real dsrd directors with the forwarder, in front of three real servers, for lab tests that
 * need a whole pair (test/cli/dsrd-faults-lab.test.ts): configs, start / restart, status polling
 * through the admin socket (cheap) and through `dsrctl status --json` (what an operator runs),
 * who holds the VIP, what the client's ARP cache says, the daemons' logs, and teardown.
 *
 * Director a (d1, priority 150) is preferred; b (d2, priority 100) backs it up. Every setting not
 * named here is dsrd's default (sync on, preempt on, the forwarder tracked). The service is the
 * real servers' UDP echo on VIP:7001 (with a UDP health check), which the failover probe
 * (lab/failover/udp-probe.ts) talks to.
 *
 * `ip netns exec` hides /sys/fs/bpf, so the forwarders pin on a bpffs of their own mounted under
 * /run (unmounted by destroy()).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DaemonStatus } from '../../admin/catalogue/status.ts';
import { callDaemon } from '../../admin/client.ts';
import { masterDownIntervalMs } from '../../failover/index.ts';
import { removePins } from '../../forwarder/loader.ts';
import { DSRD, dsrctl } from '../binaries.ts';
import { createLab, type Host, type Lab, type LabProcess, run } from '../index.ts';

export const UDP_PORT = 7001;

export interface Director {
  readonly host: Host;
  readonly priority: number;
  readonly sock: string;
  readonly configPath: string;
  /** The running dsrd (the latest one after a restart). */
  proc: LabProcess | null;
}

export interface PairOptions {
  advertMs?: number;
  /** A command dsrd is run under, per director (chrt, taskset); default none. */
  launch?: (d: Director) => readonly string[];
}

let pairs = 0;
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const role = (s: DaemonStatus): string => s.groups[0].role;
/** The sync part's own status (readiness, per-peer receiving state), for failure reports. */
export const syncStatus = (s: DaemonStatus): unknown =>
  s.parts.find((x) => x.name === 'sync')?.status ?? null;

export class DirectorPair {
  readonly lab: Lab;
  readonly a: Director;
  readonly b: Director;
  readonly vip: string;
  readonly advertMs: number;
  readonly #dir: string;
  readonly #bpffs: string;
  readonly #procs: LabProcess[] = [];
  #mounted = false;
  #launch: (d: Director) => readonly string[] = () => [];

  private constructor(lab: Lab, dir: string, advertMs: number) {
    this.lab = lab;
    this.#dir = dir;
    this.#bpffs = `/run/dsrl-pair-${process.pid}-${pairs++}`;
    this.advertMs = advertMs;
    this.vip = lab.vips4[0];
    const director = (host: Host, priority: number): Director => ({
      host,
      priority,
      sock: join(dir, `${host.name}.sock`),
      configPath: join(dir, `${host.name}.yaml`),
      proc: null,
    });
    this.a = director(lab.directors[0], 150);
    this.b = director(lab.directors[1], 100);
  }

  /** Builds the lab (1 client, 2 directors, 3 real servers) and writes both configs. */
  static async create(opts: PairOptions = {}): Promise<DirectorPair> {
    const lab = await createLab({ clients: 1, directors: 2, realServers: 3 });
    const pair = new DirectorPair(lab, mkdtempSync(join(tmpdir(), 'dsr-lab-pair-')), opts.advertMs ?? 100);
    if (opts.launch) pair.#launch = opts.launch;
    try {
      mkdirSync(pair.#bpffs, { recursive: true });
      await run('mount', ['-t', 'bpf', 'bpf', pair.#bpffs]);
      pair.#mounted = true;
      // A real NIC drops unicast frames for other MACs; a veth hands every frame to XDP. Without
      // this, frames for a director whose link is down are flooded to the other, whose forwarder
      // serves them, and a link-down outage would measure the lab's flooding, not the takeover.
      for (const d of lab.directors) {
        await lab.exec(lab.bridgeNs, 'bridge', ['link', 'set', 'dev', d.port, 'flood', 'off']);
      }
      writeFileSync(join(pair.#dir, 'election.key'), randomBytes(32), { mode: 0o600 });
      writeFileSync(pair.a.configPath, pair.#config(pair.a, pair.b));
      writeFileSync(pair.b.configPath, pair.#config(pair.b, pair.a));
      return pair;
    } catch (e) {
      await pair.destroy();
      throw e;
    }
  }

  get directors(): readonly [Director, Director] {
    return [this.a, this.b];
  }

  other(d: Director): Director {
    return d === this.a ? this.b : this.a;
  }

  byName(name: string): Director | undefined {
    return this.directors.find((d) => d.host.name === name);
  }

  /** The backup's master-down interval (RFC 5798 §6.1): how long an unplanned takeover waits. */
  get masterDownMs(): number {
    return masterDownIntervalMs(this.b.priority, this.advertMs);
  }

  #config(me: Director, peer: Director): string {
    const reals = this.lab.realServers.map((r) => `      - address: ${r.ipv4}`).join('\n');
    return `node:
  id: ${me.host.name}
  priority: ${me.priority}
  address: ${me.host.ipv4}
peers:
  - id: ${peer.host.name}
    address: ${peer.host.ipv4}
interfaces:
  - name: eth0
forwarder:
  pin_dir: ${join(this.#bpffs, me.host.name)}
vip_groups:
  - name: web
    id: 51
    vips: [${this.vip}]
    advert_interval_ms: ${this.advertMs}
services:
  - name: echo-udp
    vip: ${this.vip}
    protocol: udp
    port: ${UDP_PORT}
    health_check: { kind: udp, send: health, interval_ms: 1000, timeout_ms: 500 }
    real_servers:
${reals}
keys:
  election:
    keys:
      - id: 1
        file: ${join(this.#dir, 'election.key')}
metrics:
  enabled: false
alerts:
  queue_dir: ${join(this.#dir, `alerts-${me.host.name}`)}
admin:
  socket: ${me.sock}
`;
  }

  /** Starts (or restarts) a director's dsrd and waits until it runs. */
  async start(d: Director): Promise<LabProcess> {
    const args = ['--config', d.configPath];
    const [cmd, ...prefix] = this.#launch(d);
    const p =
      cmd === undefined
        ? this.lab.node(d.host, DSRD, args)
        : this.lab.spawn(d.host, cmd, [...prefix, process.execPath, DSRD, ...args]);
    this.#procs.push(p);
    d.proc = p;
    await p.waitForLine(/"msg":"dsrd running"/, 30_000);
    return p;
  }

  /** Both up: a master holding the VIP, b its backup, every real server forwarding on both. */
  async startBoth(): Promise<void> {
    await Promise.all([this.start(this.a), this.start(this.b)]);
    const ready = (s: DaemonStatus) =>
      s.services.every((svc) => svc.realServers.every((r) => r.forwarding === 'active'));
    await this.until(this.a, (s) => role(s) === 'master' && ready(s), 30_000);
    await this.until(
      this.b,
      (s) => role(s) === 'backup' && s.groups[0].master === this.a.host.name && ready(s),
      30_000,
    );
  }

  /** Status over the admin socket, in-process (no dsrctl spawn): for polling. null if it does not answer. */
  async status(d: Director): Promise<DaemonStatus | null> {
    try {
      return (await callDaemon(d.sock, 'status', {}, { timeoutMs: 2000 })) as DaemonStatus;
    } catch {
      return null;
    }
  }

  /** `dsrctl status --json`, as an operator would ask. */
  async ctlStatus(d: Director): Promise<DaemonStatus | null> {
    const r = await dsrctl(['-s', d.sock, 'status', '--json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as DaemonStatus) : null;
  }

  /** Polls the status until `pred` holds (bounded); returns how long it took, ms. */
  async until(d: Director, pred: (s: DaemonStatus) => boolean, limitMs = 15_000): Promise<number> {
    const t0 = performance.now();
    for (;;) {
      const s = await this.status(d);
      if (s !== null && pred(s)) return performance.now() - t0;
      if (performance.now() - t0 > limitMs) {
        throw new Error(
          `condition not reached on ${d.host.name} in ${limitMs} ms: groups ${JSON.stringify(s?.groups ?? null)}` +
            ` sync ${JSON.stringify(s === null ? null : syncStatus(s))}`,
        );
      }
      await sleep(25);
    }
  }

  /** Whether the director holds the VIP on its eth0 (what the kernel says, not the daemon). */
  async holdsVip(d: Director): Promise<boolean> {
    const { stdout } = await this.lab.exec(d.host, 'ip', ['-j', 'addr', 'show', 'dev', 'eth0']);
    const links = JSON.parse(stdout) as { addr_info: { local: string }[] }[];
    return links.some((l) => l.addr_info.some((a) => a.local === this.vip));
  }

  /** The MAC in the client's neighbour entry for the VIP as it is now (no flush). */
  async clientVipMac(): Promise<string | null> {
    const { stdout } = await this.lab.exec(this.lab.clients[0], 'ip', [
      '-j',
      'neigh',
      'show',
      'to',
      this.vip,
      'dev',
      'eth0',
    ]);
    const e = (JSON.parse(stdout) as { lladdr?: string }[]).find((x) => x.lladdr !== undefined);
    return e?.lladdr ?? null;
  }

  /** The last `n` log lines of a director's current dsrd (stdout, then stderr), for failure reports. */
  logTail(d: Director, n = 30): string[] {
    return [...(d.proc?.lines.slice(-n) ?? []), ...(d.proc?.stderrTail.slice(-10) ?? [])];
  }

  /** Every log line of every dsrd this pair started on `d` (restarts included), oldest first. */
  logs(d: Director): string[] {
    return this.#procs.filter((p) => p.label.startsWith(`${d.host.netns}:`)).flatMap((p) => p.lines);
  }

  /** Stops every dsrd, tears the lab down, removes pins and the bpffs mount. */
  async destroy(): Promise<void> {
    await Promise.all(this.#procs.map((p) => p.stop()));
    await this.lab.destroy();
    for (const d of this.lab.directors) removePins(join(this.#bpffs, d.name));
    if (this.#mounted) await run('umount', [this.#bpffs], { allowFailure: true });
    try {
      rmdirSync(this.#bpffs);
    } catch {
      // never created
    }
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
