/**
 * createLab(): builds a DSR topology in network namespaces of its own and
 * removes every bit of it in destroy() (and, failing that, at process exit or
 * by the sweeper).
 *
 *   [client ns] eth0 ─┐
 *   [director ns] eth0 ─┼─ veth ─ br0 (in the bridge ns) ─ veth ─ eth0 [real server ns]
 *
 * Bridge-side veth ends carry an XDP pass program so XDP_TX from a director
 * is delivered; every host has tx checksum offload off so frames forwarded by
 * XDP carry valid checksums (design brief §3).
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { bpfObjectPath, buildBpf } from '../forwarder/bpf-build.ts';
import {
  assertLabAddress,
  DEFAULT_VIP4,
  DEFAULT_VIP6,
  type HostRole,
  hostAddresses,
  hostMac,
  hostNumber,
} from './addresses.ts';
import { ipBatch, run, runIn } from './exec.ts';
import { FaultTable } from './faults.ts';
import { LabProcess, type SpawnOptions } from './process.ts';
import { claimPrefix, newLabPrefix, releasePrefix } from './registry.ts';
import { deleteNamespaceSync, sweepLabs } from './sweep.ts';

export interface LabOptions {
  clients?: number;
  directors?: number;
  realServers?: number;
  vips4?: string[];
  vips6?: string[];
  /** Start the HTTP/TCP/UDP services on each real server (default true). */
  startServers?: boolean;
}

export interface Host {
  name: string;
  role: HostRole;
  index: number;
  netns: string;
  ifname: 'eth0';
  ipv4: string;
  ipv6: string;
  mac: string;
  /** The host's veth end on the bridge (in the bridge namespace). */
  port: string;
}

const REALSERVER_SCRIPT = fileURLToPath(new URL('./servers/realserver.ts', import.meta.url));
const liveLabs = new Set<Lab>();

export class Lab {
  readonly prefix: string;
  readonly bridgeNs: string;
  readonly clients: Host[] = [];
  readonly directors: Host[] = [];
  readonly realServers: Host[] = [];
  readonly vips4: string[];
  readonly vips6: string[];
  private readonly processes = new Set<LabProcess>();
  private readonly namespaces: string[] = [];
  private readonly faults: FaultTable;
  private destroyed = false;

  constructor(prefix: string, vips4: string[], vips6: string[]) {
    this.prefix = prefix;
    this.bridgeNs = `${prefix}-br`;
    this.vips4 = vips4.map(assertLabAddress);
    this.vips6 = vips6.map(assertLabAddress);
    this.faults = new FaultTable(this.bridgeNs);
  }

  get vip4(): string {
    return this.vips4[0];
  }

  get vip6(): string {
    return this.vips6[0];
  }

  get hosts(): Host[] {
    return [...this.directors, ...this.clients, ...this.realServers];
  }

  host(name: string): Host {
    const h = this.hosts.find((x) => x.name === name);
    if (!h) throw new Error(`no lab host named ${name}`);
    return h;
  }

  /** Every namespace this lab made (bridge first), for teardown and checks. */
  get allNamespaces(): readonly string[] {
    return this.namespaces;
  }

  exec(
    host: Host | string,
    cmd: string,
    args: readonly string[],
    opts?: { timeoutMs?: number; allowFailure?: boolean },
  ) {
    return runIn(typeof host === 'string' ? host : host.netns, cmd, args, opts);
  }

  spawn(host: Host, cmd: string, args: readonly string[], opts?: SpawnOptions): LabProcess {
    const p = new LabProcess(host.netns, cmd, args, opts);
    this.processes.add(p);
    void p.wait().then(() => this.processes.delete(p));
    return p;
  }

  /** Runs a TypeScript (or JS) file with this process's Node (24) inside the host's namespace. */
  node(host: Host, script: string, args: readonly string[] = [], opts?: SpawnOptions): LabProcess {
    return this.spawn(host, process.execPath, [script, ...args], opts);
  }

  async linkDown(host: Host): Promise<void> {
    await run('ip', ['-n', host.netns, 'link', 'set', 'eth0', 'down']);
  }

  async linkUp(host: Host): Promise<void> {
    await run('ip', ['-n', host.netns, 'link', 'set', 'eth0', 'up']);
  }

  /** Drops every frame between a and b, both ways (a partition). */
  block(a: Host, b: Host): Promise<void> {
    return this.faults.add(a, b, 100);
  }

  unblock(a: Host, b: Host): Promise<void> {
    return this.faults.remove(a, b);
  }

  /** Drops `percent` % of frames between a and b at random, both ways. */
  loss(a: Host, b: Host, percent: number): Promise<void> {
    return this.faults.add(a, b, percent);
  }

  clearLoss(a: Host, b: Host): Promise<void> {
    return this.faults.remove(a, b);
  }

  /** Removes every process, namespace and link of the lab. Safe to call twice. */
  async destroy(): Promise<void> {
    if (this.destroyed) return;
    this.destroyed = true;
    await Promise.all([...this.processes].map((p) => p.kill9()));
    this.destroySync();
  }

  /** The synchronous part of teardown, also used from exit and signal handlers. */
  destroySync(): void {
    for (const p of this.processes) p.signal('SIGKILL');
    for (const ns of [...this.namespaces].reverse()) deleteNamespaceSync(ns);
    this.namespaces.length = 0;
    releasePrefix(this.prefix);
    liveLabs.delete(this);
  }

  /** @internal used by createLab while building. */
  registerNamespace(ns: string): void {
    this.namespaces.push(ns);
  }

  /** @internal */
  track(p: LabProcess): void {
    this.processes.add(p);
  }
}

let exitHooked = false;
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const lab of [...liveLabs]) lab.destroySync();
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      for (const lab of [...liveLabs]) lab.destroySync();
      process.kill(process.pid, sig);
    });
  }
}

async function addHost(lab: Lab, role: HostRole, index: number): Promise<Host> {
  const short = `${role === 'director' ? 'd' : role === 'client' ? 'c' : 'r'}${index + 1}`;
  const n = hostNumber(role, index);
  const host: Host = {
    name: short,
    role,
    index,
    netns: `${lab.prefix}-${short}`,
    ifname: 'eth0',
    ...hostAddresses(n),
    mac: hostMac(role, index),
    port: `v${short}`,
  };
  await run('ip', ['netns', 'add', host.netns]);
  lab.registerNamespace(host.netns);
  await ipBatch(lab.bridgeNs, [`link add ${host.port} type veth peer name eth0 netns ${host.netns}`]);
  await runIn(host.netns, 'sysctl', [
    '-q',
    '-w',
    'net.ipv6.conf.all.accept_dad=0',
    'net.ipv6.conf.default.accept_dad=0',
    'net.ipv6.conf.eth0.accept_dad=0',
    'net.ipv4.conf.all.rp_filter=0',
    'net.ipv4.conf.eth0.rp_filter=0',
  ]);
  await ipBatch(host.netns, [
    'link set lo up',
    `link set eth0 address ${host.mac}`,
    `addr add ${host.ipv4}/24 dev eth0`,
    `addr add ${host.ipv6}/64 dev eth0 nodad`,
    'link set eth0 up',
  ]);
  await runIn(host.netns, 'ethtool', ['-K', 'eth0', 'tx', 'off']);
  await ipBatch(lab.bridgeNs, [
    `link set ${host.port} master br0`,
    `link set dev ${host.port} xdpdrv obj ${bpfObjectPath('xdp_pass')} sec xdp`,
    `link set ${host.port} up`,
  ]);
  return host;
}

async function makeRealServer(lab: Lab, host: Host): Promise<void> {
  await ipBatch(host.netns, [
    ...lab.vips4.map((v) => `addr add ${v}/32 dev lo`),
    ...lab.vips6.map((v) => `addr add ${v}/128 dev lo nodad`),
  ]);
  // arp_ignore=1: answer ARP only for addresses on the receiving interface (not the VIP on lo);
  // arp_announce=2: never use the VIP as the source of our own ARP requests.
  await runIn(host.netns, 'sysctl', [
    '-q',
    '-w',
    'net.ipv4.conf.all.arp_ignore=1',
    'net.ipv4.conf.eth0.arp_ignore=1',
    'net.ipv4.conf.all.arp_announce=2',
    'net.ipv4.conf.eth0.arp_announce=2',
  ]);
}

export async function startRealServerServices(lab: Lab, host: Host): Promise<LabProcess> {
  const addrs = [host.ipv4, host.ipv6, ...lab.vips4, ...lab.vips6].flatMap((a) => ['--addr', a]);
  const p = lab.node(host, REALSERVER_SCRIPT, ['--name', host.name, ...addrs]);
  await p.waitForLine(/^READY /, 15_000);
  return p;
}

export async function createLab(opts: LabOptions = {}): Promise<Lab> {
  buildBpf({ quiet: true });
  sweepLabs();
  let prefix = newLabPrefix();
  for (let i = 0; i < 5; i++) {
    try {
      claimPrefix(prefix);
      break;
    } catch {
      prefix = newLabPrefix();
    }
  }
  const lab = new Lab(prefix, opts.vips4 ?? [DEFAULT_VIP4], opts.vips6 ?? [DEFAULT_VIP6]);
  liveLabs.add(lab);
  hookExit();
  try {
    await run('ip', ['netns', 'add', lab.bridgeNs]);
    lab.registerNamespace(lab.bridgeNs);
    await runIn(lab.bridgeNs, 'sysctl', [
      '-q',
      '-w',
      'net.ipv6.conf.all.disable_ipv6=1',
      'net.ipv6.conf.default.disable_ipv6=1',
    ]);
    await ipBatch(lab.bridgeNs, [
      'link set lo up',
      'link add br0 type bridge mcast_snooping 0',
      'link set br0 up',
    ]);
    const plan: [HostRole, number, Host[]][] = [
      ['director', opts.directors ?? 2, lab.directors],
      ['client', opts.clients ?? 1, lab.clients],
      ['realserver', opts.realServers ?? 3, lab.realServers],
    ];
    for (const [role, count, list] of plan) {
      const made = await Promise.all(Array.from({ length: count }, (_, i) => addHost(lab, role, i)));
      list.push(...made);
    }
    await Promise.all(lab.realServers.map((h) => makeRealServer(lab, h)));
    if (opts.startServers !== false) {
      await Promise.all(lab.realServers.map((h) => startRealServerServices(lab, h)));
    }
    return lab;
  } catch (e) {
    await lab.destroy();
    throw e;
  }
}

export const labScriptsDir = join(fileURLToPath(new URL('.', import.meta.url)), 'servers');
