/**
 * Runs dsr-director's XDP program on a lab director, inside its namespace:
 *
 *   node lab/dataplane/forwarder-worker.ts --vip V --port P --real ADDR=MAC [--real ...]
 *        [--proto udp] [--ifname eth0] [--max-seconds 300]
 *
 * Loads the forwarder (no pins: nothing outlives the benchmark), configures one
 * service with the given real servers through the forwarder's reconciler,
 * attaches it natively to the interface and prints `READY <mode>`. Detaches
 * and exits on SIGTERM/SIGINT or after --max-seconds.
 */
import { readFileSync } from 'node:fs';
import { DsrError } from '../../core/errors.ts';
import { createForwarderInstance } from '../../forwarder/harness.ts';
import { numberArg, parseBenchArgs } from '../report.ts';
import { ifindexOf } from './bpf.ts';
import { benchDesired, benchService } from './forwarder-setup.ts';

const argv = process.argv.slice(2);
const args = parseBenchArgs(argv);
const ifname = args.get('ifname') ?? 'eth0';
const vip = args.get('vip');
const proto = args.get('proto') ?? 'udp';
const reals = argv
  .flatMap((a, i) => (a === '--real' ? [argv[i + 1] ?? ''] : []))
  .map((spec) => {
    const eq = spec.indexOf('=');
    return { addr: spec.slice(0, eq), mac: spec.slice(eq + 1) };
  });
if (
  !vip ||
  reals.length === 0 ||
  reals.some((r) => !r.addr || !r.mac) ||
  (proto !== 'udp' && proto !== 'tcp')
) {
  throw new DsrError(
    'E_USAGE',
    'forwarder-worker needs --vip, --port and --real ADDR=MAC (one per real server)',
    {
      argv,
    },
  );
}
const maxSeconds = numberArg(args, 'max-seconds', 300);

const ifindex = ifindexOf(ifname);
const fwd = createForwarderInstance({
  load: { pinDir: null },
  desired: benchDesired(readFileSync(`/sys/class/net/${ifname}/address`, 'utf8').trim(), [
    benchService(vip, proto, numberArg(args, 'port', 9), reals),
  ]),
});
let attached = false;
let stopped = false;
function stop(code: number): void {
  if (stopped) return;
  stopped = true;
  clearTimeout(bound);
  try {
    if (attached) fwd.loaded.detach(ifindex);
  } finally {
    fwd.close();
    process.exit(code);
  }
}
const bound = setTimeout(() => stop(0), maxSeconds * 1000);
process.on('SIGTERM', () => stop(0));
process.on('SIGINT', () => stop(0));
try {
  const mode = fwd.loaded.attach(ifindex, 'native');
  attached = true;
  process.stdout.write(`READY ${mode}\n`);
} catch (e) {
  process.stderr.write(`${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  stop(1);
}
