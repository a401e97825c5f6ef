/**
 * Traffic for the sync benchmark, on a thread of its own: a second copy of the forwarder's program
 * over a running dsrd's pinned maps (forwarder/harness.ts), fed frames by BPF_PROG_TEST_RUN. The
 * program really runs: it makes the connection entries and reports them through the daemon's own
 * ring, which the daemon's sync reads. Frames are patched in place (addresses, ports, flags): the
 * program checks no checksum, and the frames go nowhere.
 *
 * Commands (workerData: TrafficData; messages: TrafficCommand) and what it posts back:
 *   tcp: connections from..from+count, each SYN, ACK, FIN, paced to `rate` per second; played by
 *        the kernel a chunk at a time (forwarder/bpf/flow_gen.c tail-calls the program), so the
 *        generator costs little of the CPU the directors share with it here; every
 *        `sampleEvery`th one's SYN time (CLOCK_MONOTONIC ns, as the generator took it) posted
 *   udp: one datagram on each of flows from..from+count
 *   syn: one SYN from each of clients from..from+count to the persistent service (new port each time)
 */
import { execFileSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { isDsrError } from '../../core/errors.ts';
import { parseMac } from '../../core/net/mac.ts';
import { BpfMap } from '../../forwarder/bpf-map.ts';
import { buildFrame, TCP_SYN } from '../../forwarder/frames.ts';
import { createForwarderInstance } from '../../forwarder/harness.ts';
import { libbpf, XDP_TX } from '../../forwarder/libbpf.ts';
import { TestRunner } from '../../forwarder/test-run.ts';
import { productBpfObject } from '../dataplane/bench-bpf.ts';
import { BenchBpfObject, mapUpdate } from '../dataplane/bpf.ts';
import { clientOf } from './flows.ts';

export interface TrafficData {
  /** The active's pins (in the lab's bpffs, under /run). */
  pinDir: string;
  /**
   * A namespace of the lab's where an idle veth may hold the generator in the kernel's XDP
   * dispatcher, so that connections are played in short, smooth chunks; without it, in long ones.
   */
  dispatcherNetns?: string;
  /** The pinned connection tables' size, when not dsrd's default. */
  connEntries?: number;
  directorMac: string;
  vip: string;
  tcpPort: number;
  udpPort: number;
  persistPort: number;
}

export type TrafficCommand =
  | { op: 'tcp'; from: number; count: number; rate: number; sampleEvery: number }
  | { op: 'udp'; from: number; count: number }
  | { op: 'syn'; from: number; count: number; round: number }
  | { op: 'stop' };

export type TrafficReport =
  | { type: 'ready' }
  | { type: 'samples'; samples: [number, string][] }
  /** notForwarded: frames the program did not send on (tcp: chunks whose last frame it did not). */
  | { type: 'done'; op: string; sent: number; seconds: number; notForwarded: number };

const data = workerData as TrafficData;
const fwd = createForwarderInstance({ load: { pinDir: data.pinDir, connEntries: data.connEntries } });
const port = parentPort;

// Offsets in an untagged IPv4 frame without options: source address, source port.
const SRC = 26;
const SPORT = 34;
const frame = (proto: 'tcp' | 'udp', dport: number): Uint8Array =>
  buildFrame({
    srcMac: '02:d5:00:00:ff:01',
    dstMac: data.directorMac,
    src: '198.19.0.1',
    dst: data.vip,
    proto,
    sport: 1024,
    dport,
    ...(proto === 'tcp' ? { tcpFlags: TCP_SYN } : {}),
  });
const tcp = frame('tcp', data.tcpPort);
/** The idle veth that holds the generator in the dispatcher. */
const GEN_LINK = 'dsrgen0';
const gen = new BenchBpfObject(productBpfObject('flow_gen'));
const synTimes = new BpfMap('flow_gen_syn_ns', gen.mapFd('flow_gen_syn_ns'));
mapUpdate(gen.mapFd('flow_gen_target'), new Uint8Array(4), u32(fwd.loaded.progFd));
const genRunner = new TestRunner(gen.progFd('flow_gen'));
const genState = gen.mapFd('flow_gen_state');
const releaseDispatcher = data.dispatcherNetns === undefined ? null : holdInDispatcher(data.dispatcherNetns);
/**
 * Connections per test run of the generator: about CHUNK_MS of the rate, so the traffic is as
 * smooth as the runs are short. A run with repeat > 1 of a program the kernel's XDP dispatcher does
 * not hold spends milliseconds asleep updating it, and then only long chunks keep up with high
 * rates. FLOW_GEN_MAX_CHUNK in flow_gen.c bounds them.
 */
const CHUNK_MS = releaseDispatcher === null ? 40 : 2;
const MAX_CHUNK = 4096;
const udp = frame('udp', data.udpPort);
const persist = frame('tcp', data.persistPort);
let notForwarded = 0;
/** A sleep of under a millisecond on this thread (nothing ever wakes it early). */
const nap = new Int32Array(new SharedArrayBuffer(4));

/**
 * Attaches flow_gen (native mode) to an idle veth in the lab's namespace `netns`: the dispatcher
 * then holds it, and a test run skips the update. Returns how to undo it.
 */
function holdInDispatcher(netns: string): () => void {
  const ip = (...args: string[]) => execFileSync('ip', ['-n', netns, ...args], { stdio: 'pipe' });
  // `ip -n` sees /run (where the lab's bpffs is) but not this process's /sys/fs/bpf.
  const pin = join(data.pinDir, 'flow_gen');
  libbpf.objPin(gen.progFd('flow_gen'), pin);
  try {
    ip('link', 'add', GEN_LINK, 'type', 'veth', 'peer', 'name', `${GEN_LINK}p`);
    ip('link', 'set', GEN_LINK, 'up');
    ip('link', 'set', `${GEN_LINK}p`, 'up');
    ip('link', 'set', 'dev', GEN_LINK, 'xdpdrv', 'pinned', pin);
  } finally {
    rmSync(pin); // the attachment holds the program
  }
  return () => ip('link', 'del', GEN_LINK);
}

function u32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, n, true);
  return b;
}

const EINTR = 4;
const genStateMap = new BpfMap('flow_gen_state', genState);

/**
 * Plays connections base..base+n (SYN, ACK, FIN each) in one test run; false if the last was not
 * sent on. A run with repeat > 1 stops early with EINTR when a signal is pending for this thread
 * (a child of the process exiting, say); the program counts what it played (flow_gen_state.next),
 * so the rest is played by another run from there, nothing twice.
 */
function playConnections(base: number, n: number): boolean {
  const st = new Uint8Array(24); // struct flow_gen_state: next (u64), base (u32), director_mac
  new DataView(st.buffer).setUint32(8, base, true);
  st.set(parseMac(data.directorMac), 12);
  mapUpdate(genState, new Uint8Array(4), st);
  for (;;) {
    const now = genStateMap.lookup(u32(0));
    const played = now === null ? 0 : Number(new DataView(now.buffer, now.byteOffset).getBigUint64(0, true));
    if (played >= 3 * n) return true;
    try {
      return genRunner.runOnly(tcp, 3 * n - played) === XDP_TX;
    } catch (e) {
      if (!(isDsrError(e) && e.context.errno === EINTR)) throw e;
    }
  }
}

function address(f: Uint8Array, i: number, sport: number): void {
  f.set(clientOf(i).addr, SRC);
  f[SPORT] = sport >> 8;
  f[SPORT + 1] = sport & 255;
}

function send(f: Uint8Array): void {
  if (fwd.send(f) !== 3 /* XDP_TX */) notForwarded++;
}

function tcpConnections(c: Extract<TrafficCommand, { op: 'tcp' }>): number {
  const t0 = process.hrtime.bigint();
  const perNs = c.rate / 1e9;
  let samples: [number, string][] = [];
  const chunk = Math.max(1, Math.min(MAX_CHUNK, Math.round((c.rate * CHUNK_MS) / 1000)));
  for (let k = 0; k < c.count; k += chunk) {
    // Paced: never ahead of the rate (a burst would measure the queue, not the rate), and asleep
    // while ahead, so the daemons have the CPU the generator does not need.
    const aheadMs = k / (perNs * 1e6) - Number(process.hrtime.bigint() - t0) / 1e6;
    if (aheadMs > 0.2) Atomics.wait(nap, 0, 0, aheadMs);
    const n = Math.min(chunk, c.count - k);
    if (!playConnections(c.from + k, n)) notForwarded++;
    for (let j = 0; j < n; j++) {
      if ((k + j) % c.sampleEvery !== 0) continue;
      const at = synTimes.lookup(u32(j));
      if (at !== null)
        samples.push([
          c.from + k + j,
          new DataView(at.buffer, at.byteOffset).getBigUint64(0, true).toString(),
        ]);
    }
    if (samples.length > 0) {
      port?.postMessage({ type: 'samples', samples } satisfies TrafficReport);
      samples = [];
    }
  }
  if (samples.length > 0) port?.postMessage({ type: 'samples', samples } satisfies TrafficReport);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

port?.on('message', (c: TrafficCommand) => {
  const t0 = performance.now();
  notForwarded = 0;
  let sent = 0;
  if (c.op === 'stop') {
    releaseDispatcher?.();
    genRunner.close();
    gen.close();
    fwd.close();
    port?.close();
    return;
  }
  if (c.op === 'tcp') {
    const seconds = tcpConnections(c);
    port?.postMessage({
      type: 'done',
      op: c.op,
      sent: c.count,
      seconds,
      notForwarded,
    } satisfies TrafficReport);
    return;
  }
  for (let k = 0; k < c.count; k++) {
    const i = c.from + k;
    if (c.op === 'udp') {
      address(udp, i, clientOf(i).port);
      send(udp);
    } else {
      // A new connection of the same client each round: a persistence hit that extends its entry.
      address(persist, i, 1024 + (c.round % 60000));
      send(persist);
    }
    sent++;
  }
  const seconds = (performance.now() - t0) / 1000;
  port?.postMessage({ type: 'done', op: c.op, sent, seconds, notForwarded } satisfies TrafficReport);
});
port?.postMessage({ type: 'ready' } satisfies TrafficReport);
