/**
 * Small self-contained namespace setups for the kernel-effect tests: two (or three) `dsrl`
 * namespaces joined by veth pairs, addresses only from 198.18.0.0/15 and 2001:2::/48, removed in
 * teardown even when the test fails. `inNamespace` runs synchronous code (opening sockets) with the
 * calling thread inside a namespace; the sockets stay there after the thread switches back.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { CLONE_NEWNET, enterNamespace } from '../../core/kernel/libc.ts';

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export function inNamespace<T>(ns: string, fn: () => T): T {
  const home = openSync('/proc/thread-self/ns/net', 'r');
  const target = openSync(`/run/netns/${ns}`, 'r');
  try {
    enterNamespace(target, CLONE_NEWNET);
    try {
      return fn();
    } finally {
      enterNamespace(home, CLONE_NEWNET);
    }
  } finally {
    closeSync(target);
    closeSync(home);
  }
}

export interface Peer {
  ns: string;
  ifname: string;
  ipv4: string;
  ipv6: string;
  mac: string;
}

export interface Pair {
  a: Peer;
  b: Peer;
  destroy(): void;
}

/** A unique, short `dsrl` namespace name (the sweeper removes leftovers by that prefix). */
export function nsName(tag: string): string {
  return `dsrl-${tag}-${randomBytes(3).toString('hex')}`;
}

/**
 * Two namespaces joined by one veth pair, both ends up, with 198.18.<net>.1/.2 /24 and
 * 2001:2:0:<net>::1/::2 /64 (DAD off so the addresses are usable at once) and fixed MACs.
 */
export function makePair(tag: string, net: number): Pair {
  const a = nsName(`${tag}a`);
  const b = nsName(`${tag}b`);
  const made: string[] = [];
  const destroy = (): void => {
    for (const ns of made) {
      try {
        ip('netns', 'del', ns);
      } catch {}
    }
  };
  const hex = net.toString(16).padStart(2, '0');
  const pa: Peer = {
    ns: a,
    ifname: 'veth0',
    ipv4: `198.18.${net}.1`,
    ipv6: `2001:2:0:${net}::1`,
    mac: `02:d5:${hex}:00:00:01`,
  };
  const pb: Peer = {
    ns: b,
    ifname: 'veth0',
    ipv4: `198.18.${net}.2`,
    ipv6: `2001:2:0:${net}::2`,
    mac: `02:d5:${hex}:00:00:02`,
  };
  try {
    for (const ns of [a, b]) {
      ip('netns', 'add', ns);
      made.push(ns);
      // Before the veth exists, so its link-local address is usable at once: the kernel solicits
      // neighbours from the link-local address and sends nothing while that is still tentative.
      ip(
        'netns',
        'exec',
        ns,
        'sysctl',
        '-qw',
        'net.ipv6.conf.all.accept_dad=0',
        'net.ipv6.conf.default.accept_dad=0',
      );
    }
    ip('-n', a, 'link', 'add', 'veth0', 'type', 'veth', 'peer', 'name', 'veth0', 'netns', b);
    for (const p of [pa, pb]) {
      ip('-n', p.ns, 'link', 'set', 'veth0', 'address', p.mac);
      ip('-n', p.ns, 'link', 'set', 'lo', 'up');
      ip('-n', p.ns, 'link', 'set', 'veth0', 'up');
      ip('-n', p.ns, 'addr', 'add', `${p.ipv4}/24`, 'dev', 'veth0');
      ip('-n', p.ns, 'addr', 'add', `${p.ipv6}/64`, 'dev', 'veth0', 'nodad');
    }
  } catch (err) {
    destroy();
    throw err;
  }
  return { a: pa, b: pb, destroy };
}
