/**
 * Live-frames traffic generator, run inside the client's namespace:
 *
 *   node lab/dataplane/trafficgen-worker.ts --ifname eth0 --dst-mac M --src-ip A --dst-ip B
 *        [--dport 9] [--flows 64] [--seconds 3] [--size 64] [--chunk 262144]
 *
 * It runs lab/dataplane/trafficgen_xdp.c with BPF_PROG_TEST_RUN and
 * BPF_F_TEST_XDP_LIVE_FRAMES on the interface: every repetition is a real
 * frame sent by XDP_TX (so the peer veth end needs an XDP program; the lab
 * puts a pass program there). It sends in chunks of `--chunk` frames until
 * `--seconds` have passed, then prints one line `DONE {"frames":..,"seconds":..}`.
 * Frames are UDP from A to B:dport with `--flows` consecutive source ports
 * from 10000, addressed to the director's MAC; the program rewrites their
 * headers on every run (recycled pages come back modified by the director).
 */
import { readFileSync } from 'node:fs';
import { DsrError } from '../../core/errors.ts';
import { numberArg, parseBenchArgs } from '../report.ts';
import { benchBpfObject } from './bench-bpf.ts';
import {
  BenchBpfObject,
  BPF_F_TEST_XDP_LIVE_FRAMES,
  ifindexOf,
  mapUpdate,
  readPerCpuU64,
  testRun,
  xdpMdCtx,
} from './bpf.ts';
import { buildFrame4 } from './frames.ts';

const BASE_PORT = 10000;

const args = parseBenchArgs(process.argv.slice(2));
const need = (name: string): string => {
  const v = args.get(name);
  if (!v) throw new DsrError('E_USAGE', `trafficgen-worker needs --${name}`, { name });
  return v;
};
const ifname = args.get('ifname') ?? 'eth0';
const flows = numberArg(args, 'flows', 64);
const seconds = numberArg(args, 'seconds', 3);
const chunk = numberArg(args, 'chunk', 1 << 18);
if (flows > 65535 - BASE_PORT)
  throw new DsrError('E_USAGE', `--flows must be <= ${65535 - BASE_PORT}`, { flows });

const ifindex = ifindexOf(ifname);
const srcMac = readFileSync(`/sys/class/net/${ifname}/address`, 'utf8').trim();
const frame = buildFrame4({
  srcMac,
  dstMac: need('dst-mac'),
  srcIp: need('src-ip'),
  dstIp: need('dst-ip'),
  proto: 'udp',
  sport: BASE_PORT,
  dport: numberArg(args, 'dport', 9),
  size: numberArg(args, 'size', 64),
  noUdpChecksum: true,
});

const obj = new BenchBpfObject(benchBpfObject('trafficgen_xdp'));
try {
  // struct gen_cfg: the headers to write into every frame (see trafficgen_xdp.c for why), ports.
  const cfg = Buffer.alloc(56);
  frame.copy(cfg, 0, 0, 42);
  cfg.writeUInt16LE(BASE_PORT, 48);
  cfg.writeUInt16LE(flows, 50);
  mapUpdate(obj.mapFd('gen_cfg'), Buffer.alloc(4), cfg);
  const prog = obj.progFd('trafficgen_tx');
  const ctx = xdpMdCtx(frame.length, ifindex);
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  let frames = 0;
  const sentFd = obj.mapFd('gen_sent');
  while (now < deadline) {
    testRun(prog, { data: frame, ctx, repeat: chunk, flags: BPF_F_TEST_XDP_LIVE_FRAMES, batchSize: 64 });
    // Live runs report no retval: the program counts the frames it returned XDP_TX for.
    const sent = Number(readPerCpuU64(sentFd));
    if (sent - frames !== chunk) {
      throw new DsrError(
        'E_BPF_TEST_RUN',
        `generator sent ${sent - frames} of ${chunk} frames (bad template?)`,
        {
          sent: sent - frames,
          chunk,
        },
      );
    }
    frames = sent;
    now = process.hrtime.bigint();
  }
  const elapsed = Number(now - start) / 1e9;
  process.stdout.write(`DONE ${JSON.stringify({ frames, seconds: elapsed, pps: frames / elapsed })}\n`);
} finally {
  obj.close();
}
