/**
 * BPF_PROG_TEST_RUN for the XDP program: a frame in, the verdict, the frame
 * out and the kernel's average ns per run. Used by the fixtures, the
 * differential test and the benchmarks. The program really runs (maps are
 * read and written, events emitted); nothing is sent.
 */
import { DsrError } from '../core/errors.ts';
import {
  allocNative,
  errnoText,
  libbpf,
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

export class TestRunner {
  private readonly progFd: number;
  private readonly input = allocNative(4096);
  private readonly output = allocNative(4096);

  constructor(progFd: number) {
    this.progFd = progFd;
  }

  run(frame: Uint8Array, repeat = 1): TestRunResult {
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
    const opts: Record<string, unknown> = {
      data_in: this.input.ptr,
      data_out: this.output.ptr,
      data_size_in: frame.length,
      data_size_out: this.output.view.length,
      ctx_in: null,
      ctx_out: null,
      ctx_size_in: 0,
      ctx_size_out: 0,
      retval: 0,
      repeat,
      duration: 0,
      flags: 0,
      cpu: 0,
      batch_size: 0,
    };
    const rc = libbpf.testRun(this.progFd, opts);
    if (rc < 0) {
      throw new DsrError('E_BPF_TEST_RUN', `test run failed: ${errnoText(-rc)}`, {
        errno: -rc,
        length: frame.length,
      });
    }
    const action = Number(opts.retval);
    const size = Number(opts.data_size_out);
    return {
      action,
      verdict: XDP_ACTIONS[action] ?? `action${action}`,
      frame: this.output.view.slice(0, size),
      ns: Number(opts.duration),
    };
  }

  close(): void {
    this.input.free();
    this.output.free();
  }
}
