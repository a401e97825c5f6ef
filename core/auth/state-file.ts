/**
 * Small files in the director's state directory (node.state_dir) that must survive a restart and
 * a crash: replaced atomically (a temporary file, fsync, rename over the old one, fsync of the
 * directory), so a crash leaves the old content or the new, never a torn file. Private (0600).
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { DsrError } from '../errors.ts';

/** The file's text, or null when it does not exist. */
export function readStateFile(dir: string, name: string): string | null {
  const path = join(dir, name);
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new DsrError('E_STATE_FILE', `cannot read ${path}: ${(e as Error).message}`, { path });
  }
}

export function writeStateFile(dir: string, name: string, text: string): void {
  const path = join(dir, name);
  try {
    mkdirSync(dir, { recursive: true, mode: 0o750 });
    const tmp = join(dir, `.${name}.tmp`);
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    const dfd = openSync(dir, 'r');
    try {
      fsyncSync(dfd);
    } finally {
      closeSync(dfd);
    }
  } catch (e) {
    throw new DsrError('E_STATE_FILE', `cannot write ${path}: ${(e as Error).message}`, { path });
  }
}
