/** Spawning the real dsrd / dsrctl (through their bin shims) with the Node 24 of node_modules. */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../', import.meta.url));
export const NODE = `${ROOT}node_modules/.bin/node`;
export const DSRD = `${ROOT}bin/dsrd.js`;
export const DSRCTL = `${ROOT}bin/dsrctl.js`;

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (bounded by timeoutMs) and collects its output. */
export function run(
  cmd: string,
  args: readonly string[],
  opts: { env?: Record<string, string | undefined>; timeoutMs?: number } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: opts.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} did not finish in ${opts.timeoutMs ?? 20_000} ms`));
    }, opts.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export function dsrctl(
  args: readonly string[],
  env?: Record<string, string | undefined>,
): Promise<RunResult> {
  return run(NODE, [DSRCTL, ...args], { env });
}

export function dsrd(args: readonly string[]): Promise<RunResult> {
  return run(NODE, [DSRD, ...args]);
}
