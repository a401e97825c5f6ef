/** Files only root may read (keys, bundles that hold them), whatever the umask. */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** Writes `path` with mode 0600 (its directory made 0700 if missing). */
export function writePrivateFile(path: string, bytes: Buffer | string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(path, bytes, { mode: 0o600 });
  // An existing file keeps its mode through writeFileSync: set it.
  chmodSync(path, 0o600);
}
