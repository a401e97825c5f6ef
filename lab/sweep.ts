/**
 * Removes lab namespaces that a crashed or killed run left behind: those whose
 * owner process is gone, and unregistered `dsrl*` namespaces older than ten
 * minutes (made by a test's own small setup that died before its teardown).
 * Live labs of other test workers are never touched.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { isAlive, LAB_PREFIX, ownerOf, prefixOf, releasePrefix } from './registry.ts';

const UNREGISTERED_GRACE_MS = 10 * 60_000;

export function listLabNamespaces(): string[] {
  try {
    return readdirSync('/run/netns').filter((n) => n.startsWith(LAB_PREFIX));
  } catch {
    return [];
  }
}

/** Kills every process inside a namespace, then deletes it. Synchronous so exit handlers can use it. */
export function deleteNamespaceSync(netns: string): void {
  const pids = spawnSync('ip', ['netns', 'pids', netns], { encoding: 'utf8' });
  for (const p of (pids.stdout ?? '').split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(p), 'SIGKILL');
    } catch {
      // already gone
    }
  }
  spawnSync('ip', ['netns', 'del', netns]);
}

/** Lab namespaces that no live process owns: what a finished test run must not leave behind. */
export function unownedLabNamespaces(): string[] {
  return listLabNamespaces().filter((ns) => {
    const prefix = prefixOf(ns);
    const owner = prefix === undefined ? undefined : ownerOf(prefix);
    return owner === undefined || !isAlive(owner);
  });
}

export function sweepLabs(now = Date.now()): string[] {
  const removed: string[] = [];
  const released = new Set<string>();
  for (const ns of listLabNamespaces()) {
    const prefix = prefixOf(ns);
    if (!prefix) continue;
    const owner = ownerOf(prefix);
    let orphan: boolean;
    if (owner !== undefined) orphan = !isAlive(owner);
    else {
      let age = 0;
      try {
        age = now - statSync(`/run/netns/${ns}`).mtimeMs;
      } catch {
        continue;
      }
      orphan = age > UNREGISTERED_GRACE_MS;
    }
    if (!orphan) continue;
    deleteNamespaceSync(ns);
    removed.push(ns);
    if (owner !== undefined) released.add(prefix);
  }
  for (const p of released) releasePrefix(p);
  return removed;
}
