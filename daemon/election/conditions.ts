/**
 * Tracked conditions of the VIP groups (RFC 5798 has none; keepalived's track_interface and
 * track_script are the model): which conditions each group has, and the feeds that set them.
 *
 * - `link:<ifname>`: the group's own interface (Fault while down), and track.interfaces;
 * - `script:<name>`: track.scripts, run on their own timers (tracked-script.ts);
 * - `service:<name>`: track.services, from the health part's service up/down;
 * - `forwarder`: track.forwarder, Fault while the XDP program is not attached;
 * plus the sync readiness (takeover gating), which is an input of its own, not a condition.
 * Weight 0 means Fault; any other weight lowers the priority while the condition fails.
 */
import type { VipGroupConfig } from '../../config/index.ts';
import { DsrError } from '../../core/errors.ts';
import { errorFields, type Logger } from '../../core/log.ts';
import { type LinkState, linkUsable } from '../../core/netlink/link-monitor.ts';
import type { ControlInput, TrackedConditionSpec } from '../../failover/index.ts';
import type { HealthEvent } from '../../health/index.ts';
import type { HealthPart } from '../health/part.ts';
import type { VipPart } from '../vip/part.ts';
import { TrackedScriptRunner } from './tracked-script.ts';

/** What the election needs of the forwarder for `track.forwarder`: is XDP attached, and changes. */
export interface ForwarderAttachment {
  attached(): boolean;
  subscribe(listener: (attached: boolean) => void): () => void;
}

/** What the election needs of the sync part: are we in sync (gates preemption and handovers). */
export interface SyncReadiness {
  ready(): boolean;
  onReadyChange(listener: (ready: boolean) => void): () => void;
}

export interface ConditionSources {
  vip: VipPart;
  health?: HealthPart;
  forwarder?: ForwarderAttachment;
  sync?: SyncReadiness;
}

export interface GroupConditions {
  tracked: TrackedConditionSpec[];
  /** Interface name → condition name, for link events. */
  links: Map<string, string>;
}

/** Steps one group with an input; must not throw (errors are logged by the caller). */
export type GroupInput = (groupId: number, input: ControlInput) => void;

function conditionFor(name: string, weight: number): TrackedConditionSpec {
  return weight === 0 ? { name, fault: true } : { name, weight };
}

export function groupConditions(g: VipGroupConfig, sources: ConditionSources): GroupConditions {
  const tracked: TrackedConditionSpec[] = [{ name: `link:${g.interface}`, fault: true }];
  const links = new Map([[g.interface, `link:${g.interface}`]]);
  for (const i of g.track.interfaces) {
    if (i.name === g.interface) continue;
    tracked.push(conditionFor(`link:${i.name}`, i.weight));
    links.set(i.name, `link:${i.name}`);
  }
  if (g.track.forwarder && sources.forwarder !== undefined) tracked.push({ name: 'forwarder', fault: true });
  for (const s of g.track.services) {
    if (sources.health === undefined) {
      throw new DsrError(
        'E_PART_START',
        `VIP group ${g.name} tracks service ${s.name}, but no health part runs`,
      );
    }
    tracked.push(conditionFor(`service:${s.name}`, s.weight));
  }
  for (const s of g.track.scripts) tracked.push(conditionFor(`script:${s.name}`, s.weight));
  return { tracked, links };
}

interface FedGroup {
  config: VipGroupConfig;
  links: ReadonlyMap<string, string>;
}

/**
 * Sets every condition to its current value, then follows changes. Returns the functions that
 * stop the feeds.
 */
export async function feedConditions(
  groups: ReadonlyMap<number, FedGroup>,
  sources: ConditionSources,
  input: GroupInput,
  log: Logger,
): Promise<(() => void)[]> {
  const stops: (() => void)[] = [];
  const each = (pick: (g: FedGroup) => string | undefined, failing: boolean): void => {
    for (const [id, g] of groups) {
      const name = pick(g);
      if (name !== undefined) input(id, { kind: 'set-condition', name, failing });
    }
  };

  // Interfaces: the state now, then every change the link monitor reports.
  const { vip } = sources;
  const ifnames = new Set([...groups.values()].flatMap((g) => [...g.links.keys()]));
  for (const ifname of ifnames) {
    let state: LinkState | undefined;
    try {
      state = await vip.links.get(vip.ifindex(ifname));
    } catch (err) {
      // A missing interface is a failing condition until it appears.
      log.warn({ ifname, ...errorFields(err) }, 'tracked interface not found');
    }
    each((g) => g.links.get(ifname), !linkUsable(state));
  }
  stops.push(
    vip.links.subscribe((s) => {
      if (ifnames.has(s.name)) each((g) => g.links.get(s.name), !linkUsable(s));
    }),
  );

  const { health, forwarder, sync } = sources;
  if (health !== undefined) {
    const tracks = (service: string) => (g: FedGroup) =>
      g.config.track.services.some((s) => s.name === service) ? `service:${service}` : undefined;
    for (const t of health.trackedServices()) each(tracks(t.service), t.failed);
    const onEvent = (e: HealthEvent): void => {
      if (e.type === 'service.down' || e.type === 'service.up')
        each(tracks(e.service), e.type === 'service.down');
    };
    health.on('event', onEvent);
    stops.push(() => health.off('event', onEvent));
  }

  if (forwarder !== undefined) {
    const apply = (attached: boolean): void =>
      each((g) => (g.config.track.forwarder ? 'forwarder' : undefined), !attached);
    apply(forwarder.attached());
    stops.push(forwarder.subscribe(apply));
  }

  if (sync !== undefined) {
    const apply = (ready: boolean): void => {
      for (const id of groups.keys()) input(id, { kind: 'set-sync-ready', ready });
    };
    // The groups took the readiness of their creation; it may have changed since (the sync runs
    // while the election's transport starts), and a missed change would gate preemption for good.
    apply(sync.ready());
    stops.push(sync.onReadyChange(apply));
  }

  for (const [id, g] of groups) {
    for (const s of g.config.track.scripts) {
      const runner = new TrackedScriptRunner(s, (failing, detail) => {
        log.warn({ group: g.config.name, script: s.name, failing, detail }, 'tracked script changed');
        input(id, { kind: 'set-condition', name: `script:${s.name}`, failing });
      });
      runner.start();
      stops.push(() => runner.stop());
    }
  }
  return stops;
}
