/**
 * Running commands for the lab: in the root namespace or inside a lab
 * namespace (`ip netns exec`). Every failure becomes a DsrError that names the
 * command and carries its stderr, so a broken lab says what broke.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { DsrError } from '../core/errors.ts';

export interface ExecResult {
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  timeoutMs?: number;
  input?: string;
  /** Resolve instead of throwing when the command exits non-zero. */
  allowFailure?: boolean;
}

export function run(
  cmd: string,
  args: readonly string[],
  opts: ExecOptions = {},
): Promise<ExecResult & { code: number }> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args,
      { timeout: opts.timeoutMs ?? 20_000, maxBuffer: 16 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        if (err && !opts.allowFailure) {
          const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
          reject(
            new DsrError(
              missing ? 'E_MISSING_TOOL' : 'E_COMMAND_FAILED',
              missing
                ? `${cmd} is not installed; run scripts/setup`
                : `${cmd} ${args.join(' ')} failed: ${stderr.trim() || err.message}`,
              { cmd, args, code, stderr: stderr.trim() },
            ),
          );
          return;
        }
        resolve({ stdout, stderr, code });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs a command inside network namespace `netns`. */
export function runIn(netns: string, cmd: string, args: readonly string[], opts: ExecOptions = {}) {
  return run('ip', ['netns', 'exec', netns, cmd.includes('/') ? cmd : systemTool(cmd), ...args], opts);
}

/** Feeds `ip -batch` so a host's many link/addr commands cost one process. */
export function ipBatch(netns: string | null, lines: readonly string[]): Promise<ExecResult> {
  const args = netns ? ['-n', netns, '-batch', '-'] : ['-batch', '-'];
  return run('ip', args, { input: `${lines.join('\n')}\n` });
}

const SYSTEM_DIRS = ['/usr/sbin', '/usr/bin', '/sbin', '/bin'];
const resolved = new Map<string, string>();

/**
 * The system binary of a tool, never an npm shim: npm scripts put
 * node_modules/.bin first on PATH, and it holds an unrelated `nft`.
 */
export function systemTool(name: string): string {
  let path = resolved.get(name);
  if (path === undefined) {
    path = SYSTEM_DIRS.map((d) => `${d}/${name}`).find((p) => existsSync(p)) ?? name;
    resolved.set(name, path);
  }
  return path;
}
