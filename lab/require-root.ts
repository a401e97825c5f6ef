/**
 * Integration tests that need root (network namespaces, XDP, bpffs) call this
 * and skip with the returned reason when it is not null. CI runs as root, so
 * they run there.
 */

import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

let cached: string | null | undefined;

export function requireRoot(): string | null {
  if (cached !== undefined) return cached;
  cached = probe();
  return cached;
}

function probe(): string | null {
  if (process.platform !== 'linux') return `needs Linux network namespaces (this is ${process.platform})`;
  if (process.getuid?.() !== 0)
    return 'needs root (network namespaces, XDP and bpffs); run as root, as CI does';
  try {
    accessSync('/sys/fs/bpf', constants.W_OK);
  } catch {
    return 'needs a writable bpffs at /sys/fs/bpf';
  }
  const ip = spawnSync('ip', ['-V']);
  if (ip.error) return 'needs iproute2 (`ip`); run scripts/setup';
  return null;
}
