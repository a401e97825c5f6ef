/**
 * A process started inside a lab namespace. `ip netns exec` execs the command
 * in place, so the pid we hold is the command's own and SIGSTOP/SIGCONT/SIGKILL
 * reach it directly.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { DsrError } from '../core/errors.ts';
import { systemTool } from './exec.ts';

export interface SpawnOptions {
  env?: NodeJS.ProcessEnv;
  /** Called with every stdout line. */
  onLine?: (line: string) => void;
  /** Called with every stderr line (default: kept in `stderrTail`). */
  onErrLine?: (line: string) => void;
  /** Keep stdin open for `write` (default: stdin is /dev/null). */
  stdin?: boolean;
}

export class LabProcess {
  readonly pid: number;
  readonly label: string;
  readonly lines: string[] = [];
  readonly stderrTail: string[] = [];
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private exitCode: number | null | undefined;
  private readonly waiters: { re: RegExp; resolve: (l: string) => void }[] = [];

  constructor(netns: string, cmd: string, args: readonly string[], opts: SpawnOptions = {}) {
    this.label = `${netns}: ${cmd} ${args.join(' ')}`;
    this.child = spawn('ip', ['netns', 'exec', netns, cmd.includes('/') ? cmd : systemTool(cmd), ...args], {
      stdio: [opts.stdin ? 'pipe' : 'ignore', 'pipe', 'pipe'],
      env: opts.env ?? process.env,
    });
    if (this.child.pid === undefined) throw new DsrError('E_COMMAND_FAILED', `could not start ${this.label}`);
    this.pid = this.child.pid;
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      if (this.lines.length < 10_000) this.lines.push(line);
      opts.onLine?.(line);
      for (const w of [...this.waiters]) {
        if (w.re.test(line)) {
          this.waiters.splice(this.waiters.indexOf(w), 1);
          w.resolve(line);
        }
      }
    });
    createInterface({ input: this.child.stderr! }).on('line', (line) => {
      this.stderrTail.push(line);
      if (this.stderrTail.length > 50) this.stderrTail.shift();
      opts.onErrLine?.(line);
    });
    this.exited = new Promise((resolve) => {
      this.child.on('exit', (code, signal) => {
        this.exitCode = code ?? (signal ? -1 : null);
        resolve(this.exitCode);
      });
    });
  }

  get running(): boolean {
    return this.exitCode === undefined;
  }

  /** Resolves with the first stdout line matching `re` (already seen lines count). */
  waitForLine(re: RegExp, timeoutMs = 10_000): Promise<string> {
    const seen = this.lines.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(
          new DsrError('E_TIMEOUT', `no line matching ${re} from ${this.label} in ${timeoutMs} ms`, {
            stderr: this.stderrTail.slice(-10),
          }),
        );
      }, timeoutMs);
      this.waiters.push({
        re,
        resolve: (l) => {
          clearTimeout(timer);
          resolve(l);
        },
      });
      void this.exited.then(() => {
        clearTimeout(timer);
        reject(
          new DsrError('E_COMMAND_FAILED', `${this.label} exited (${this.exitCode}) before printing ${re}`, {
            stderr: this.stderrTail.slice(-10),
          }),
        );
      });
    });
  }

  /** Writes one line to the process's stdin (spawned with `stdin: true`). */
  write(line: string): void {
    if (!this.child.stdin) throw new DsrError('E_LAB_STATE', `${this.label} was started without stdin`);
    this.child.stdin.write(`${line}\n`);
  }

  wait(): Promise<number | null> {
    return this.exited;
  }

  signal(sig: NodeJS.Signals): void {
    if (this.running) {
      try {
        process.kill(this.pid, sig);
      } catch {
        // exited between the check and the kill
      }
    }
  }

  pause(): void {
    this.signal('SIGSTOP');
  }

  resume(): void {
    this.signal('SIGCONT');
  }

  kill9(): Promise<number | null> {
    this.signal('SIGKILL');
    return this.exited;
  }

  /** SIGTERM, then SIGKILL after `graceMs`. A stopped process is continued first so it can exit. */
  async stop(graceMs = 3000): Promise<number | null> {
    if (!this.running) return this.exitCode ?? null;
    this.signal('SIGCONT');
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}
