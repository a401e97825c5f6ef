/**
 * A pair of real dsrd directors with sync enabled, in a lab with three real servers, for the
 * issue-6 lab tests (dsrd-sync-lab.test.ts): configs, start/restart, `dsrctl status` polling,
 * the sync part's view of its peer, VIP and ARP checks, the stream and client tools, teardown.
 *
 * `ip netns exec` hides /sys/fs/bpf, so the forwarders pin on a bpffs of their own mounted under
 * /run (one per pair, unmounted in destroy()).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExplainResult } from '../../admin/catalogue/flows.ts';
import type { DaemonStatus } from '../../admin/catalogue/status.ts';
import { callDaemon } from '../../admin/client.ts';
import { masterDownIntervalMs } from '../../failover/index.ts';
import { removePins } from '../../forwarder/loader.ts';
import { DSRD, dsrctl } from '../binaries.ts';
import { createLab, type Host, type Lab, type LabProcess, run, runIn } from '../index.ts';

export const STREAMS = fileURLToPath(new URL('../servers/streams.ts', import.meta.url));
export const PINNED_CLIENTS = fileURLToPath(new URL('../servers/pinned-clients.ts', import.meta.url));
export const ADVERT_MS = 100;
export const SYNC_PORT = 9778;

export interface Director {
  host: Host;
  priority: number;
  sock: string;
  configPath: string;
  proc: LabProcess | null;
}

/** The sync part's status of its one peer (daemon/sync/part.ts status()). */
export interface SyncPeerView {
  peer: string;
  state: string;
  inSync: boolean;
  applied: number;
  bulksCompleted: number;
  behindMessages: number;
}

/** How many of the lab's real servers (the first n) each service has. */
export interface RealCounts {
  /** The TCP echo service (:7000), no persistence. */
  echo: number;
  /** The HTTP service (:80) with persistence. */
  http: number;
}

let pairs = 0;

export class SyncPair {
  readonly lab: Lab;
  readonly a: Director;
  readonly b: Director;
  readonly vip: string;
  readonly #dir: string;
  readonly #bpffs: string;
  #reals: RealCounts;
  #mounted = false;

  private constructor(lab: Lab, dir: string, bpffs: string, reals: RealCounts) {
    this.lab = lab;
    this.#dir = dir;
    this.#bpffs = bpffs;
    this.#reals = { ...reals };
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

  /** Builds the lab and writes both configs; a is preferred (priority 150), b backs it up. */
  static async create(reals: RealCounts = { echo: 3, http: 2 }): Promise<SyncPair> {
    const lab = await createLab({ clients: 1, directors: 2, realServers: 3 });
    const dir = mkdtempSync(join(tmpdir(), 'dsr-lab-sync-'));
    const pair = new SyncPair(lab, dir, `/run/dsrl-sync-${process.pid}-${pairs++}`, reals);
    try {
      mkdirSync(pair.#bpffs, { recursive: true });
      await run('mount', ['-t', 'bpf', 'bpf', pair.#bpffs]);
      pair.#mounted = true;
      writeFileSync(join(dir, 'election.key'), randomBytes(32), { mode: 0o600 });
      pair.writeConfigs();
      return pair;
    } catch (e) {
      await pair.destroy();
      throw e;
    }
  }

  /** The master-down interval of the backup (RFC 5798 §6.1): what an unplanned failover waits. */
  get masterDownMs(): number {
    return masterDownIntervalMs(this.b.priority, ADVERT_MS);
  }

  /**
   * Gives a service more (or fewer) real servers in both directors' config files and reloads
   * both with `dsrctl config reload`, waiting until each forwards to every real server.
   */
  async reloadWith(reals: Partial<RealCounts>): Promise<void> {
    this.#reals = { ...this.#reals, ...reals };
    this.writeConfigs();
    for (const d of [this.a, this.b]) {
      const r = await dsrctl(['-s', d.sock, 'config', 'reload', '--json']);
      if (r.code !== 0) throw new Error(`reload of ${d.host.name} failed: ${r.stderr}`);
      await this.untilServicesActive(d);
    }
  }

  writeConfigs(): void {
    writeFileSync(this.a.configPath, this.#config(this.a, this.b));
    writeFileSync(this.b.configPath, this.#config(this.b, this.a));
  }

  #config(me: Director, peer: Director): string {
    const reals = (n: number) =>
      this.lab.realServers
        .slice(0, n)
        .map((r) => `      - address: ${r.ipv4}`)
        .join('\n');
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
    advert_interval_ms: ${ADVERT_MS}
    preempt: true
services:
  - name: echo
    vip: ${this.vip}
    protocol: tcp
    port: 7000
    real_servers:
${reals(this.#reals.echo)}
  - name: http
    vip: ${this.vip}
    protocol: tcp
    port: 80
    persistence: { timeout_s: 300 }
    real_servers:
${reals(this.#reals.http)}
keys:
  election:
    keys:
      - id: 1
        file: ${join(this.#dir, 'election.key')}
sync:
  enabled: true
  port: ${SYNC_PORT}
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
    const p = this.lab.node(d.host, DSRD, ['--config', d.configPath]);
    d.proc = p;
    await p.waitForLine(/"msg":"dsrd running"/, 30_000);
    return p;
  }

  /** Both directors up: a master with the VIP, b its backup, each in sync with the other. */
  async startBoth(): Promise<void> {
    await Promise.all([this.start(this.a), this.start(this.b)]);
    await this.until(this.a, (s) => role(s) === 'master' && syncPeer(s)?.inSync === true, 20_000);
    await this.until(
      this.b,
      (s) => role(s) === 'backup' && s.groups[0].master === this.a.host.name && syncPeer(s)?.inSync === true,
      20_000,
    );
    await this.untilServicesActive(this.a);
    await this.untilServicesActive(this.b);
  }

  /** The director's status over its admin socket (polled often: no dsrctl process per poll). */
  async status(d: Director): Promise<DaemonStatus | null> {
    try {
      return (await callDaemon(d.sock, 'status', {}, { timeoutMs: 5000 })) as DaemonStatus;
    } catch {
      return null;
    }
  }

  /** `dsrctl explain` over the admin socket. */
  async explain(d: Director, client: string, vipPort: number): Promise<ExplainResult> {
    const args = { client, clientPort: 1, vip: this.vip, vipPort, protocol: 'tcp' };
    return (await callDaemon(d.sock, 'explain', args, { timeoutMs: 5000 })) as ExplainResult;
  }

  /**
   * Waits until `master` is master holding the VIP and `other` is backup holding none: the end
   * state every test checks. Polled, since a loaded machine can make the election flap briefly.
   */
  async settled(master: Director, other: Director, limitMs = 15_000): Promise<void> {
    const end = performance.now() + limitMs;
    for (;;) {
      const [sm, so] = await Promise.all([this.status(master), this.status(other)]);
      const ok =
        sm !== null &&
        so !== null &&
        role(sm) === 'master' &&
        role(so) === 'backup' &&
        (await this.holdsVip(master)) &&
        !(await this.holdsVip(other));
      if (ok) return;
      if (performance.now() > end) {
        throw new Error(
          `not settled with ${master.host.name} master: ${JSON.stringify(sm?.groups)} / ${JSON.stringify(so?.groups)}`,
        );
      }
      await sleep(100);
    }
  }

  /** Polls `dsrctl status` until `pred` holds (bounded); returns how long it took, ms. */
  async until(d: Director, pred: (s: DaemonStatus) => boolean, limitMs = 15_000): Promise<number> {
    const t0 = performance.now();
    let last: DaemonStatus | null = null;
    for (;;) {
      last = await this.status(d);
      if (last !== null && pred(last)) return performance.now() - t0;
      if (performance.now() - t0 > limitMs) {
        const sync = last === null ? null : syncPeer(last);
        throw new Error(
          `condition not reached on ${d.host.name} in ${limitMs} ms: groups ${JSON.stringify(last?.groups)} sync ${JSON.stringify(sync)}`,
        );
      }
      await sleep(50);
    }
  }

  /** Every real server of every service forwarding (its MAC resolved). */
  untilServicesActive(d: Director): Promise<number> {
    return this.until(d, (s) =>
      s.services.every((svc) => svc.realServers.every((r) => r.forwarding === 'active')),
    );
  }

  /** Whether the host holds the VIP on its eth0. */
  async holdsVip(d: Director): Promise<boolean> {
    const { stdout } = await this.lab.exec(d.host, 'ip', ['-j', 'addr', 'show', 'dev', 'eth0']);
    const links = JSON.parse(stdout) as { addr_info: { local: string }[] }[];
    return links.some((l) => l.addr_info.some((a) => a.local === this.vip));
  }

  /** The MAC the client's neighbour entry for the VIP holds now (where its packets go). */
  async clientVipMac(): Promise<string | null> {
    const client = this.lab.clients[0];
    const { stdout } = await this.lab.exec(client, 'ip', [
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
    const { stdout } = await this.lab.exec(client, 'ip', [
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

  /** Drops sync datagrams arriving at `d` (the election still gets through): its bulk cannot complete. */
  async blockSyncTo(d: Director): Promise<void> {
    const rules = `table inet dsrl_sync {
  chain input { type filter hook input priority 0; policy accept; udp dport ${SYNC_PORT} drop; }
}
`;
    await runIn(d.host.netns, 'nft', ['-f', '-'], { input: rules });
  }

  async unblockSyncTo(d: Director): Promise<void> {
    await runIn(d.host.netns, 'nft', ['delete', 'table', 'inet', 'dsrl_sync']);
  }

  /** Starts the long-lived streams from the client and waits until every one is greeted. */
  async streams(count: number): Promise<{ proc: LabProcess; servers: Record<string, number> }> {
    const proc = this.lab.node(this.lab.clients[0], STREAMS, ['--addr', this.vip, '--count', String(count)], {
      stdin: true,
    });
    const ready = JSON.parse(await proc.waitForLine(/^\{"ready"/, 15_000)) as {
      ready: { servers: Record<string, number> };
    };
    return { proc, servers: ready.ready.servers };
  }

  /** Runs the persistence clients once: which real server answered each request of each source. */
  async pinnedClients(
    sources: readonly string[],
    count: number,
  ): Promise<{ byClient: Record<string, string[]>; errors: string[] }> {
    const args = [PINNED_CLIENTS, '--addr', this.vip, '--count', String(count)];
    for (const s of sources) args.push('--from', s);
    const { stdout } = await this.lab.exec(this.lab.clients[0], process.execPath, args, {
      timeoutMs: 60_000,
    });
    return JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
  }

  /** Stops every dsrd, tears the lab down, removes pins and the bpffs mount. */
  async destroy(): Promise<void> {
    await Promise.all([this.a, this.b].map((d) => d.proc?.stop()));
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

export const role = (s: DaemonStatus): string => s.groups[0].role;

export function syncPeer(s: DaemonStatus): SyncPeerView | undefined {
  const part = s.parts.find((p) => p.name === 'sync')?.status as { peers?: SyncPeerView[] } | undefined;
  return part?.peers?.[0];
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A stream tool report (lab/servers/streams.ts). */
export interface StreamsReport {
  count: number;
  alive: number;
  withErrors: number;
  maxDelayMs: number;
  medianMaxDelayMs: number;
  sent: number;
  echoed: number;
  bytes: number;
  loopDelayMaxMs: number;
  servers: Record<string, number>;
  streams: {
    id: number;
    server: string;
    localPort: number;
    maxDelayMs: number;
    errors: string[];
    sent: number;
    echoed: number;
  }[];
}

/** Asks the stream tool for its figures so far. */
export async function streamsReport(
  proc: LabProcess,
  kind: 'report' | 'final' = 'report',
): Promise<StreamsReport> {
  const seen = proc.lines.length;
  proc.write(kind === 'report' ? 'report' : 'stop');
  const re = kind === 'report' ? /^\{"report"/ : /^\{"final"/;
  for (let i = 0; i < 200; i++) {
    const line = proc.lines.slice(seen).find((l) => re.test(l));
    if (line) return (JSON.parse(line) as Record<string, StreamsReport>)[kind];
    await sleep(25);
  }
  throw new Error(`the stream tool gave no ${kind}: ${proc.stderrTail.join('\n')}`);
}
