/**
 * External command check: healthy when the program exits with the expected code in time.
 *
 * The program runs without a shell from an argv array, so no argument is ever parsed by a shell.
 * It runs in its own process group (detached = setsid), and the whole group is killed with SIGKILL
 * on timeout and again after the program exits, so neither it nor anything it forked outlives the
 * check. The environment is minimal on purpose: the daemon's own environment is not passed on.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { ExecCheckSpec } from '../check-spec.ts';
import { type Checker, type CheckResult, type CheckTarget, excerpt, timedCheck } from '../checker.ts';

const OUTPUT_KEEP = 4096;
/** After SIGKILL, how long we wait for the kernel to report the exit before giving up on it. */
const REAP_GRACE_MS = 1000;

export class ExecChecker implements Checker {
  readonly kind = 'exec';
  readonly timeoutMs: number;
  readonly #spec: ExecCheckSpec;

  constructor(spec: ExecCheckSpec, timeoutMs: number) {
    if (spec.argv.length === 0 || spec.argv[0] === '')
      throw new RangeError('exec check needs a program in argv[0]');
    this.timeoutMs = timeoutMs;
    this.#spec = spec;
  }

  check(target: CheckTarget, signal: AbortSignal): Promise<CheckResult> {
    return timedCheck(signal, this.timeoutMs, (sig) => this.#run(target, sig));
  }

  #argv(target: CheckTarget): string[] {
    return this.#spec.argv.map((a) =>
      a.split('{address}').join(target.address).split('{port}').join(String(target.port)),
    );
  }

  #run(target: CheckTarget, signal: AbortSignal): Promise<{ ok: boolean; detail: string }> {
    const [program, ...args] = this.#argv(target);
    const expectExit = this.#spec.expectExit ?? 0;
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
      LANG: 'C',
      ...this.#spec.env,
      DSR_RS_ADDRESS: target.address,
      DSR_RS_PORT: String(target.port),
    };
    return new Promise((resolve, reject) => {
      const child = spawn(program, args, {
        shell: false,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        env,
      });
      let output = '';
      const keep = (chunk: Buffer): void => {
        if (output.length < OUTPUT_KEEP) output += chunk.toString('utf8');
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      let exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
      let abortReason: Error | null = null;
      let settled = false;
      let grace: NodeJS.Timeout | undefined;
      const settle = (err: Error | null): void => {
        if (settled) return;
        settled = true;
        clearTimeout(grace);
        signal.removeEventListener('abort', onAbort);
        child.stdout?.destroy();
        child.stderr?.destroy();
        if (err || abortReason) {
          reject(err ?? abortReason);
          return;
        }
        const { code, signal: sig } = exit!;
        const how = sig ? `killed by ${sig}` : `exit ${code}`;
        const tail = output ? `: ${excerpt(output, 80)}` : '';
        resolve({ ok: code === expectExit && !sig, detail: `${program} ${how}${tail}` });
      };
      const startGrace = (): void => {
        grace ??= setTimeout(() => settle(null), REAP_GRACE_MS);
      };
      const onAbort = (): void => {
        abortReason = signal.reason instanceof Error ? signal.reason : new Error('aborted');
        killGroup(child);
        startGrace(); // settles on 'close', or after the grace if the kernel is slow to report it
      };
      signal.addEventListener('abort', onAbort, { once: true });
      child.once('error', (err) => {
        // spawn failure (ENOENT, EACCES): there is no process to wait for.
        if (child.pid === undefined) settle(err);
      });
      child.once('exit', (code, sig) => {
        exit = { code, signal: sig };
        killGroup(child); // anything the program left running in its group goes with it
        startGrace();
      });
      child.once('close', () => {
        if (exit || abortReason) settle(null);
      });
    });
  }
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone
  }
}
