/**
 * Receive counter, run inside a real server's namespace:
 *
 *   node lab/dataplane/rxcount-worker.ts [--ifname eth0] [--interval-ms 100] [--max-seconds 120]
 *
 * Attaches lab/dataplane/rxcount_xdp.c to the interface (native XDP), which counts
 * and drops the benchmark's UDP frames addressed to this host's MAC. Prints
 * `READY`, then `COUNT <monotonic ns> <frames>` every interval, and detaches
 * and exits on SIGTERM/SIGINT or after --max-seconds (so a lost parent never
 * leaves it running).
 */
import { readFileSync } from 'node:fs';
import { numberArg, parseBenchArgs } from '../report.ts';
import { benchBpfObject } from './bench-bpf.ts';
import { attachXdp, BenchBpfObject, detachXdp, ifindexOf, mapUpdate, readPerCpuU64 } from './bpf.ts';
import { macBytes } from './frames.ts';

const args = parseBenchArgs(process.argv.slice(2));
const ifname = args.get('ifname') ?? 'eth0';
const intervalMs = numberArg(args, 'interval-ms', 100);
const maxSeconds = numberArg(args, 'max-seconds', 120);

const ifindex = ifindexOf(ifname);
const obj = new BenchBpfObject(benchBpfObject('rxcount_xdp'));
const mac = Buffer.alloc(8);
macBytes(readFileSync(`/sys/class/net/${ifname}/address`, 'utf8').trim()).copy(mac);
mapUpdate(obj.mapFd('rx_mac'), Buffer.alloc(4), mac);
const countFd = obj.mapFd('rx_count');
attachXdp(ifindex, obj.progFd('rxcount'));

let stopped = false;
function stop(code: number): void {
  if (stopped) return;
  stopped = true;
  clearInterval(timer);
  clearTimeout(bound);
  try {
    detachXdp(ifindex);
  } finally {
    obj.close();
    process.exit(code);
  }
}

const report = () => process.stdout.write(`COUNT ${process.hrtime.bigint()} ${readPerCpuU64(countFd)}\n`);
const timer = setInterval(report, intervalMs);
const bound = setTimeout(() => stop(0), maxSeconds * 1000);
process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
process.stdout.write('READY\n');
report();
