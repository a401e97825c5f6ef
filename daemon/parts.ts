/**
 * The parts of dsrd, in start order. Stop order is the reverse.
 *
 * 1. admin      first: it is also the lock against a second dsrd on this director, and keeps
 *               `dsrctl status` answering through startup and shutdown.
 * 2. log        applies log.level from the config.
 * 3. eventloop  delay histogram and stall detector (shared with the election through PartContext).
 * 4. watchdog   systemd WATCHDOG=1 pings.
 * Then the parts that touch the network, each after what it uses (see DOMAIN_ORDER).
 */

import type { CommandRegistry } from '../admin/registry.ts';
import type { EventLoopMonitor } from '../core/eventloop.ts';
import type { LogRoot } from '../core/log.ts';
import type { Notifier } from '../core/systemd/notify.ts';
import { AdminPart } from './admin/part.ts';
import { AlertsPart } from './alerts/part.ts';
import { DrillPart } from './drill/part.ts';
import { ElectionPart } from './election/part.ts';
import { EventLoopPart } from './eventloop/part.ts';
import { ForwarderPart } from './forwarder/part.ts';
import { bridgeHealthAlerts } from './health/alerts.ts';
import { HealthPart } from './health/part.ts';
import { LogLevelPart } from './log/part.ts';
import { MetricsPart } from './metrics/part.ts';
import type { DaemonPart } from './part.ts';
import { QuorumPart } from './quorum/part.ts';
import { SyncPart } from './sync/part.ts';
import { VipPart } from './vip/part.ts';
import { WatchdogPart } from './watchdog/part.ts';

export interface PartDeps {
  registry: CommandRegistry;
  notifier: Notifier;
  eventLoop: EventLoopMonitor;
  logRoot: LogRoot;
  version: string;
}

/**
 * Order of the parts that touch the network, for whoever adds them:
 *   metrics → alerts → forwarder → health → sync → vip → election → drill
 * The forwarder must be attached before health results feed its tables and before the VIP can
 * arrive; the election starts last so it stops first: on SIGTERM it resigns (priority 0) while
 * this director still forwards, and a backup takes over at once. Only the drill (which drives the
 * election) stops before it.
 */
export const DOMAIN_ORDER = [
  'metrics',
  'alerts',
  'forwarder',
  'health',
  'sync',
  'vip',
  'election',
  'drill',
] as const;

export function coreParts(deps: Omit<PartDeps, 'version'>): DaemonPart[] {
  return [
    new AdminPart(deps.registry),
    new LogLevelPart(deps.logRoot),
    new EventLoopPart(deps.eventLoop),
    new WatchdogPart(deps.notifier),
  ];
}

/** Which election the config asks for, and whether this is a director or a witness. */
export interface PartsMode {
  election: 'vrrp' | 'raft';
  role: 'director' | 'witness';
}

/**
 * Every part dsrd runs, for the mode the config asks for (a change of mode needs a restart:
 * the election part refuses it on reload). Domain parts are constructed here, given the handles
 * they need (alerts, metrics, each other), and listed in DOMAIN_ORDER.
 *
 * - VRRP mode: the VRRP-style election part and the drill.
 * - Quorum mode: the quorum part in the election's place; `dsrctl failover` is a leadership
 *   transfer; the drill (built on the VRRP handover) is not offered.
 * - A witness: the quorum part alone, with metrics and alerts: no forwarder, health checks, sync
 *   or VIPs.
 */
export function buildParts(deps: PartDeps, mode: PartsMode): DaemonPart[] {
  const metrics = new MetricsPart(deps.version);
  const alerts = new AlertsPart(metrics.metrics);
  if (mode.role === 'witness') {
    const quorum = new QuorumPart({ alerts, metrics: metrics.metrics });
    return [...coreParts(deps), ...ordered([metrics, alerts, quorum])];
  }
  // Drains count the forwarder's flows; the forwarder programs the health part's weights. The
  // counter is only called once the parts run, after both exist.
  let forwarder!: ForwarderPart;
  const health = new HealthPart({
    remainingFlows: (rs, svc) => forwarder.remainingFlows(rs, svc),
    metrics: metrics.metrics,
  });
  forwarder = new ForwarderPart({ health, metrics: metrics.metrics });
  const vip = new VipPart();
  // The sync and the election each need the other: late-bound through the election variable.
  let election: ElectionPart | QuorumPart | undefined;
  const sync = new SyncPart({
    forwarder,
    election: {
      masterGroups: () => election?.masterGroups() ?? [],
      onMastership: (l) => election?.onMastership(l) ?? (() => {}),
    },
    metrics: metrics.metrics,
    alerts,
    // Drains survive a failover: the peers hold the same drains (issue 7).
    drains: health,
  });
  const domain: DaemonPart[] = [metrics, alerts, forwarder, health, sync, vip];
  if (mode.election === 'raft') {
    election = new QuorumPart({ vip, forwarder, alerts, metrics: metrics.metrics });
    domain.push(election);
  } else {
    const vrrp = new ElectionPart({
      vip,
      alerts,
      metrics: metrics.metrics,
      health,
      forwarder,
      sync,
      syncLag: sync,
    });
    election = vrrp;
    domain.push(vrrp, new DrillPart({ election: vrrp, sync, forwarder, vip, alerts }));
  }
  const speaker = election;
  alerts.setMasterGroups(() => speaker.masterGroups());
  bridgeHealthAlerts(health, alerts, speaker);
  vip.onConflict((r) =>
    alerts.emit('vip_conflict', { group: r.group, vip: r.address, mac: r.mac, ownMac: r.ownMac }),
  );
  return [...coreParts(deps), ...ordered(domain)];
}

function ordered(domain: DaemonPart[]): DaemonPart[] {
  const order = (p: DaemonPart): number => DOMAIN_ORDER.indexOf(p.name as (typeof DOMAIN_ORDER)[number]);
  return [...domain].sort((a, b) => order(a) - order(b));
}
