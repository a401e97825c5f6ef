/**
 * Packets per second through the lab: client -> director -> real servers.
 *
 * A live-frames generator (trafficgen-worker.ts) in the client's namespace
 * sends UDP frames to the VIP, addressed to the director's MAC. Whatever runs
 * on the director (our XDP program, the MAC-swap floor, an nftables rule)
 * must hand them to the real servers, where rxcount-worker.ts counts and drops
 * them in XDP. The figure is frames counted at the real servers per second,
 * over a fixed window that starts after a warm-up, so start-up and tail
 * effects stay out of it.
 */
import { fileURLToPath } from 'node:url';
import { DsrError } from '../../core/errors.ts';
import { type Host, type Lab, type LabProcess, runIn } from '../index.ts';
import { sleep } from '../wait.ts';
import { benchBpfObject } from './bench-bpf.ts';

const script = (name: string): string => fileURLToPath(new URL(`./${name}`, import.meta.url));
export const BENCH_UDP_PORT = 9;

interface Sample {
  ns: bigint;
  frames: bigint;
}

/** The counting programs on every real server, and their samples. */
export class RxCounters {
  private readonly samples = new Map<string, Sample[]>();
  private readonly procs: LabProcess[] = [];

  static async start(lab: Lab, hosts: readonly Host[], maxSeconds: number): Promise<RxCounters> {
    benchBpfObject('rxcount_xdp'); // compile once here, not in every worker at the same time
    const c = new RxCounters();
    for (const h of hosts) {
      const list: Sample[] = [];
      c.samples.set(h.name, list);
      const p = lab.node(
        h,
        script('rxcount-worker.ts'),
        ['--interval-ms', '50', '--max-seconds', `${maxSeconds}`],
        {
          onLine: (line) => {
            const m = /^COUNT (\d+) (\d+)$/.exec(line);
            if (!m) return;
            list.push({ ns: BigInt(m[1]), frames: BigInt(m[2]) });
            if (list.length > 4000) list.splice(0, 2000);
          },
        },
      );
      c.procs.push(p);
    }
    await Promise.all(c.procs.map((p) => p.waitForLine(/^READY/, 20_000)));
    return c;
  }

  /**
   * Frames per second per host over [from, to] (monotonic ns, the clock the
   * workers stamp samples with): each host's rate between its first sample at
   * or after `from` and its last at or before `to`.
   */
  rates(from: bigint, to: bigint): Map<string, number> {
    const out = new Map<string, number>();
    for (const [name, list] of this.samples) {
      const inside = list.filter((s) => s.ns >= from && s.ns <= to);
      if (inside.length < 2) {
        throw new DsrError('E_BENCH', `receive counter on ${name} sent too few samples in the window`, {
          name,
          samples: inside.length,
        });
      }
      const a = inside[0];
      const b = inside[inside.length - 1];
      out.set(name, Number(b.frames - a.frames) / (Number(b.ns - a.ns) / 1e9));
    }
    return out;
  }

  async stop(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.stop()));
  }
}

export interface PpsRun {
  /** Frames per second received by all real servers together, in the window. */
  pps: number;
  /** Frames per second the generator offered over its whole run. */
  offeredPps: number;
  perHost: Map<string, number>;
}

/** Runs the generator for warm-up + window + tail and measures the window. */
export async function measurePps(
  lab: Lab,
  counters: RxCounters,
  opts: { client: Host; director: Host; vip: string; seconds: number; warmupSeconds: number; flows: number },
): Promise<PpsRun> {
  benchBpfObject('trafficgen_xdp');
  const total = opts.warmupSeconds + opts.seconds + 0.3;
  const gen = lab.node(opts.client, script('trafficgen-worker.ts'), [
    '--dst-mac',
    opts.director.mac,
    '--src-ip',
    opts.client.ipv4,
    '--dst-ip',
    opts.vip,
    '--dport',
    String(BENCH_UDP_PORT),
    '--flows',
    String(opts.flows),
    '--seconds',
    String(total),
    '--chunk',
    String(1 << 16),
  ]);
  try {
    // The generator needs a moment to start Node and load its program: wait for frames to flow.
    await waitForFrames(counters, 15_000, gen);
    await sleep(opts.warmupSeconds * 1000);
    const from = process.hrtime.bigint();
    await sleep(opts.seconds * 1000);
    const to = process.hrtime.bigint();
    const done = await gen.waitForLine(/^DONE /, (total + 15) * 1000);
    const offered = JSON.parse(done.slice(5)) as { pps: number };
    await sleep(120); // let the counters report past `to`
    const perHost = counters.rates(from, to);
    const pps = [...perHost.values()].reduce((a, b) => a + b, 0);
    await assertThroughDirector(lab, opts.director);
    return { pps, offeredPps: offered.pps, perHost };
  } finally {
    await gen.stop();
  }
}

/**
 * Guards the figure against frames that reached a real server without passing
 * the director: the bridge learns a MAC on the port frames carrying it as
 * source come in by, and only the director sends with the director's MAC.
 */
async function assertThroughDirector(lab: Lab, director: Host): Promise<void> {
  const { stdout } = await runIn(lab.bridgeNs, 'bridge', ['fdb', 'show', 'br', 'br0']);
  const wrong = stdout
    .split('\n')
    .filter((l) => l.startsWith(`${director.mac} `) && !l.includes(` dev ${director.port} `));
  if (wrong.length > 0) {
    throw new DsrError(
      'E_BENCH',
      `frames with the director's MAC entered the bridge elsewhere: ${wrong[0]}`,
      {
        fdb: wrong,
      },
    );
  }
}

async function waitForFrames(counters: RxCounters, timeoutMs: number, gen: LabProcess): Promise<void> {
  const start = process.hrtime.bigint();
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!gen.running)
      throw new DsrError('E_BENCH', 'the traffic generator ended before any frame was counted', {
        stderr: gen.stderrTail.join('\n'),
      });
    await sleep(50);
    const now = process.hrtime.bigint();
    try {
      const rates = counters.rates(start, now);
      if ([...rates.values()].some((r) => r > 0)) return;
    } catch {
      // not enough samples yet
    }
  }
  throw new DsrError('E_BENCH', 'no benchmark frame reached any real server: is the director forwarding?', {
    timeoutMs,
    generator: gen.lines.slice(-5),
    stderr: gen.stderrTail.join('\n'),
  });
}
