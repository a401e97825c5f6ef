/**
 * BPF_PROG_TEST_RUN for the XDP program: a frame in, the verdict, the frame
 * out and the kernel's average ns per run. Used by the fixtures, the
 * differential test and the benchmarks. The program really runs (maps are
 * read and written, events emitted); nothing is sent.
 */
import { DsrError } from '../core/errors.ts';
import {
  addressOf,
  allocNative,
  errnoText,
  libbpf,
  TEST_RUN_OPTS,
  XDP_ABORTED,
  XDP_DROP,
  XDP_PASS,
  XDP_REDIRECT,
  XDP_TX,
} from './libbpf.ts';

export const XDP_ACTIONS: Record<number, string> = {
  [XDP_ABORTED]: 'aborted',
  [XDP_DROP]: 'drop',
  [XDP_PASS]: 'pass',
  [XDP_TX]: 'tx',
  [XDP_REDIRECT]: 'redirect',
};

export interface TestRunResult {
  /** XDP verdict (XDP_PASS, XDP_TX ...) */
  action: number;
  /** 'pass', 'tx', 'redirect', 'drop', 'aborted' */
  verdict: string;
  /** the frame as the program left it */
  frame: Uint8Array;
  /** kernel-measured average ns per run */
  ns: number;
}

/** Largest frame BPF_PROG_TEST_RUN takes for XDP without fragments (page minus head/tail room). */
export const MAX_TEST_FRAME = 3000;

/**
 * Runs one program on frames. The options struct lives in native memory and is filled in place, so
 * a run costs the syscall and little else (the lab drives hundreds of thousands a second).
 */
export class TestRunner {
  private readonly progFd: number;
  private readonly input = allocNative(4096);
  private readonly output = allocNative(4096);
  private readonly opts = allocNative(TEST_RUN_OPTS.size);
  private readonly o: DataView;

  constructor(progFd: number) {
    this.progFd = progFd;
    this.o = new DataView(this.opts.view.buffer, this.opts.view.byteOffset, TEST_RUN_OPTS.size);
    this.o.setBigUint64(0, BigInt(TEST_RUN_OPTS.size), true); // sz
    this.o.setBigUint64(TEST_RUN_OPTS.dataIn, addressOf(this.input.ptr), true);
    this.o.setBigUint64(TEST_RUN_OPTS.dataOut, addressOf(this.output.ptr), true);
  }

  /** Runs the frame `repeat` times; the verdict, the frame as the program left it, the kernel's ns per run. */
  run(frame: Uint8Array, repeat = 1): TestRunResult {
    const action = this.runOnly(frame, repeat);
    return {
      action,
      verdict: XDP_ACTIONS[action] ?? `action${action}`,
      frame: this.output.view.slice(0, this.o.getUint32(TEST_RUN_OPTS.dataSizeOut, true)),
      ns: this.o.getUint32(TEST_RUN_OPTS.duration, true),
    };
  }

  /** As run(), returning only the verdict: for traffic, where the frame out is not looked at. */
  runOnly(frame: Uint8Array, repeat = 1): number {
    if (frame.length < 14 || frame.length > MAX_TEST_FRAME) {
      throw new DsrError(
        'E_BPF_TEST_RUN',
        `frame of ${frame.length} bytes: test runs take 14..${MAX_TEST_FRAME}`,
        {
          length: frame.length,
        },
      );
    }
    if (!Number.isInteger(repeat) || repeat < 1) {
      throw new DsrError('E_BPF_TEST_RUN', `repeat must be a positive integer, got ${repeat}`, { repeat });
    }
    this.input.view.set(frame);
    this.o.setUint32(TEST_RUN_OPTS.dataSizeIn, frame.length, true);
    this.o.setUint32(TEST_RUN_OPTS.dataSizeOut, this.output.view.length, true);
    this.o.setInt32(TEST_RUN_OPTS.repeat, repeat, true);
    const rc = libbpf.testRunRaw(this.progFd, this.opts.ptr);
    if (rc < 0) {
      throw new DsrError('E_BPF_TEST_RUN', `test run failed: ${errnoText(-rc)}`, {
        errno: -rc,
        length: frame.length,
      });
    }
    return this.o.getUint32(TEST_RUN_OPTS.retval, true);
  }

  close(): void {
    this.input.free();
    this.output.free();
    this.opts.free();
  }
}
