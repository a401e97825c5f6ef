/**
 * Ownership of lab namespaces. Every lab gets a unique prefix `dsrl<id>` and
 * writes `<prefix>.pid` under /run/dsr-lab before it creates anything, so a
 * sweeper can tell a live lab from one a crashed run left behind.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const LAB_PREFIX = 'dsrl';
export const REGISTRY_DIR = '/run/dsr-lab';

/** A fresh prefix: `dsrl` + 4 base-36 characters (short: netns names show up in `ip` output). */
export function newLabPrefix(): string {
  const n = randomBytes(4).readUInt32BE(0) % 36 ** 4;
  return `${LAB_PREFIX}${n.toString(36).padStart(4, '0')}`;
}

export function claimPrefix(prefix: string): void {
  mkdirSync(REGISTRY_DIR, { recursive: true });
  writeFileSync(join(REGISTRY_DIR, `${prefix}.pid`), `${process.pid}\n`, { flag: 'wx' });
}

export function releasePrefix(prefix: string): void {
  rmSync(join(REGISTRY_DIR, `${prefix}.pid`), { force: true });
}

/** The pid that owns a lab prefix, or undefined when no live marker exists. */
export function ownerOf(prefix: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(join(REGISTRY_DIR, `${prefix}.pid`), 'utf8'), 10);
    return Number.isFinite(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** `dsrlab12-d1` → `dsrlab12`; undefined for names that are not ours. */
export function prefixOf(netns: string): string | undefined {
  if (!netns.startsWith(LAB_PREFIX)) return undefined;
  const dash = netns.indexOf('-');
  return dash > 0 ? netns.slice(0, dash) : netns;
}
