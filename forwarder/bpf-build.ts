/**
 * Builds every BPF program in forwarder/bpf/*.c into build/bpf/<name>.o (scripts/build-bpf.ts is
 * the command). The loader finds its object there (bpfObjectPath).
 *
 * Rebuilds only when a source or any header in forwarder/bpf is newer than the
 * object, so `npm test` and the lab can call it every time for free.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DsrError } from '../core/errors.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const srcDir = join(root, 'forwarder', 'bpf');
const outDir = join(root, 'build', 'bpf');

export const bpfObjectPath = (name: string): string => join(outDir, `${name}.o`);

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

export function buildBpf(opts: { force?: boolean; quiet?: boolean } = {}): string[] {
  mkdirSync(outDir, { recursive: true });
  const files = readdirSync(srcDir);
  const newestHeader = Math.max(
    0,
    ...files.filter((f) => f.endsWith('.h')).map((f) => mtime(join(srcDir, f))),
  );
  const built: string[] = [];
  for (const file of files.filter((f) => f.endsWith('.c')).sort()) {
    const src = join(srcDir, file);
    const out = bpfObjectPath(file.slice(0, -2));
    if (!opts.force && mtime(out) > Math.max(mtime(src), newestHeader)) continue;
    // Build to a private name, then rename: a process loading the object meanwhile never sees half a file.
    const tmp = `${out}.${process.pid}.tmp`;
    const args = [
      '-O2',
      '-g',
      '-Wall',
      '-Werror',
      '-target',
      'bpf',
      '-mcpu=v3',
      '-I/usr/include/x86_64-linux-gnu',
      '-I/usr/include/aarch64-linux-gnu',
      `-I${srcDir}`,
      '-c',
      src,
      '-o',
      tmp,
    ];
    const r = spawnSync('clang', args, { stdio: opts.quiet ? 'pipe' : 'inherit' });
    if (r.error) {
      throw new DsrError('E_MISSING_TOOL', 'clang is not installed: run scripts/setup', { file }, r.error);
    }
    if (r.status !== 0) {
      rmSync(tmp, { force: true });
      const detail = opts.quiet ? `\n${r.stderr?.toString() ?? ''}` : '';
      throw new DsrError('E_COMMAND_FAILED', `clang failed to build ${file} (exit ${r.status})${detail}`, {
        file,
      });
    }
    renameSync(tmp, out);
    built.push(out);
  }
  return built;
}
