/**
 * Two real dsrd directors in a lab, in front of the lab's real servers: the one pair builder of the
 * lab tests, the demo and the benchmarks. It writes both configs (config.ts, through config/'s
 * serializer), starts and restarts the daemons, polls their status through the admin socket
 * (cheap) or `dsrctl status --json` (what an operator runs), reloads them with other real
 * servers, reads the kernel's view (who holds the VIP, what the client's ARP cache says), keeps
 * the daemons' logs, and tears everything down.
 *
 * Director a (d1, priority 150 by default) is preferred; b (d2, 100) backs it up. What the users
 * differ in is an option: the advert interval, the services and how many real servers each has,
 * a command to run dsrd under, the VIP group's and the sync's settings, alert targets.
 *
 * `ip netns exec` hides /sys/fs/bpf, so the forwarders pin on a bpffs of their own mounted under
 * /run (unmounted by destroy()).
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ExplainResult } from '../../admin/catalogue/flows.ts';
import type { DaemonStatus } from '../../admin/catalogue/status.ts';
import { callDaemon } from '../../admin/client.ts';
import { DEFAULTS, serializeConfigInput } from '../../config/index.ts';
import { masterDownIntervalMs } from '../../failover/index.ts';
import { dsrctl } from '../binaries.ts';
import { daemonStatus, holdsVip, LabDaemons } from '../director-host.ts';
import { runIn } from '../exec.ts';
import type { LabProcess } from '../process.ts';
import { teardownSteps } from '../teardown.ts';
import { createLab, type Host, type Lab } from '../topology.ts';
import { until as waitUntil } from '../wait.ts';
import {
  type AlertTargetInput,
  hostPort,
  METRICS_PORT,
  type PairDirectorConfig,
  type PairService,
  pairDirectorConfig,
  type SyncInput,
  UDP_ECHO,
} from './config.ts';
import { allForwarding, inSync, role, syncStatus } from './status.ts';
import { pinnedClients, startStreams } from './traffic.ts';

export interface Director {
  readonly host: Host;
  readonly priority: number;
  readonly sock: string;
  readonly configPath: string;
  /** The running dsrd (the latest one after a restart). */
  proc: LabProcess | null;
}

export interface PairOptions {
  /** The VIP group's advert interval; default 100 ms. */
  advertMs?: number;
  /** Priorities of a and b; default 150 and 100. */
  priorities?: readonly [number, number];
  /** Real servers in the lab; default 3 (0: none, and no real-server services started). */
  realServers?: number;
  /** Services on the VIP; default the UDP echo (config.ts UDP_ECHO). */
  services?: readonly PairService[];
  /** More of the VIP group's settings, e.g. `{ track: { forwarder: false } }`. */
  vipGroup?: PairDirectorConfig['vipGroup'];
  /** The sync section; default dsrd's (enabled). */
  sync?: SyncInput;
  /** Connection timeouts; default dsrd's. */
  timers?: PairDirectorConfig['timers'];
  /** Table sizes; default dsrd's. */
  tables?: PairDirectorConfig['tables'];
  /** Prometheus metrics on each director's lab address (scrape()); default off. */
  metrics?: boolean;
  /** Alert targets, from the built pair (a receiver on its client, a secret file under `dir`). */
  alertTargets?: (pair: DirectorPair) => readonly AlertTargetInput[];
  /** A command dsrd is run under, per director (chrt, taskset); default none. */
  launch?: (d: Director) => readonly string[];
  /**
   * The bridge floods no unicast to the directors' ports. A real NIC drops frames for other MACs;
   * a veth hands every frame to XDP. Without this, frames for a director whose link is down are
   * flooded to the other, whose forwarder serves them, and a link-down outage measures the lab's
   * flooding, not the takeover. Default false (the bridge as createLab makes it).
   */
  noUnicastFlood?: boolean;
  /**
   * 6: the VIP, the real servers and the directors' own addresses (election and sync) are the
   * lab's IPv6 ones. Default 4.
   */
  family?: 4 | 6;
}

export class DirectorPair {
  readonly lab: Lab;
  readonly a: Director;
  readonly b: Director;
  readonly vip: string;
  readonly advertMs: number;
  /** Scratch directory for configs, keys, sockets and spools (removed by destroy()). */
  readonly dir: string;
  readonly #daemons: LabDaemons;
  readonly #opts: PairOptions;
  readonly #services: PairService[];

  private constructor(lab: Lab, opts: PairOptions) {
    this.lab = lab;
    this.#opts = opts;
    this.#services = (opts.services ?? [UDP_ECHO]).map((s) => ({ ...s }));
    // The bpffs under the lab's own prefix: unique across processes and the worker threads a test
    // runner runs files in (a pid and a per-module counter were not, and two pairs shared one).
    this.#daemons = new LabDaemons(lab, 'dsr-lab-pair-');
    this.dir = this.#daemons.dir;
    this.advertMs = opts.advertMs ?? 100;
    this.vip = opts.family === 6 ? lab.vip6 : lab.vips4[0];
    const [pa, pb] = opts.priorities ?? [150, 100];
    const director = (host: Host, priority: number): Director => ({
      host,
      priority,
      sock: join(this.dir, `${host.name}.sock`),
      configPath: join(this.dir, `${host.name}.yaml`),
      proc: null,
    });
    this.a = director(lab.directors[0], pa);
    this.b = director(lab.directors[1], pb);
  }

  /** Builds the lab (a client, two directors, the real servers) and writes both configs. */
  static async create(opts: PairOptions = {}): Promise<DirectorPair> {
    const realServers = opts.realServers ?? 3;
    const lab = await createLab({ clients: 1, directors: 2, realServers, startServers: realServers > 0 });
    const pair = new DirectorPair(lab, opts);
    try {
      await pair.#daemons.mount();
      if (opts.noUnicastFlood) {
        for (const d of lab.directors) {
          await lab.exec(lab.bridgeNs, 'bridge', ['link', 'set', 'dev', d.port, 'flood', 'off']);
        }
      }
      writeFileSync(join(pair.dir, 'election.key'), randomBytes(32), { mode: 0o600 });
      pair.#writeConfigs();
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

  /** Where a director's dsrd pins its maps (forwarder.pin_dir). */
  pinDir(d: Director): string {
    return this.#daemons.pinDir(d.host.name);
  }

  /** How to open a director's pinned maps from outside (forwarder/harness.ts): where, and their size. */
  pins(d: Director): { pinDir: string; connEntries?: number } {
    return { pinDir: this.pinDir(d), connEntries: this.#opts.tables?.conn_table_size };
  }

  /** The backup's master-down interval (RFC 5798 §6.1): how long an unplanned takeover waits. */
  get masterDownMs(): number {
    return masterDownIntervalMs(this.b.priority, this.advertMs);
  }

  get #syncOn(): boolean {
    return this.#opts.sync?.enabled !== false;
  }

  #writeConfigs(): void {
    const v6 = this.#opts.family === 6;
    const address = (h: Host) => (v6 ? h.ipv6 : h.ipv4);
    for (const me of this.directors) {
      const peer = this.other(me);
      const doc = pairDirectorConfig({
        self: { id: me.host.name, address: address(me.host), priority: me.priority },
        peer: { id: peer.host.name, address: address(peer.host) },
        vip: this.vip,
        advertMs: this.advertMs,
        vipGroup: this.#opts.vipGroup,
        services: this.#services,
        reals: this.lab.realServers.map(address),
        sync: this.#opts.sync,
        timers: this.#opts.timers,
        tables: this.#opts.tables,
        alertTargets: this.#opts.alertTargets?.(this),
        metrics: this.#opts.metrics,
        keyFile: join(this.dir, 'election.key'),
        pinDir: this.pinDir(me),
        alertsDir: join(this.dir, `alerts-${me.host.name}`),
        stateDir: join(this.dir, `state-${me.host.name}`),
        adminSocket: me.sock,
      });
      writeFileSync(me.configPath, serializeConfigInput(doc));
    }
  }

  /** Starts (or restarts) a director's dsrd and waits until it runs. */
  start(d: Director): Promise<LabProcess> {
    return this.#daemons.start(d, this.#opts.launch?.(d));
  }

  /**
   * Both up: a master holding the VIP, b its backup, every real server forwarding on both, and
   * with the sync on, each holding the other's tables.
   */
  async startBoth(): Promise<void> {
    await Promise.all([this.start(this.a), this.start(this.b)]);
    const ready = (s: DaemonStatus) => allForwarding(s) && (!this.#syncOn || inSync(s));
    await this.until(this.a, (s) => role(s) === 'master' && ready(s), 30_000);
    await this.until(
      this.b,
      (s) => role(s) === 'backup' && s.groups[0].master === this.a.host.name && ready(s),
      30_000,
    );
  }

  /** A scrape of a director's metrics (pair made with `metrics: true`), from the client as Prometheus would. */
  async scrape(d: Director): Promise<string> {
    const address = this.#opts.family === 6 ? d.host.ipv6 : d.host.ipv4;
    const url = `http://${hostPort(address, METRICS_PORT)}/metrics`;
    const script = `fetch(${JSON.stringify(url)}).then((r) => r.text()).then((t) => process.stdout.write(t))`;
    const { stdout } = await this.lab.exec(this.lab.clients[0], process.execPath, ['-e', script], {
      timeoutMs: 10_000,
    });
    return stdout;
  }

  /** Status over the admin socket, in-process (no dsrctl spawn): for polling. null if it does not answer. */
  status(d: Director): Promise<DaemonStatus | null> {
    return daemonStatus(d.sock);
  }

  /** `dsrctl status --json`, as an operator would ask. */
  async ctlStatus(d: Director): Promise<DaemonStatus | null> {
    const r = await dsrctl(['-s', d.sock, 'status', '--json']);
    return r.code === 0 ? (JSON.parse(r.stdout) as DaemonStatus) : null;
  }

  /** `dsrctl explain` over the admin socket: where a TCP flow from `client` to the VIP goes. */
  async explain(d: Director, client: string, vipPort: number): Promise<ExplainResult> {
    const args = { client, clientPort: 1, vip: this.vip, vipPort, protocol: 'tcp' };
    return (await callDaemon(d.sock, 'explain', args, { timeoutMs: 5000 })) as ExplainResult;
  }

  /** Polls the status until `pred` holds (bounded); returns how long it took, ms. */
  until(d: Director, pred: (s: DaemonStatus) => boolean, limitMs = 15_000): Promise<number> {
    let last: DaemonStatus | null = null;
    return waitUntil(
      `the awaited state on ${d.host.name}`,
      async () => {
        last = await this.status(d);
        return last !== null && pred(last);
      },
      {
        limitMs,
        detail: () =>
          `groups ${JSON.stringify(last?.groups ?? null)} sync ${JSON.stringify(last === null ? null : syncStatus(last))}`,
      },
    );
  }

  /** Every real server of every service forwarding on `d` (its MAC resolved). */
  untilServicesActive(d: Director): Promise<number> {
    return this.until(d, allForwarding);
  }

  /**
   * Waits until `master` is master holding the VIP and `other` is backup holding none: the end
   * state the tests check. Polled, since a loaded machine can make the election flap briefly.
   */
  async settled(master: Director, other: Director, limitMs = 15_000): Promise<void> {
    let seen: (DaemonStatus | null)[] = [];
    await waitUntil(
      `${master.host.name} master and ${other.host.name} backup, the VIP on ${master.host.name} only`,
      async () => {
        seen = await Promise.all([this.status(master), this.status(other)]);
        const [sm, so] = seen;
        return (
          sm !== null &&
          so !== null &&
          role(sm) === 'master' &&
          role(so) === 'backup' &&
          (await this.holdsVip(master)) &&
          !(await this.holdsVip(other))
        );
      },
      { limitMs, everyMs: 100, detail: () => seen.map((s) => JSON.stringify(s?.groups)).join(' / ') },
    );
  }

  /**
   * Gives services more (or fewer) real servers (service name → the first n), in both directors'
   * config files, and reloads both with `dsrctl config reload`, waiting until each forwards to
   * every real server.
   */
  async reloadWith(reals: Readonly<Record<string, number>>): Promise<void> {
    for (const s of this.#services) if (s.name in reals) s.realServers = reals[s.name];
    this.#writeConfigs();
    for (const d of this.directors) {
      const r = await dsrctl(['-s', d.sock, 'config', 'reload', '--json']);
      if (r.code !== 0) throw new Error(`reload of ${d.host.name} failed: ${r.stderr}`);
      await this.untilServicesActive(d);
    }
  }

  /** Whether the director holds the VIP on its eth0 (what the kernel says, not the daemon). */
  holdsVip(d: Director): Promise<boolean> {
    return holdsVip(this.lab, d.host, this.vip);
  }

  /** The MAC in the client's neighbour entry for the VIP as it is now (where its packets go). */
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

  /** The MAC the client resolves the VIP to, asked afresh (who answers ARP for it now). */
  async vipMac(): Promise<string | null> {
    const client = this.lab.clients[0];
    await this.lab.exec(client, 'ip', ['neigh', 'flush', 'dev', 'eth0']);
    await this.lab.exec(client, 'ping', ['-c', '1', '-W', '1', this.vip], { allowFailure: true });
    return this.clientVipMac();
  }

  /** Drops sync datagrams arriving at `d` (the election still gets through): its bulk cannot complete. */
  async blockSyncTo(d: Director): Promise<void> {
    const port = this.#opts.sync?.port ?? DEFAULTS.sync.port;
    const rules = `table inet dsrl_sync {
  chain input { type filter hook input priority 0; policy accept; udp dport ${port} drop; }
}
`;
    await runIn(d.host.netns, 'nft', ['-f', '-'], { input: rules });
  }

  async unblockSyncTo(d: Director): Promise<void> {
    await runIn(d.host.netns, 'nft', ['delete', 'table', 'inet', 'dsrl_sync']);
  }

  /** Long-lived TCP streams from the client through the VIP, once every one is greeted. */
  streams(count: number): Promise<{ proc: LabProcess; servers: Record<string, number> }> {
    return startStreams(this.lab, this.lab.clients[0], this.vip, count);
  }

  /** The persistence clients, once, from the client: which real server answered each source. */
  pinnedClients(
    sources: readonly string[],
    count: number,
  ): Promise<{ byClient: Record<string, string[]>; errors: string[] }> {
    return pinnedClients(this.lab, this.lab.clients[0], this.vip, sources, count);
  }

  /** The last `n` log lines of a director's current dsrd (stdout, then stderr), for failure reports. */
  logTail(d: Director, n = 30): string[] {
    return [...(d.proc?.lines.slice(-n) ?? []), ...(d.proc?.stderrTail.slice(-10) ?? [])];
  }

  /** Every log line of every dsrd this pair started on `d` (restarts included), oldest first. */
  logs(d: Director): string[] {
    return this.#daemons.procs.filter((p) => p.label.startsWith(`${d.host.netns}:`)).flatMap((p) => p.lines);
  }

  /**
   * Stops every dsrd, tears the lab down, removes pins, the bpffs mount and the scratch directory;
   * every step runs even when one fails.
   */
  async destroy(): Promise<void> {
    await teardownSteps(this.#daemons.teardown());
  }
}
