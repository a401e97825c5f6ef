/** Human summary of a ConfigDiff, in the file's snake_case names, one line per changed part. */
import type { ConfigDiff, ItemChange, ItemChanges, KeyRingChange, ServiceChange } from './diff.ts';

/** `advertIntervalMs` → `advert_interval_ms`: operators read the names they wrote. */
export function snakeName(field: string): string {
  return field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

const fieldList = (fields: readonly string[]): string => fields.map(snakeName).join(', ');

function itemLines(label: string, c: ItemChanges<ItemChange>): string[] {
  const lines: string[] = [];
  for (const name of c.added) lines.push(`${label} ${name}: added`);
  for (const name of c.removed) lines.push(`${label} ${name}: removed`);
  for (const x of c.changed) lines.push(`${label} ${x.name}: changed (${fieldList(x.fields)})`);
  return lines;
}

function serviceLine(s: ServiceChange): string {
  const parts: string[] = [];
  if (s.fields.length > 0) parts.push(fieldList(s.fields));
  const rs = s.realServers;
  if (rs.added.length) parts.push(`real servers added: ${rs.added.join(', ')}`);
  if (rs.removed.length) parts.push(`real servers removed: ${rs.removed.join(', ')}`);
  for (const w of rs.weight) parts.push(`weight of ${w.address} ${w.from} -> ${w.to}`);
  if (rs.healthCheck.length) parts.push(`health check of ${rs.healthCheck.join(', ')}`);
  return `service ${s.name}: changed (${parts.join('; ')})`;
}

function ringLine(label: string, r: KeyRingChange): string {
  const parts: string[] = [];
  if (r.added.length) parts.push(`key ids added: ${r.added.join(', ')}`);
  if (r.removed.length) parts.push(`key ids removed: ${r.removed.join(', ')}`);
  if (r.replaced.length) parts.push(`keys replaced: ${r.replaced.join(', ')}`);
  if (r.sendId) parts.push(`send_id ${r.sendId.from} -> ${r.sendId.to}`);
  // Key bytes are never shown, only which ids changed.
  return `keys.${label}: changed (${parts.join('; ') || 'ring added or removed'})`;
}

export function formatConfigDiff(d: ConfigDiff): string[] {
  if (d.empty) return ['no changes'];
  const lines: string[] = [];
  const section = (name: string, fields: readonly string[]): void => {
    if (fields.length > 0) lines.push(`${name}: changed (${fieldList(fields)})`);
  };
  section('node', d.node);
  section('election', d.election);
  lines.push(...itemLines('peer', d.peers));
  lines.push(...itemLines('interface', d.interfaces));
  section('forwarder', d.forwarder);
  lines.push(...itemLines('vip group', d.vipGroups));
  lines.push(...itemLines('health check', d.healthChecks));
  for (const name of d.services.added) lines.push(`service ${name}: added`);
  for (const name of d.services.removed) lines.push(`service ${name}: removed`);
  for (const s of d.services.changed) lines.push(serviceLine(s));
  section('timers', d.timers);
  section('tables', d.tables);
  if (d.keys.election) lines.push(ringLine('election', d.keys.election));
  if (d.keys.sync) lines.push(ringLine('sync', d.keys.sync));
  section('sync', d.sync);
  section('metrics', d.metrics);
  section('admin', d.admin);
  section('log', d.log);
  section('alerts', d.alerts.fields);
  lines.push(...itemLines('alert target', d.alerts.targets));
  if (d.fingerprint) {
    lines.push(
      `fingerprint: ${d.fingerprint.from.slice(0, 12)} -> ${d.fingerprint.to.slice(0, 12)} (the peers need the same change)`,
    );
  }
  for (const r of d.restartRequired) lines.push(`restart required: ${r}`);
  return lines;
}
