/**
 * Attaches the MAC-swap floor (forwarder/bpf/floor_macswap.c) to a director's
 * interface, run inside the director's namespace:
 *
 *   node lab/dataplane/floor-worker.ts --rs-mac M [--ifname eth0] [--max-seconds 120]
 *
 * Prints `READY` once attached; detaches and exits on SIGTERM/SIGINT or after
 * --max-seconds.
 */
import { DsrError } from '../../core/errors.ts';
import { numberArg, parseBenchArgs } from '../report.ts';
import { productBpfObject } from './bench-bpf.ts';
import { attachXdp, BenchBpfObject, detachXdp, ifindexOf, mapUpdate } from './bpf.ts';
import { macBytes } from './frames.ts';

const args = parseBenchArgs(process.argv.slice(2));
const ifname = args.get('ifname') ?? 'eth0';
const rsMac = args.get('rs-mac');
if (!rsMac) throw new DsrError('E_USAGE', 'floor-worker needs --rs-mac', {});
const maxSeconds = numberArg(args, 'max-seconds', 120);

const ifindex = ifindexOf(ifname);
const obj = new BenchBpfObject(productBpfObject('floor_macswap'));
const value = Buffer.alloc(8);
macBytes(rsMac).copy(value);
mapUpdate(obj.mapFd('floor_rs_mac'), Buffer.alloc(4), value);
attachXdp(ifindex, obj.progFd('floor_macswap'));

let stopped = false;
function stop(): void {
  if (stopped) return;
  stopped = true;
  clearTimeout(bound);
  try {
    detachXdp(ifindex);
  } finally {
    obj.close();
    process.exit(0);
  }
}
const bound = setTimeout(stop, maxSeconds * 1000);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.stdout.write('READY\n');
