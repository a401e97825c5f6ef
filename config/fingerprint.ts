/**
 * Config fingerprint: a SHA-256 over the parts of the config that must agree between directors,
 * carried in election adverts so that peers can report a mismatch (issue 5) and drills can refuse
 * to start (issue 6).
 *
 * The rule for what is in: with identical inputs every director must pick the same real server
 * for a new flow (Maglev), keep the same flows for the same time, and move the same VIPs together.
 * What is out is either node-local by nature or would make two correctly configured directors
 * differ.
 *
 * Order never matters where the config's order has no meaning (VIPs of a group, real servers of
 * a service, groups, services): lists are sorted before hashing. Consequence for the forwarder:
 * the Maglev table must itself be built from a canonical backend order (e.g. sorted by address),
 * or two directors with equal fingerprints could still fill their tables differently.
 */
import { createHash } from 'node:crypto';
import type { Config } from './types.ts';

/** Bumped when the canonical form changes, so old and new builds never compare equal by accident. */
export const FINGERPRINT_VERSION = 'dsr-config-fingerprint/1';

const byString = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** JSON with object keys sorted at every level, so the text depends on content only. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => byString(a, b));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** The shared parts of a config, in canonical order. Exposed for tests and for `dsrctl config` debugging. */
export function fingerprintInput(config: Config): unknown {
  return {
    version: FINGERPRINT_VERSION,
    // IN: group names and ids identify the group in adverts; the VIPs are what moves on failover;
    // the advert interval sets every director's master-down interval (RFC 5798 §6.1), so a
    // mismatch makes one side declare the other dead early.
    // OUT: interface (NIC names differ between machines), priority and preempt/preempt_delay
    // (they must differ for a pair to have a preferred master), garp and track (local reactions).
    vipGroups: config.vipGroups
      .map((g) => ({
        name: g.name,
        id: g.id,
        vips: [...g.vips].sort(byString),
        advertIntervalMs: g.advertIntervalMs,
      }))
      .sort((a, b) => byString(a.name, b.name)),
    // IN: everything that decides where a new flow goes and how long it is remembered: the
    // service key, the Maglev table size, persistence, quorum and sorry server, and each real
    // server with its weight (a weight difference moves flows between directors' tables).
    // Names are in because operators, sync and alerts refer to services by name.
    // OUT: health checks (each director checks for itself and may see a different state for a
    // while; a check parameter difference is not a forwarding difference) and drain.timeout_s
    // (how long an operator's `dsrctl drain --wait` waits is local).
    services: config.services
      .map((s) => ({
        name: s.name,
        vip: s.vip,
        protocol: s.protocol,
        port: s.port,
        scheduler: s.scheduler,
        persistence: s.persistence,
        minHealthy: s.minHealthy,
        sorryServer: s.sorryServer,
        rescheduleOnDown: s.rescheduleOnDown,
        drainKeepsPersistence: s.drain.keepPersistence,
        realServers: s.realServers
          .map((r) => ({ address: r.address, weight: r.weight }))
          .sort((a, b) => byString(a.address, b.address)),
      }))
      .sort((a, b) => byString(a.name, b.name)),
    // IN: synced entries carry remaining lifetime, and a standby must expire them as the active
    // would; the tables must be able to hold what the active syncs.
    timers: config.timers,
    tables: config.tables,
    // OUT entirely: node (id, priority, address), peers (each side lists the other), election
    // transport and ports (a mismatch means no adverts arrive at all, which is reported as a
    // lost peer), interfaces and forwarder paths (local), keys (bytes must never leave memory;
    // a key mismatch already fails authentication), sync tuning, metrics, admin, log, alerts
    // (local operations).
  };
}

/** SHA-256 hex of the canonical shared parts. */
export function configFingerprint(config: Config): string {
  return createHash('sha256')
    .update(canonicalJson(fingerprintInput(config)))
    .digest('hex');
}
