/**
 * What changes between two configs, part by part, so that a reload applies only those parts:
 * a real server added to one service does not touch the election or the other services (issue 4).
 * Field names are the camelCase names of the Config object; diff-format.ts words them for people.
 */
import { configFingerprint } from './fingerprint.ts';
import { Secret } from './secret.ts';
import type {
  AlertTargetConfig,
  Config,
  KeyRing,
  RealServerConfig,
  ServiceConfig,
  VipGroupConfig,
} from './types.ts';

/** Items of a keyed list (by name, id or address). */
export interface ItemChanges<C> {
  added: string[];
  removed: string[];
  changed: C[];
}

export interface ItemChange {
  /** The item's key (name, id). */
  name: string;
  /** Its fields that differ. */
  fields: string[];
}

export interface WeightChange {
  address: string;
  from: number;
  to: number;
}

export interface RealServerChanges {
  added: string[];
  removed: string[];
  weight: WeightChange[];
  /** Real servers whose effective health check changed (own or inherited from the service). */
  healthCheck: string[];
}

export interface ServiceChange extends ItemChange {
  /** `fields` lists service-level fields; real-server changes are detailed here. */
  realServers: RealServerChanges;
}

export interface KeyRingChange {
  added: number[];
  removed: number[];
  /** Same id, different key bytes or file. */
  replaced: number[];
  sendId: { from: number; to: number } | null;
}

export interface ConfigDiff {
  node: string[];
  election: string[];
  peers: ItemChanges<ItemChange>;
  interfaces: ItemChanges<ItemChange>;
  forwarder: string[];
  vipGroups: ItemChanges<ItemChange>;
  healthChecks: ItemChanges<ItemChange>;
  services: ItemChanges<ServiceChange>;
  timers: string[];
  tables: string[];
  /** null: unchanged; a ring that appears or disappears shows as all keys added / removed. */
  keys: { election: KeyRingChange | null; sync: KeyRingChange | null };
  sync: string[];
  metrics: string[];
  admin: string[];
  log: string[];
  alerts: { fields: string[]; targets: ItemChanges<ItemChange> };
  fingerprint: { from: string; to: string } | null;
  /**
   * Advisory: changes no running daemon can apply in place (identity, BPF map sizes, the bpffs
   * pin directory). The daemon decides; a reload that sees these should say a restart is needed.
   */
  restartRequired: string[];
  /** True when nothing at all differs. */
  empty: boolean;
}

/** Deep equality where secrets compare by content (their JSON forms are all "[redacted]"). */
export function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Secret || b instanceof Secret) {
    return a instanceof Secret && b instanceof Secret && a.equals(b);
  }
  if (a === b) return true;
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.hasOwn(b, k) && sameValue((a as never)[k], (b as never)[k]));
}

/** Fields of two objects (of one type) that differ, in declaration order. */
export function changedFields<T extends object>(a: T, b: T, skip: readonly string[] = []): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
  return keys.filter((k) => !skip.includes(k) && !sameValue((a as never)[k], (b as never)[k]));
}

function diffItems<T extends object, C>(
  before: readonly T[],
  after: readonly T[],
  keyOf: (item: T) => string,
  change: (a: T, b: T) => C | null,
): ItemChanges<C> {
  const oldByKey = new Map(before.map((x) => [keyOf(x), x]));
  const newByKey = new Map(after.map((x) => [keyOf(x), x]));
  const changed: C[] = [];
  for (const [key, b] of newByKey) {
    const a = oldByKey.get(key);
    if (a === undefined) continue;
    const c = change(a, b);
    if (c !== null) changed.push(c);
  }
  return {
    added: [...newByKey.keys()].filter((k) => !oldByKey.has(k)),
    removed: [...oldByKey.keys()].filter((k) => !newByKey.has(k)),
    changed,
  };
}

const simpleChange =
  <T extends object>(keyOf: (item: T) => string) =>
  (a: T, b: T): ItemChange | null => {
    const fields = changedFields(a, b);
    return fields.length === 0 ? null : { name: keyOf(a), fields };
  };

function diffRealServers(a: readonly RealServerConfig[], b: readonly RealServerConfig[]): RealServerChanges {
  const items = diffItems(
    a,
    b,
    (r) => r.address,
    (x, y) => (changedFields(x, y).length ? [x, y] : null),
  );
  return {
    added: items.added,
    removed: items.removed,
    weight: items.changed
      .filter(([x, y]) => x.weight !== y.weight)
      .map(([x, y]) => ({ address: x.address, from: x.weight, to: y.weight })),
    healthCheck: items.changed
      .filter(([x, y]) => !sameValue(x.healthCheck, y.healthCheck))
      .map(([x]) => x.address),
  };
}

function diffService(a: ServiceConfig, b: ServiceConfig): ServiceChange | null {
  const fields = changedFields(a, b, ['realServers']);
  const realServers = diffRealServers(a.realServers, b.realServers);
  const rsChanged =
    realServers.added.length +
      realServers.removed.length +
      realServers.weight.length +
      realServers.healthCheck.length >
    0;
  // Order of real servers carries no meaning (fingerprint.ts): a reorder alone is no change.
  if (fields.length === 0 && !rsChanged) return null;
  return { name: a.name, fields, realServers };
}

function diffRing(a: KeyRing | null, b: KeyRing | null): KeyRingChange | null {
  const before = a?.keys ?? [];
  const after = b?.keys ?? [];
  const items = diffItems(
    before,
    after,
    (k) => String(k.id),
    (x, y) => (sameValue(x, y) ? null : x.id),
  );
  const sendId = a && b && a.sendId !== b.sendId ? { from: a.sendId, to: b.sendId } : null;
  const none = items.added.length + items.removed.length + items.changed.length === 0 && sendId === null;
  if (none && (a === null) === (b === null)) return null;
  return {
    added: items.added.map(Number),
    removed: items.removed.map(Number),
    replaced: items.changed,
    sendId,
  };
}

// The order of a group's VIPs and of a target's events means nothing: compare them as sets.
const sortedVips = (g: VipGroupConfig): VipGroupConfig => ({ ...g, vips: [...g.vips].sort() });
const sortedEvents = (t: AlertTargetConfig): AlertTargetConfig => ({ ...t, events: [...t.events].sort() });

function itemsEmpty(c: ItemChanges<unknown>): boolean {
  return c.added.length + c.removed.length + c.changed.length === 0;
}

export function diffConfig(before: Config, after: Config): ConfigDiff {
  const fpBefore = configFingerprint(before);
  const fpAfter = configFingerprint(after);
  const d: Omit<ConfigDiff, 'empty' | 'restartRequired'> = {
    node: changedFields(before.node, after.node),
    election: changedFields(before.election, after.election),
    peers: diffItems(
      before.peers,
      after.peers,
      (p) => p.id,
      simpleChange((p) => p.id),
    ),
    interfaces: diffItems(
      before.interfaces,
      after.interfaces,
      (i) => i.name,
      simpleChange((i) => i.name),
    ),
    forwarder: changedFields(before.forwarder, after.forwarder),
    vipGroups: diffItems(
      before.vipGroups.map(sortedVips),
      after.vipGroups.map(sortedVips),
      (g) => g.name,
      simpleChange((g) => g.name),
    ),
    healthChecks: diffItems(
      before.healthChecks,
      after.healthChecks,
      (c) => c.name ?? '',
      simpleChange((c) => c.name ?? ''),
    ),
    services: diffItems(before.services, after.services, (s) => s.name, diffService),
    timers: changedFields(before.timers, after.timers),
    tables: changedFields(before.tables, after.tables),
    keys: {
      election: diffRing(before.keys.election, after.keys.election),
      sync: diffRing(before.keys.sync, after.keys.sync),
    },
    sync: changedFields(before.sync, after.sync),
    metrics: changedFields(before.metrics, after.metrics),
    admin: changedFields(before.admin, after.admin),
    log: changedFields(before.log, after.log),
    alerts: {
      fields: changedFields(before.alerts, after.alerts, ['targets']),
      targets: diffItems(
        before.alerts.targets.map(sortedEvents),
        after.alerts.targets.map(sortedEvents),
        (t) => t.name,
        simpleChange((t) => t.name),
      ),
    },
    fingerprint: fpBefore === fpAfter ? null : { from: fpBefore, to: fpAfter },
  };

  const restartRequired: string[] = [];
  if (d.node.includes('id')) restartRequired.push('node.id (the director identity in election and sync)');
  for (const f of d.tables)
    restartRequired.push(`tables.${f} (BPF map sizes are fixed when the maps are created)`);
  if (d.forwarder.includes('pinDir')) restartRequired.push('forwarder.pinDir (where the pinned maps live)');

  const empty =
    [
      d.node,
      d.election,
      d.forwarder,
      d.timers,
      d.tables,
      d.sync,
      d.metrics,
      d.admin,
      d.log,
      d.alerts.fields,
    ].every((x) => x.length === 0) &&
    [d.peers, d.interfaces, d.vipGroups, d.healthChecks, d.services, d.alerts.targets].every(itemsEmpty) &&
    d.keys.election === null &&
    d.keys.sync === null;
  return { ...d, restartRequired, empty };
}
