/**
 * A config change as the parts see it on reload: both configs and the diff between them
 * (config/diff.ts), plus helpers for a part to say which sections concern it.
 */
import type { Config, ConfigDiff } from '../config/index.ts';

export interface ConfigChange {
  previous: Config;
  next: Config;
  diff: ConfigDiff;
}

/** Top-level sections of the config, in the Config object's camelCase names. */
export type Section =
  | 'node'
  | 'election'
  | 'peers'
  | 'interfaces'
  | 'forwarder'
  | 'vipGroups'
  | 'healthChecks'
  | 'services'
  | 'timers'
  | 'tables'
  | 'keys'
  | 'sync'
  | 'metrics'
  | 'admin'
  | 'log'
  | 'alerts';

function items(c: { added: unknown[]; removed: unknown[]; changed: unknown[] }): boolean {
  return c.added.length + c.removed.length + c.changed.length > 0;
}

/** The sections that differ, in config order. */
export function changedSections(d: ConfigDiff): Section[] {
  const changed: Record<Section, boolean> = {
    node: d.node.length > 0,
    election: d.election.length > 0,
    peers: items(d.peers),
    interfaces: items(d.interfaces),
    forwarder: d.forwarder.length > 0,
    vipGroups: items(d.vipGroups),
    healthChecks: items(d.healthChecks),
    services: items(d.services),
    timers: d.timers.length > 0,
    tables: d.tables.length > 0,
    keys: d.keys.election !== null || d.keys.sync !== null,
    sync: d.sync.length > 0,
    metrics: d.metrics.length > 0,
    admin: d.admin.length > 0,
    log: d.log.length > 0,
    alerts: d.alerts.fields.length > 0 || items(d.alerts.targets),
  };
  return (Object.keys(changed) as Section[]).filter((s) => changed[s]);
}

/** True when the change touches any of `sections`: the usual body of a part's affectedBy(). */
export function touches(change: ConfigChange, ...sections: Section[]): boolean {
  const changed = changedSections(change.diff);
  return sections.some((s) => changed.includes(s));
}
