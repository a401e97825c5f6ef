/**
 * Compiles the benchmark's own BPF helpers (lab/dataplane/*_xdp.c: the traffic
 * generator and the receive counter) into build/bpf/, like scripts/build-bpf.ts
 * does for the product's programs, and only when the source is newer.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, renameSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DsrError } from '../../core/errors.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const outDir = join(root, 'build', 'bpf');

function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/** Path of build/bpf/NAME.o, compiled from bench/lib/NAME.c if stale. */
export function benchBpfObject(name: 'trafficgen_xdp' | 'rxcount_xdp'): string {
  const src = join(here, `${name}.c`);
  const out = join(outDir, `${name}.o`);
  if (mtime(out) > mtime(src)) return out;
  mkdirSync(outDir, { recursive: true });
  const args = ['-O2', '-g', '-Wall', '-Werror', '-target', 'bpf', '-mcpu=v3'];
  // Built under a temporary name and renamed, so a worker never opens a half-written object.
  const tmp = `${out}.${process.pid}.tmp`;
  args.push('-I/usr/include/x86_64-linux-gnu', '-I/usr/include/aarch64-linux-gnu', '-c', src, '-o', tmp);
  const r = spawnSync('clang', args, { encoding: 'utf8' });
  if (r.error) throw new DsrError('E_MISSING_TOOL', 'clang is not installed: run scripts/setup', {}, r.error);
  if (r.status !== 0) {
    throw new DsrError('E_COMMAND_FAILED', `clang failed to build ${name}.c:\n${r.stderr}`, { name });
  }
  renameSync(tmp, out);
  return out;
}

/** Path of a product BPF object built by scripts/build-bpf.ts (npm run bench builds them first). */
export const productBpfObject = (name: string): string => join(outDir, `${name}.o`);
