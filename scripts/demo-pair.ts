/**
 * The demo's two directors (scripts/demo.ts): the lab, a config per director (sync on, d1
 * preferred), starting dsrd in each director's namespace, reading their status over the admin
 * socket, and removing all of it again.
 *
 * Services on the VIP: echo (tcp/7000, the long-lived streams), http (tcp/80, with source-IP
 * persistence) and probe (udp/7001, the 10 ms probe). `ip netns exec` hides /sys/fs/bpf, so the
 * forwarders pin on a bpffs of their own mounted under /run.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DaemonStatus } from '../admin/catalogue/status.ts';
import { callDaemon } from '../admin/client.ts';
import { removePins } from '../forwarder/loader.ts';
import { createLab, type Host, type Lab, type LabProcess, run } from '../lab/index.ts';

const DSRD = fileURLToPath(new URL('../bin/dsrd.js', import.meta.url));
const STREAMS = fileURLToPath(new URL('../lab/servers/streams.ts', import.meta.url));

export interface DemoDirector {
  host: Host;
  priority: number;
  sock: string;
  configPath: string;
  proc: LabProcess | null;
}

export const role = (s: DaemonStatus): string => s.groups[0]?.role ?? 'unknown';

export function inSync(s: DaemonStatus): boolean {
  const sync = s.parts.find((p) => p.name === 'sync')?.status as
    | { peers?: { inSync: boolean }[] }
    | undefined;
  return sync?.peers?.[0]?.inSync === true;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class DemoPair {
  readonly lab: Lab;
  readonly a: DemoDirector;
  readonly b: DemoDirector;
  readonly vip: string;
  readonly #dir: string;
  readonly #bpffs: string;
  #mounted = false;

  private constructor(lab: Lab) {
    this.lab = lab;
    this.vip = lab.vips4[0];
    this.#dir = mkdtempSync(join(tmpdir(), 'dsr-demo-'));
    this.#bpffs = `/run/dsrl-demo-${process.pid}`;
    const director = (host: Host, priority: number): DemoDirector => ({
      host,
      priority,
      sock: join(this.#dir, `${host.name}.sock`),
      configPath: join(this.#dir, `${host.name}.yaml`),
      proc: null,
    });
    this.a = director(lab.directors[0], 150);
    this.b = director(lab.directors[1], 100);
  }

  static async create(): Promise<DemoPair> {
    const pair = new DemoPair(await createLab({ clients: 1, directors: 2, realServers: 3 }));
    try {
      mkdirSync(pair.#bpffs, { recursive: true });
      await run('mount', ['-t', 'bpf', 'bpf', pair.#bpffs]);
      pair.#mounted = true;
      writeFileSync(join(pair.#dir, 'election.key'), randomBytes(32), { mode: 0o600 });
      writeFileSync(pair.a.configPath, pair.#config(pair.a, pair.b));
      writeFileSync(pair.b.configPath, pair.#config(pair.b, pair.a));
      return pair;
    } catch (e) {
      await pair.destroy();
      throw e;
    }
  }

  #config(me: DemoDirector, peer: DemoDirector): string {
    const reals = this.lab.realServers.map((r) => `      - address: ${r.ipv4}`).join('\n');
    const service = (name: string, protocol: string, port: number, extra = '') =>
      `  - name: ${name}\n    vip: ${this.vip}\n    protocol: ${protocol}\n    port: ${port}\n${extra}    real_servers:\n${reals}\n`;
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
    advert_interval_ms: 100
    preempt: true
services:
${service('echo', 'tcp', 7000)}${service('http', 'tcp', 80, '    persistence: { timeout_s: 300 }\n')}${service('probe', 'udp', 7001)}keys:
  election:
    keys:
      - id: 1
        file: ${join(this.#dir, 'election.key')}
sync:
  enabled: true
metrics:
  enabled: false
alerts:
  queue_dir: ${join(this.#dir, `alerts-${me.host.name}`)}
admin:
  socket: ${me.sock}
`;
  }

  async start(d: DemoDirector): Promise<void> {
    d.proc = this.lab.node(d.host, DSRD, ['--config', d.configPath]);
    await d.proc.waitForLine(/"msg":"dsrd running"/, 30_000);
  }

  /** Both running: d1 master, d2 backup, each in sync with the other, every real server resolved. */
  async startBoth(): Promise<void> {
    await Promise.all([this.start(this.a), this.start(this.b)]);
    const ready = (s: DaemonStatus) =>
      inSync(s) && s.services.every((svc) => svc.realServers.every((r) => r.forwarding === 'active'));
    await this.until(this.a, (s) => role(s) === 'master' && ready(s), 30_000);
    await this.until(this.b, (s) => role(s) === 'backup' && ready(s), 30_000);
  }

  async status(d: DemoDirector): Promise<DaemonStatus | null> {
    try {
      return (await callDaemon(d.sock, 'status', {}, { timeoutMs: 2000 })) as DaemonStatus;
    } catch {
      return null;
    }
  }

  /** Polls the director's status until `pred` holds (bounded); returns how long it took, ms. */
  async until(d: DemoDirector, pred: (s: DaemonStatus) => boolean, limitMs = 15_000): Promise<number> {
    const t0 = performance.now();
    for (;;) {
      const s = await this.status(d);
      if (s !== null && pred(s)) return performance.now() - t0;
      if (performance.now() - t0 > limitMs) {
        throw new Error(`${d.host.name} did not reach the expected state in ${limitMs} ms`);
      }
      await sleep(20);
    }
  }

  /** The long-lived streams (lab/servers/streams.ts) from the client, once every one is greeted. */
  async streams(count: number): Promise<{ proc: LabProcess; servers: Record<string, number> }> {
    const proc = this.lab.node(this.lab.clients[0], STREAMS, ['--addr', this.vip, '--count', String(count)], {
      stdin: true,
    });
    const line = await proc.waitForLine(/^\{"ready"/, 15_000);
    return {
      proc,
      servers: (JSON.parse(line) as { ready: { servers: Record<string, number> } }).ready.servers,
    };
  }

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

/** The stream tool's figures the demo prints (lab/servers/streams.ts). */
export interface StreamsFigures {
  count: number;
  alive: number;
  maxDelayMs: number;
  servers: Record<string, number>;
  streams: { errors: string[] }[];
}

/** Asks the stream tool for its figures so far ('report'), or the last ones as it stops ('final'). */
export async function streamsReport(proc: LabProcess, kind: 'report' | 'final'): Promise<StreamsFigures> {
  const seen = proc.lines.length;
  proc.write(kind === 'report' ? 'report' : 'stop');
  for (let i = 0; i < 400; i++) {
    const line = proc.lines.slice(seen).find((l) => l.startsWith(`{"${kind}"`));
    if (line !== undefined) return (JSON.parse(line) as Record<string, StreamsFigures>)[kind];
    await sleep(25);
  }
  throw new Error(`the stream tool gave no ${kind}`);
}
