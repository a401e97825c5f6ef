/**
 * The election as a daemon part (failover/README.md, "Using it"): one state machine per VIP group,
 * the UDP transport to the peers, the real-time runner, and the glue to the rest of the daemon:
 *
 * - effects: become-master → VipPart.takeOver, become-backup → release, reannounce → a new burst;
 * - tracked conditions: the group's own interface (Fault while down), track.interfaces and
 *   track.scripts (weight, or Fault for weight 0), track.services from the health part;
 * - alerts, metrics, `dsrctl status` roles and peers, and `dsrctl failover` (planned handover).
 *
 * It starts last and so stops first: stop() shuts the groups down (a master sends priority 0 so a
 * backup takes over at once), flushes those adverts, and waits for the VIPs to be released.
 */
import { randomInt } from 'node:crypto';
import { type Config, configFingerprint, type VipGroupConfig } from '../../../config/index.ts';
import {
  ADVERTS_PER_INTERVAL,
  advertFingerprint,
  createElection,
  type ElectionGroup,
  type ElectionOutput,
  ElectionRunner,
  ElectionTransport,
  nodeIds,
} from '../../../failover/index.ts';
import type { HealthDaemonPart } from '../../../health/health-daemon-part.ts';
import { keyringFromConfig } from '../../auth/from-config.ts';
import { ELECTION_KEY_PURPOSE } from '../../auth/keyring.ts';
import { newSessionId, SenderSession } from '../../auth/session.ts';
import { DsrError } from '../../errors.ts';
import { errorFields, type Logger } from '../../log.ts';
import type { DsrMetrics } from '../../metrics/index.ts';
import { RepeatLimiter } from '../../repeat-limiter.ts';
import { type ConfigChange, touches } from '../change.ts';
import type { DaemonPart, PartContext } from '../part.ts';
import type { AlertsPart } from './alerts.ts';
import { registerFailoverCommand } from './election-commands.ts';
import {
  type ForwarderAttachment,
  feedConditions,
  groupConditions,
  type SyncReadiness,
} from './election-conditions.ts';
import {
  failoverCompleted,
  type SyncLagSource,
  type TakeoverStart,
  takeoverStart,
} from './election-failover.ts';
import {
  directorRole,
  groupStatus,
  type NodeNames,
  PeerAlertMemory,
  peerStatuses,
  raiseAlert,
} from './election-report.ts';
import type { VipPart } from './vip.ts';

export type { ForwarderAttachment, SyncReadiness } from './election-conditions.ts';
export type { SyncLag, SyncLagSource } from './election-failover.ts';

/** Where the election raises alert events (the alerts part; a fake in tests). */
export type AlertSink = Pick<AlertsPart, 'emit'>;

export interface ElectionPartOptions {
  vip: VipPart;
  /** Takeover gating (issue 6); without it there is nothing to wait for. */
  sync?: SyncReadiness;
  /** How far the sync lagged at a takeover, for failover_completed; without it the lag reads 0. */
  syncLag?: SyncLagSource;
  /** Feeds track.forwarder (Fault while the XDP program is not attached). */
  forwarder?: ForwarderAttachment;
  alerts?: AlertSink;
  metrics?: DsrMetrics;
  /** Feeds track.services; without it a group that tracks services cannot start. */
  health?: HealthDaemonPart;
}

interface Group {
  config: VipGroupConfig;
  election: ElectionGroup;
  /** Interface name → condition name, for link events. */
  links: Map<string, string>;
  transitions: Partial<Record<ReturnType<typeof directorRole>, number>>;
}

export class ElectionPart implements DaemonPart {
  readonly name = 'election';
  readonly #o: ElectionPartOptions;
  readonly #groups = new Map<number, Group>();
  readonly #cleanup: (() => void)[] = [];
  readonly #pending = new Set<Promise<unknown>>();
  readonly #outputListeners = new Set<(group: string, out: ElectionOutput) => void>();
  readonly #demotedListeners = new Set<() => void>();
  #names: NodeNames = new Map();
  #peerAlerts = new PeerAlertMemory();
  #runner: ElectionRunner | undefined;
  #transport: ElectionTransport | undefined;
  #log: Logger | undefined;
  readonly #socketErrors = new RepeatLimiter(30_000);
  #config: Config | undefined;

  constructor(options: ElectionPartOptions) {
    this.#o = options;
  }

  async start(ctx: PartContext): Promise<void> {
    const c = ctx.config;
    this.#log = ctx.log;
    this.#config = c;
    this.#peerAlerts = new PeerAlertMemory();
    const ids = nodeIds([c.node.id, ...c.peers.map((p) => p.id)]);
    this.#names = new Map([...ids].map(([name, id]) => [id, name]));
    const nodeId = ids.get(c.node.id)!;
    const peerIds = c.peers.map((p) => ids.get(p.id)!);
    const fingerprint = advertFingerprint(configFingerprint(c));
    if (this.#o.forwarder === undefined && c.vipGroups.some((g) => g.track.forwarder)) {
      ctx.log.warn('track.forwarder is not applied: no forwarder part runs');
    }

    for (const g of c.vipGroups) {
      const { tracked, links } = groupConditions(g, this.#o);
      const election = createElection({
        groupId: g.id,
        nodeId,
        priority: g.priority,
        advertIntervalMs: g.advertIntervalMs,
        // Loss tolerance on the control path, detection time unchanged (failover/election/timing.ts).
        advertsPerInterval: ADVERTS_PER_INTERVAL,
        preempt: g.preempt,
        preemptDelayMs: g.preemptDelayMs,
        fingerprint,
        peers: peerIds,
        tracked,
        syncReady: this.#o.sync?.ready() ?? true,
        random: Math.random,
      });
      this.#groups.set(g.id, { config: g, election, links, transitions: {} });
    }

    if (c.peers.length > 0) this.#transport = this.#makeTransport(c, nodeId, ids);
    this.#runner = new ElectionRunner({
      groups: [...this.#groups.values()].map((g) => g.election),
      send: (out) => this.#transport?.send(out),
      onOutput: (group, out) => this.#onOutput(group, out),
    });
    await this.#transport?.start();
    this.#runner.start();

    this.#cleanup.push(
      ...(await feedConditions(this.#groups, this.#o, (id, fn) => this.#input(id, fn), ctx.log)),
    );
    this.#cleanup.push(registerFailoverCommand(ctx.admin, this));
    this.#o.metrics?.setProvider('election', () => this.#snapshot());
    this.#cleanup.push(() => this.#o.metrics?.setProvider('election', undefined));
  }

  #makeTransport(c: Config, nodeId: number, ids: Map<string, number>): ElectionTransport {
    if (c.keys.election === null)
      throw new DsrError('E_PART_START', 'peers are configured but keys.election is not');
    const family = (c.node.address ?? c.peers[0].address).includes(':') ? 'ipv6' : 'ipv4';
    // Session ids grow with the wall clock across restarts (core/auth/session.ts).
    const session = new SenderSession(
      newSessionId(Date.now(), randomInt(65536)),
      Date.now(),
      performance.now(),
    );
    return new ElectionTransport({
      nodeId,
      bind: { address: c.node.address, port: c.election.port, family },
      peers: c.peers.map((p) => ({ nodeId: ids.get(p.id)!, name: p.id, address: p.address, port: p.port })),
      multicast: c.election.multicast,
      keyring: keyringFromConfig(c.keys.election, ELECTION_KEY_PURPOSE),
      session,
      clock: { mono: () => performance.now(), wall: () => Date.now() },
      onMessage: (m) => this.#runner?.deliver(m),
      onDrop: (reason, info) => this.#runner?.recordDrop(reason, info.groupId),
      onError: (err) => {
        // While the interface is down every advert fails (ENETUNREACH): log the first, then a reminder.
        const { log, suppressed } = this.#socketErrors.admit(err.message, performance.now());
        if (log) this.#log?.error({ err: err.message, suppressed }, 'election socket error');
      },
    });
  }

  /** Runs an input on a group; errors (bad input) are logged, never thrown into event callbacks. */
  #input(groupId: number, fn: Parameters<ElectionRunner['input']>[1]): void {
    try {
      this.#runner?.input(groupId, fn);
    } catch (err) {
      this.#log?.error({ groupId, ...errorFields(err) }, 'election input refused');
    }
  }

  #track(p: Promise<unknown>): void {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }

  #onOutput(election: ElectionGroup, out: ElectionOutput): void {
    const g = this.#groups.get(election.groupId);
    if (g === undefined) return;
    const name = g.config.name;
    const log = this.#log?.child({ group: name });
    for (const t of out.transitions) {
      const to = directorRole(t.to);
      g.transitions[to] = (g.transitions[to] ?? 0) + 1;
      log?.info({ from: t.from, to: t.to, reason: t.reason }, `VIP group ${name}: ${t.from} -> ${t.to}`);
      if (to === 'master' || to === 'backup' || to === 'fault') {
        const type = to === 'master' ? 'became_master' : to === 'backup' ? 'became_backup' : 'became_fault';
        this.#o.alerts?.emit(type, { group: name, previous: directorRole(t.from), reason: t.reason });
      }
    }
    for (const e of out.effects) {
      switch (e.type) {
        case 'become-master': {
          if (!e.inSync) log?.warn({ reason: e.reason }, 'taking over while not in sync');
          const start = takeoverStart(name, e, (id) => this.#names.get(id) ?? `node-${id}`, this.#o.syncLag);
          this.#track(
            this.#o.vip.takeOver(name).then((r) => {
              if (!r.ok) log?.error({ errors: r.errors }, 'VIP takeover incomplete');
              // Resolved once the VIPs are added and the first announcement went out.
              else if (r.superseded !== true && start !== null) this.#failoverCompleted(start, log);
            }),
          );
          break;
        }
        case 'become-backup':
          this.#track(
            this.#o.vip.release(name).then((r) => {
              if (!r.ok) log?.error({ errors: r.errors }, 'VIP release incomplete');
            }),
          );
          break;
        case 'reannounce':
          this.#o.vip.reannounce(name);
          break;
        case 'alert': {
          const level =
            e.alert.kind.startsWith('split-brain') || e.alert.kind === 'peer-lost' ? 'warn' : 'info';
          log?.[level]({ alert: e.alert }, `election: ${e.alert.kind}`);
          const ourFp = election.status(performance.now()).fingerprint;
          const me = this.#config?.node.id ?? '';
          raiseAlert(this.#o.alerts, name, me, e.alert, this.#names, ourFp, this.#peerAlerts);
          break;
        }
      }
    }
    for (const l of this.#outputListeners) l(name, out);
    if (out.transitions.some((t) => t.from === 'master' && t.to !== 'master') && !this.isMasterOfAny()) {
      for (const l of this.#demotedListeners) l();
    }
  }

  #failoverCompleted(start: TakeoverStart, log: Logger | undefined): void {
    const fields = failoverCompleted(start, performance.now());
    log?.info({ ...fields }, `failover of ${start.group} completed in ${fields.durationSeconds} s`);
    this.#o.alerts?.emit('failover_completed', fields);
  }

  // ---- for the sync part ----

  /** Names of the VIP groups this director is master of now. */
  masterGroups(): string[] {
    return [...this.#groups.values()].filter((g) => g.election.state === 'master').map((g) => g.config.name);
  }

  /** True while this director is master of at least one VIP group. */
  isMasterOfAny(): boolean {
    return [...this.#groups.values()].some((g) => g.election.state === 'master');
  }

  /** Called when this director stops being master of its last group (the sync pulls the tables again). */
  onDemoted(listener: () => void): () => void {
    this.#demotedListeners.add(listener);
    return () => this.#demotedListeners.delete(listener);
  }

  /** For commands that wait on the outcome of an input (planned handover). */
  onOutput(listener: (group: string, out: ElectionOutput) => void): () => void {
    this.#outputListeners.add(listener);
    return () => this.#outputListeners.delete(listener);
  }

  get runner(): ElectionRunner {
    if (this.#runner === undefined) throw new DsrError('E_ADMIN_REQUEST', 'the election is not running');
    return this.#runner;
  }

  get groups(): ReadonlyMap<number, Group> {
    return this.#groups;
  }

  get names(): NodeNames {
    return this.#names;
  }

  async stop(): Promise<void> {
    for (const f of this.#cleanup.splice(0).reverse()) f();
    // Masters send priority 0 and emit become-backup: the VIPs are released below.
    this.#runner?.stop();
    await this.#transport?.close();
    await Promise.allSettled([...this.#pending]);
    this.#runner = undefined;
    this.#transport = undefined;
    this.#groups.clear();
  }

  /**
   * A service change alters the config fingerprint the adverts carry: that is applied live, as is
   * a group's priority. Other election settings need a restart.
   */
  affectedBy(change: ConfigChange): boolean {
    return (
      change.diff.fingerprint !== null || touches(change, 'vipGroups', 'peers', 'election', 'keys', 'node')
    );
  }

  cannotReload(change: ConfigChange): string | undefined {
    const d = change.diff;
    const why: string[] = [];
    if (d.peers.added.length + d.peers.removed.length + d.peers.changed.length > 0) why.push('peers');
    if (d.election.length > 0) why.push('election');
    if (d.keys.election !== null) why.push('keys.election');
    if (d.node.some((f) => f !== 'priority')) why.push('node');
    if (d.vipGroups.added.length + d.vipGroups.removed.length > 0) why.push('VIP groups added or removed');
    for (const g of d.vipGroups.changed) {
      const fixed = g.fields.filter((f) => f !== 'priority');
      if (fixed.length > 0) why.push(`vip group ${g.name}: ${fixed.join(', ')}`);
    }
    return why.length === 0 ? undefined : `${why.join('; ')} changed`;
  }

  reload(change: ConfigChange): void {
    const fp = advertFingerprint(configFingerprint(change.next));
    for (const [id, g] of this.#groups) {
      const next = change.next.vipGroups.find((x) => x.id === id);
      if (next === undefined) continue;
      if (next.priority !== g.config.priority)
        this.runner.input(id, (e, now) => e.setPriority(now, next.priority));
      if (change.diff.fingerprint !== null) this.runner.input(id, (e, now) => e.setFingerprint(now, fp));
      g.config = next;
    }
    this.#config = change.next;
  }

  status(): unknown {
    const runner = this.#runner;
    const config = this.#config;
    if (runner === undefined || config === undefined) return {};
    const s = runner.status();
    return {
      groups: s.groups.map((gs) => groupStatus(config, gs, this.#names)),
      peers: peerStatuses(config, s.groups, this.#names),
      election: { drops: s.drops, transport: this.#transport?.stats() ?? null },
    };
  }

  #snapshot() {
    const s = this.runner.status();
    const t = this.#transport?.stats();
    const peers = this.#config === undefined ? [] : peerStatuses(this.#config, s.groups, this.#names);
    return {
      groups: s.groups.map((gs) => {
        const g = this.#groups.get(gs.groupId)!;
        const owned = this.#o.vip.owned(g.config.name);
        return {
          group: g.config.name,
          role: directorRole(gs.state),
          transitions: { ...g.transitions },
          advertsSent: gs.counters.advertsSent ?? 0,
          advertsReceived: gs.counters.messagesReceived ?? 0,
          vips: g.config.vips.map((vip) => ({
            vip,
            owned: owned?.held.some((h) => h.startsWith(`${vip}/`)) ?? false,
          })),
        };
      }),
      advertsDropped: { ...(t?.drops ?? {}), ...s.drops },
      peers: peers.map((p) => ({
        peer: p.id,
        lastHeardSeconds: p.lastHeardMs === null ? null : p.lastHeardMs / 1000,
      })),
    };
  }
}
