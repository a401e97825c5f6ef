import { type Config, configFingerprint, type VipGroupConfig } from '../../config/index.ts';
import { keyMaterialFromConfig } from '../../core/auth/key-material.ts';
import { DsrError } from '../../core/errors.ts';
import { threadScheduling } from '../../core/kernel/sched.ts';
import { errorFields, type Logger } from '../../core/log.ts';
import { RepeatLimiter } from '../../core/repeat-limiter.ts';
import {
  ADVERTS_PER_INTERVAL,
  advertFingerprint,
  BEAT_MS,
  type ControlInput,
  type ElectionStatus,
  ElectionThread,
  type ElectionThreadData,
  MainHeartbeat,
  mainClockOriginNs,
  nodeIds,
  type ReportedOutput,
  STALE_AFTER_MS,
} from '../../failover/index.ts';
import type { AlertsPart } from '../alerts/part.ts';
import { type ConfigChange, touches } from '../change.ts';
import type { HealthPart } from '../health/part.ts';
import type { DsrMetrics } from '../metrics/index.ts';
import type { DaemonPart, PartContext } from '../part.ts';
import { ReplayRecorder } from '../replay-record.ts';
import { VIP_ARP_FORMS, type VipPart } from '../vip/part.ts';
import { registerFailoverCommand } from './commands.ts';
import {
  type ForwarderAttachment,
  feedConditions,
  groupConditions,
  type SyncReadiness,
} from './conditions.ts';
import {
  type BecomeMaster,
  failoverCompleted,
  type SyncLagSource,
  type TakeoverStart,
  takeoverStart,
} from './failover.ts';
import {
  loadMaintenance,
  MAINTENANCE_PRIORITY,
  type MaintenanceElection,
  type MaintenanceState,
  registerMaintenanceCommand,
} from './maintenance.ts';
import { directorRole, type NodeNames, PeerAlertMemory, raiseAlert } from './report.ts';
import { electionThreadScheduling } from './scheduling.ts';
import { electionTransport } from './transport.ts';
import { electionMetricsView, electionStatusView } from './views.ts';

export type { ForwarderAttachment, SyncReadiness } from './conditions.ts';
export type { SyncLag, SyncLagSource } from './failover.ts';

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
  health?: HealthPart;
}

export interface Group {
  config: VipGroupConfig;
  /** The group id (config id), the key of the election thread's state machine. */
  id: number;
  /** Interface name → condition name, for link events. */
  links: Map<string, string>;
  transitions: Partial<Record<ReturnType<typeof directorRole>, number>>;
}

/** How often the election thread sends a status snapshot besides the ones with its outputs. */
const SNAPSHOT_INTERVAL_MS = 200;

/**
 * How long a master that a live peer took over from keeps its VIPs, quiet, after stepping down:
 * the new master adds them on its main thread after deciding on its election thread, which took
 * up to 56 ms on a loaded lab (issue 21, item 7); 100 ms covers that with margin and is far below
 * any ARP cache's life.
 */
const HANDOFF_GRACE_MS = 100;

export class ElectionPart implements DaemonPart, MaintenanceElection {
  readonly name = 'election';
  readonly #o: ElectionPartOptions;
  readonly #groups = new Map<number, Group>();
  readonly #cleanup: (() => void)[] = [];
  readonly #pending = new Set<Promise<unknown>>();
  readonly #outputListeners = new Set<(group: string, out: ReportedOutput) => void>();
  readonly #mastershipListeners = new Set<() => void>();
  #names: NodeNames = new Map();
  #nodeId = 0;
  #peerAlerts = new PeerAlertMemory();
  #thread: ElectionThread | undefined;
  #log: Logger | undefined;
  readonly #socketErrors = new RepeatLimiter(30_000);
  #config: Config | undefined;
  #maintenance: MaintenanceState = { on: false, since: null };

  constructor(options: ElectionPartOptions) {
    this.#o = options;
  }

  async start(ctx: PartContext): Promise<void> {
    const c = ctx.config;
    this.#log = ctx.log;
    this.#config = c;
    this.#peerAlerts = new PeerAlertMemory();
    // An operator's maintenance outlives restarts (maintenance.ts): the groups start at its priority.
    this.#maintenance = loadMaintenance(c.node.stateDir, ctx.log);
    const ids = nodeIds([c.node.id, ...c.peers.map((p) => p.id)]);
    this.#names = new Map([...ids].map(([name, id]) => [id, name]));
    const nodeId = ids.get(c.node.id)!;
    this.#nodeId = nodeId;
    const peerIds = c.peers.map((p) => ids.get(p.id)!);
    const fingerprint = advertFingerprint(configFingerprint(c));
    if (this.#o.forwarder === undefined && c.vipGroups.some((g) => g.track.forwarder)) {
      ctx.log.warn('track.forwarder is not applied: no forwarder part runs');
    }

    const groups: ElectionThreadData['groups'][number][] = [];
    for (const g of c.vipGroups) {
      const { tracked, links } = groupConditions(g, this.#o);
      groups.push({
        groupId: g.id,
        nodeId,
        priority: this.#maintenance.on ? MAINTENANCE_PRIORITY : g.priority,
        advertIntervalMs: g.advertIntervalMs,
        // Loss tolerance on the control path, detection time unchanged (failover/election/timing.ts).
        advertsPerInterval: ADVERTS_PER_INTERVAL,
        preempt: g.preempt,
        preemptDelayMs: g.preemptDelayMs,
        fingerprint,
        peers: peerIds,
        tracked,
        syncReady: this.#o.sync?.ready() ?? true,
      });
      this.#groups.set(g.id, { config: g, id: g.id, links, transitions: {} });
    }

    // The main thread's heartbeat: the election makes every group Fault while it is stale.
    const heartbeat = new MainHeartbeat();
    heartbeat.beat(performance.now());
    const beating = setInterval(() => heartbeat.beat(performance.now()), BEAT_MS);
    this.#cleanup.push(() => clearInterval(beating));
    const scheduling = electionThreadScheduling(threadScheduling());
    this.#thread = await ElectionThread.start(
      {
        nodeId,
        groups,
        transport: c.peers.length > 0 ? electionTransport(c, ids, ctx.log) : null,
        clockOriginNs: mainClockOriginNs(),
        scheduling,
        snapshotIntervalMs: SNAPSHOT_INTERVAL_MS,
        heartbeat: heartbeat.buffer,
        announce: {
          arpForms: VIP_ARP_FORMS,
          groups: Object.fromEntries(c.vipGroups.map((g) => [g.id, this.#o.vip.announceTargets(g.name)])),
        },
        vips: Object.fromEntries(c.vipGroups.map((g) => [g.id, this.#o.vip.vips(g.name)])),
      },
      {
        onOutput: (id, out) => this.#onOutput(id, out),
        onSocketError: (message) => {
          // While the interface is down every advert fails (ENETUNREACH): log the first, then a reminder.
          const { log, suppressed } = this.#socketErrors.admit(message, performance.now());
          if (log) this.#log?.error({ err: message, suppressed }, 'election socket error');
        },
        onFailure: (err) => ctx.fatal(new DsrError('E_INTERNAL', 'the election thread failed', {}, err)),
        onMainThread: (stale) => {
          if (stale) {
            this.#log?.error(
              { staleAfterMs: STALE_AFTER_MS },
              'the main thread did not run: every VIP group was made Fault until it did',
            );
          } else this.#log?.warn('the main thread runs again: the VIP groups leave Fault');
        },
        onReleased: (r) => {
          const group = c.vipGroups.find((g) => g.id === r.groupId)?.name ?? String(r.groupId);
          this.#log?.[r.errors.length > 0 ? 'error' : 'warn'](
            { group, removed: r.removed, errors: r.errors },
            'the election thread removed the VIPs of the hung main thread: another director is master',
          );
        },
      },
    );
    const t = this.#thread;
    if (c.peers.length > 0) {
      // What the replay guard accepted, for the next run (replay-record.ts).
      const recorder = new ReplayRecorder(
        c.node.stateDir,
        'replay-election.json',
        () => t.snapshot().replay,
        ctx.log,
      );
      recorder.start();
      this.#cleanup.push(() => recorder.stop());
    }
    if (t.schedulingError !== null) {
      ctx.log.warn(
        { wanted: scheduling, error: t.schedulingError, running: t.scheduling },
        'the election thread runs without its real-time priority (systemd: LimitRTPRIO=, see systemd/dsrd.service)',
      );
    } else {
      ctx.log.info({ scheduling: t.scheduling }, 'election thread started');
    }
    if (t.announceError !== null) {
      ctx.log.warn(
        { error: t.announceError },
        'the election thread cannot announce takeovers; the VIP part does, a few ms later',
      );
    }

    // The conditions as they are now are applied before the part counts as started.
    const initial: Promise<void>[] = [];
    let starting = true;
    const feed = (id: number, input: ControlInput): void => {
      const applied = this.#input(id, input);
      if (starting) initial.push(applied);
    };
    this.#cleanup.push(...(await feedConditions(this.#groups, this.#o, feed, ctx.log)));
    starting = false;
    await Promise.all(initial);
    // Only now do the groups start (and arm their takeover timers): on known conditions.
    t.startGroups();
    this.#cleanup.push(registerFailoverCommand(ctx.admin, this));
    this.#cleanup.push(registerMaintenanceCommand(ctx.admin, this));
    this.#o.metrics?.setProvider('election', () => this.#snapshot());
    this.#cleanup.push(() => this.#o.metrics?.setProvider('election', undefined));
  }

  /** For event feeds: errors (bad input) are logged, never thrown into event callbacks. */
  #input(groupId: number, input: ControlInput): Promise<void> {
    return this.input(groupId, input).catch((err: unknown) => {
      this.#log?.error({ groupId, input: input.kind, ...errorFields(err) }, 'election input refused');
    });
  }

  /** Steps a group with an input; rejects with its DsrError (illegal transition, bad input). */
  input(groupId: number, input: ControlInput): Promise<void> {
    if (this.#thread === undefined) {
      return Promise.reject(new DsrError('E_ADMIN_REQUEST', 'the election is not running'));
    }
    return this.#thread.input(groupId, input);
  }

  #track(p: Promise<unknown>): void {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }

  #onOutput(groupId: number, out: ReportedOutput): void {
    const g = this.#groups.get(groupId);
    if (g === undefined) return;
    const name = g.config.name;
    const log = this.#log?.child({ group: name });
    if (out.announced !== undefined) this.#o.vip.recordRound(name, out.announced);
    // The takeover starts first: the logs and alerts below cost time the clients wait for.
    for (const e of out.effects) if (e.type === 'become-master') this.#takeOver(name, e, log);
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
        case 'become-master':
          if (!e.inSync) log?.warn({ reason: e.reason }, 'taking over while not in sync');
          break;
        case 'become-backup': {
          // A live peer took over (it preempted us, or our handover): make-before-break, its VIP
          // add and first announcement come before our release. Otherwise (stall, fault, split
          // brain, shutdown) we let go at once.
          const planned = e.reason === 'higher-priority-master' || e.reason === 'handover';
          const released = planned ? this.#o.vip.handOff(name, HANDOFF_GRACE_MS) : this.#o.vip.release(name);
          this.#track(
            released.then((r) => {
              if (!r.ok) log?.error({ errors: r.errors }, 'VIP release incomplete');
            }),
          );
          break;
        }
        case 'reannounce':
          this.#o.vip.reannounce(name);
          break;
        case 'alert': {
          const level =
            e.alert.kind.startsWith('split-brain') || e.alert.kind === 'peer-lost' ? 'warn' : 'info';
          log?.[level]({ alert: e.alert }, `election: ${e.alert.kind}`);
          const ourFp = this.#status(groupId)?.fingerprint ?? '';
          const me = this.#config?.node.id ?? '';
          raiseAlert(this.#o.alerts, name, me, e.alert, this.#names, ourFp, this.#peerAlerts);
          break;
        }
      }
    }
    for (const l of this.#outputListeners) l(name, out);
    const entered = out.transitions.some((t) => t.to === 'master' && t.from !== 'master');
    const left = out.transitions.some((t) => t.from === 'master' && t.to !== 'master');
    if (entered || left) for (const l of this.#mastershipListeners) l();
  }

  #takeOver(name: string, e: BecomeMaster, log: Logger | undefined): void {
    const start = takeoverStart(name, e, (id) => this.#names.get(id) ?? `node-${id}`, this.#o.syncLag);
    this.#track(
      this.#o.vip.takeOver(name).then((r) => {
        if (!r.ok) log?.error({ errors: r.errors }, 'VIP takeover incomplete');
        // Resolved once the VIPs are added and the first announcement went out.
        else if (r.superseded !== true && start !== null) this.#failoverCompleted(start, log);
      }),
    );
  }

  #failoverCompleted(start: TakeoverStart, log: Logger | undefined): void {
    const fields = failoverCompleted(start, performance.now());
    log?.info({ ...fields }, `failover of ${start.group} completed in ${fields.durationSeconds} s`);
    this.#o.alerts?.emit('failover_completed', fields);
  }

  #status(groupId: number): ElectionStatus | undefined {
    return this.#thread?.snapshot().groups.find((s) => s.groupId === groupId);
  }

  // ---- for the sync part ----

  /** Names of the VIP groups this director is master of now (as of the thread's last snapshot). */
  masterGroups(): string[] {
    return [...this.#groups.values()].filter((g) => this.isMaster(g.id)).map((g) => g.config.name);
  }

  /**
   * Whether this director speaks for `service` in alerts about it (health transitions, drains):
   * the master of the VIP group holding the service's VIP, so a pair raises each event once. A
   * service no group holds, or none named (a drain of every service), goes to the master of any.
   */
  speaksFor(service: string | null): boolean {
    const vip = this.#config?.services.find((s) => s.name === service)?.vip;
    const group =
      vip === undefined ? undefined : [...this.#groups.values()].find((g) => g.config.vips.includes(vip));
    return group === undefined ? this.isMasterOfAny() : this.isMaster(group.id);
  }

  /** True while this director is master of at least one VIP group. */
  isMasterOfAny(): boolean {
    return [...this.#groups.keys()].some((id) => this.isMaster(id));
  }

  /** Called whenever the groups this director masters change (the sync refreshes only those). */
  onMastership(listener: () => void): () => void {
    this.#mastershipListeners.add(listener);
    return () => this.#mastershipListeners.delete(listener);
  }

  /** For commands that wait on the outcome of an input (planned handover). */
  onOutput(listener: (group: string, out: ReportedOutput) => void): () => void {
    this.#outputListeners.add(listener);
    return () => this.#outputListeners.delete(listener);
  }

  /** The election's status of one group, as of the thread's last snapshot. */
  groupStatus(groupId: number): ElectionStatus {
    const s = this.#status(groupId);
    if (s === undefined) throw new DsrError('E_ADMIN_REQUEST', 'the election is not running', { groupId });
    return s;
  }

  get groups(): ReadonlyMap<number, Group> {
    return this.#groups;
  }

  get stateDir(): string {
    return this.#config?.node.stateDir ?? '';
  }

  configuredPriority(groupId: number): number {
    return this.#groups.get(groupId)?.config.priority ?? MAINTENANCE_PRIORITY;
  }

  /**
   * Whether this director is master of the group, as of the thread's last snapshot (it arrives
   * with every output that changes the state, before the output is applied).
   */
  isMaster(groupId: number): boolean {
    return this.#status(groupId)?.state === 'master';
  }

  setMaintenance(state: MaintenanceState): void {
    this.#maintenance = { ...state };
    this.#log?.warn(
      { ...state },
      state.on ? 'maintenance on: this director stays backup' : 'maintenance off',
    );
  }

  get names(): NodeNames {
    return this.#names;
  }

  /** This director's node id in the election. */
  get nodeId(): number {
    return this.#nodeId;
  }

  async stop(): Promise<void> {
    for (const f of this.#cleanup.splice(0).reverse()) f();
    // Masters send priority 0 and report become-backup (delivered before stop resolves): the VIPs
    // are released below.
    await this.#thread?.stop();
    await Promise.allSettled([...this.#pending]);
    this.#thread = undefined;
    this.#groups.clear();
  }

  /**
   * A service change alters the config fingerprint the adverts carry: that is applied live, as are
   * a group's priority and the keys (a rotation step: core/auth/README.md). Other election
   * settings need a restart.
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
    if (d.node.some((f) => f !== 'priority')) why.push('node');
    if (d.vipGroups.added.length + d.vipGroups.removed.length > 0) why.push('VIP groups added or removed');
    for (const g of d.vipGroups.changed) {
      const fixed = g.fields.filter((f) => f !== 'priority');
      if (fixed.length > 0) why.push(`vip group ${g.name}: ${fixed.join(', ')}`);
    }
    return why.length === 0 ? undefined : `${why.join('; ')} changed`;
  }

  async reload(change: ConfigChange): Promise<void> {
    const fingerprint = advertFingerprint(configFingerprint(change.next));
    const applied: Promise<void>[] = [];
    for (const [id, g] of this.#groups) {
      const next = change.next.vipGroups.find((x) => x.id === id);
      if (next === undefined) continue;
      // Under maintenance the priority stays MAINTENANCE_PRIORITY; `maintenance off` applies the new one.
      if (next.priority !== g.config.priority && !this.#maintenance.on)
        applied.push(this.input(id, { kind: 'set-priority', priority: next.priority }));
      if (change.diff.fingerprint !== null)
        applied.push(this.input(id, { kind: 'set-fingerprint', fingerprint }));
      g.config = next;
    }
    const keys = change.next.keys.election;
    if (change.diff.keys.election !== null && keys !== null)
      this.#thread?.setKeys(keyMaterialFromConfig(keys));
    this.#config = change.next;
    await Promise.all(applied);
  }

  status(): unknown {
    const thread = this.#thread;
    const config = this.#config;
    if (thread === undefined || config === undefined) return {};
    return electionStatusView(config, thread, this.#names, this.#maintenance);
  }

  #snapshot() {
    return electionMetricsView(
      this.#config,
      this.#thread?.snapshot(),
      this.#names,
      this.#groups,
      this.#o.vip,
    );
  }
}
