/**
 * ns per packet of an XDP program under BPF_PROG_TEST_RUN: the kernel runs the
 * program `repeat` times on one frame and reports the mean time per run.
 * Callers interleave trials of the programs they compare and take medians,
 * so drift on these shared cores hits every program alike.
 */
import { DsrError } from '../../core/errors.ts';
import { productBpfObject } from './bench-bpf.ts';
import { BenchBpfObject, mapUpdate, testRun } from './bpf.ts';
import { macBytes } from './frames.ts';

/** One trial: `repeat` runs of `frame`; throws unless the program returned `expect`. */
export function trialNs(
  progFd: number,
  frame: Buffer,
  repeat: number,
  expect: number,
  label: string,
): number {
  const r = testRun(progFd, { data: Buffer.from(frame), repeat, dataOut: Buffer.alloc(frame.length + 256) });
  if (r.retval !== expect) {
    throw new DsrError('E_BENCH', `${label}: program returned ${r.retval}, expected ${expect}`, {
      label,
      retval: r.retval,
    });
  }
  return r.durationNs;
}

/** The MAC-swap floor (forwarder/bpf/floor_macswap.c), loaded for test runs only. */
export function loadFloor(rsMac: string): { progFd: number; close(): void } {
  const obj = new BenchBpfObject(productBpfObject('floor_macswap'));
  try {
    const value = Buffer.alloc(8);
    macBytes(rsMac).copy(value);
    mapUpdate(obj.mapFd('floor_rs_mac'), Buffer.alloc(4), value);
    return { progFd: obj.progFd('floor_macswap'), close: () => obj.close() };
  } catch (e) {
    obj.close();
    throw e;
  }
}
