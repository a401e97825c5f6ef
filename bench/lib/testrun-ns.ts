/**
 * ns per packet of an XDP program under BPF_PROG_TEST_RUN: the kernel runs the
 * program `repeat` times on one frame and reports the mean time per run. The
 * median of a few trials is reported, so one trial disturbed by another
 * process on these shared cores does not decide the figure.
 */
import { DsrError } from '../../core/errors.ts';
import { productBpfObject } from './bench-bpf.ts';
import { BenchBpfObject, mapUpdate, testRun, XDP_TX } from './bpf.ts';
import { macBytes } from './frames.ts';
import { summarize } from './report.ts';

export interface NsFigure {
  ns: number;
  trials: number[];
}

export function nsPerPacket(
  progFd: number,
  frame: Buffer,
  opts: { repeat: number; trials: number; expect: number; label: string },
): NsFigure {
  const trials: number[] = [];
  const out = Buffer.alloc(frame.length + 256);
  for (let i = 0; i < opts.trials; i++) {
    const r = testRun(progFd, { data: Buffer.from(frame), repeat: opts.repeat, dataOut: out });
    if (r.retval !== opts.expect) {
      throw new DsrError('E_BENCH', `${opts.label}: program returned ${r.retval}, expected ${opts.expect}`, {
        label: opts.label,
        retval: r.retval,
      });
    }
    trials.push(r.durationNs);
  }
  return { ns: summarize(trials).median, trials };
}

/** The MAC-swap floor (forwarder/bpf/floor_macswap.c), loaded for test runs only. */
export function floorNs(frame: Buffer, rsMac: string, opts: { repeat: number; trials: number }): NsFigure {
  const obj = new BenchBpfObject(productBpfObject('floor_macswap'));
  try {
    const value = Buffer.alloc(8);
    macBytes(rsMac).copy(value);
    mapUpdate(obj.mapFd('floor_rs_mac'), Buffer.alloc(4), value);
    return nsPerPacket(obj.progFd('floor_macswap'), frame, { ...opts, expect: XDP_TX, label: 'floor' });
  } finally {
    obj.close();
  }
}
