/**
 * Quorum mode's election part (`election.mode: raft`, docs/quorum.md): one Raft voter
 * (failover/raft/) on the main thread, its state in node.state_dir/raft.json. The leader holds
 * every VIP group while its lease lasts and not a moment longer: the lease effect adds the VIPs
 * and announces them, its end removes them. A witness (`node.role: witness`) runs the same part
 * with no VIP groups: it votes and answers, and owns nothing.
 *
 * It answers the questions the other parts ask the election (which groups are ours, who speaks for
 * a service), so the sync, alerts and health parts work as in VRRP mode.
 */
import { randomInt } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import type { Config } from '../../config/index.ts';
import { keyringFromConfig } from '../../core/auth/key-material.ts';
import { RAFT_KEY_PURPOSE } from '../../core/auth/keyring.ts';
import { SenderSession } from '../../core/auth/session.ts';
import { nextSessionId } from '../../core/auth/session-store.ts';
import { DsrError } from '../../core/errors.ts';
import { errorFields, type Logger } from '../../core/log.ts';
import { RepeatLimiter } from '../../core/repeat-limiter.ts';
import type { RaftEffect } from '../../failover/index.ts';
import {
  budgetFor,
  mainClockOriginNs,
  nodeIds,
  RaftNode,
  RaftRunner,
  RaftStorage,
  RaftTransport,
} from '../../failover/index.ts';
import type { AlertsPart } from '../alerts/part.ts';
import { type ConfigChange, touches } from '../change.ts';
import type { DsrMetrics } from '../metrics/index.ts';
import type { DaemonPart, PartContext } from '../part.ts';
import { loadReplaySeeds, ReplayRecorder } from '../replay-record.ts';
import type { VipPart } from '../vip/part.ts';
import { registerTransferCommand, registerUnavailableCommands } from './commands.ts';
import { raftOptions } from './options.ts';
import { QuorumWatch } from './quorum-watch.ts';
import {
  hasQuorum,
  type QuorumViewInput,
  quorumElectionMetrics,
  quorumMetrics,
  quorumStatusView,
  reachable,
} from './views.ts';

/** Where the lease's end goes into the kernel (forwarder/vip-leases.ts); absent on a witness. */
export interface LeaseGuard {
  setVipLeases(vips: readonly string[], untilNs: bigint): void;
}

export interface QuorumPartOptions {
  /** Absent on a witness: it owns no VIP. */
  vip?: VipPart;
  forwarder?: LeaseGuard;
  alerts?: Pick<AlertsPart, 'emit'>;
  metrics?: DsrMetrics;
}

export class QuorumPart implements DaemonPart {
  readonly name = 'election';
  readonly #o: QuorumPartOptions;
  readonly #cleanup: (() => void)[] = [];
  readonly #pending = new Set<Promise<unknown>>();
  readonly #mastershipListeners = new Set<() => void>();
  #config: Config | undefined;
  #log: Logger | undefined;
  #runner: RaftRunner | undefined;
  #transport: RaftTransport | undefined;
  #names = new Map<number, string>();
  #nodeId = 0;
  /** Whether our VIPs are taken: the lease's last effect held one (its end is in the voter's status). */
  #owning = false;
  #leaderChanges = 0;
  /** The last leader this voter knew, for leader_changed's `previous`. */
  #lastLeader: string | null = null;
  /** process.hrtime.bigint() (CLOCK_MONOTONIC, as the XDP program's clock) at performance.now() zero. */
  readonly #clockOriginNs = mainClockOriginNs();
  readonly #guardErrors = new RepeatLimiter(30_000);
  readonly #socketErrors = new RepeatLimiter(30_000);
  readonly #transitions = { master: 0, backup: 0 };

  constructor(options: QuorumPartOptions) {
    this.#o = options;
  }

  async start(ctx: PartContext): Promise<void> {
    const c = ctx.config;
    this.#config = c;
    this.#log = ctx.log;
    const keys = c.keys.election;
    if (c.election.raft === null || keys === null) {
      throw new DsrError('E_PART_START', 'quorum mode needs election.mode: raft, peers and keys.election');
    }
    const ids = nodeIds([c.node.id, ...c.peers.map((p) => p.id)]);
    this.#names = new Map([...ids].map(([name, id]) => [id, name]));
    this.#nodeId = ids.get(c.node.id) as number;
    const storage = RaftStorage.open(c.node.stateDir);
    const node = new RaftNode(raftOptions(c, ids), storage.state);
    const clock = { mono: () => performance.now(), wall: () => Date.now() };
    const transport = new RaftTransport({
      nodeId: this.#nodeId,
      bind: {
        address: c.node.address,
        port: c.election.raft.port,
        family: c.peers[0]?.family === 6 ? 'ipv6' : 'ipv4',
      },
      peers: c.peers.map((p) => ({
        nodeId: ids.get(p.id) as number,
        name: p.id,
        address: p.address,
        port: c.election.raft?.port ?? 0,
      })),
      keyring: keyringFromConfig(keys, RAFT_KEY_PURPOSE),
      // On disk before anything is sent under it (core/auth/session-store.ts).
      session: new SenderSession(
        nextSessionId(c.node.stateDir, 'raft', Date.now(), randomInt(0x10000)),
        Date.now(),
        clock.mono(),
      ),
      electionTimeoutMs: c.election.raft.electionTimeoutMs,
      clock,
      replaySeeds: loadReplaySeeds(c.node.stateDir, 'replay-raft.json', ctx.log),
      budget: budgetFor([c.election.raft.heartbeatIntervalMs]),
      onMessage: (message) => this.#runner?.deliver(message),
      // While a link is down every send fails (ENETUNREACH): log the first, then a reminder.
      onError: (error) => {
        const { log, suppressed } = this.#socketErrors.admit(error.message, performance.now());
        if (log) ctx.log.error({ ...errorFields(error), suppressed }, 'raft socket error');
      },
    });
    this.#transport = transport;
    this.#runner = new RaftRunner(node, storage, {
      now: clock.mono,
      send: (to, message) => transport.send(to, message),
      onEffects: (effects) => this.#onEffects(effects),
      // The log carries no operator commands yet: only the leaders' no-ops.
      onRestore: () => {},
      onCommitted: () => {},
      onFailure: (err) => ctx.fatal(new DsrError('E_INTERNAL', 'the raft voter failed', {}, err)),
    });
    await transport.start();
    this.#runner.start();
    const recorder = new ReplayRecorder(
      c.node.stateDir,
      'replay-raft.json',
      () => transport.replayState(),
      ctx.log,
    );
    recorder.start();
    this.#cleanup.push(() => recorder.stop());
    this.#cleanup.push(registerTransferCommand(ctx.admin, this), registerUnavailableCommands(ctx.admin));
    this.#o.metrics?.setProvider('election', () => quorumElectionMetrics(this.#viewInput()));
    this.#o.metrics?.setProvider('quorum', () => quorumMetrics(this.#viewInput()));
    this.#cleanup.push(() => {
      this.#o.metrics?.setProvider('election', undefined);
      this.#o.metrics?.setProvider('quorum', undefined);
    });
    this.#watchQuorum(c, [...ids.keys()]);
    ctx.log.info(
      {
        voters: [...ids.keys()],
        witnesses: c.peers.filter((p) => p.witness).map((p) => p.id),
        role: c.node.role,
      },
      'raft voter started',
    );
  }

  /** quorum_lost / quorum_regained (quorum-watch.ts), checked once per election timeout. */
  #watchQuorum(c: Config, voters: string[]): void {
    const watch = new QuorumWatch(voters);
    const every = c.election.raft?.electionTimeoutMs ?? 1000;
    const check = (): void => {
      const view = this.#viewInput();
      const heard = [...reachable(view)].map((id) => this.#names.get(id) ?? String(id));
      const event = watch.observe(performance.now(), hasQuorum(view), [c.node.id, ...heard]);
      if (event === null) return;
      const { type, ...fields } = event;
      this.#log?.[type === 'quorum_lost' ? 'error' : 'warn']({ ...fields }, type.replace('_', ' '));
      this.#o.alerts?.emit(type, fields as never);
    };
    // Not before three timeouts: at start nobody has been heard yet.
    let timer: NodeJS.Timeout | undefined;
    const start = setTimeout(() => {
      timer = setInterval(check, every);
    }, every * 3);
    this.#cleanup.push(() => {
      clearTimeout(start);
      clearInterval(timer);
    });
  }

  #onEffects(effects: readonly RaftEffect[]): void {
    for (const effect of effects) {
      if (effect.type === 'leader') {
        this.#leaderChanges += 1;
        const leader = effect.leader === 0 ? null : (this.#names.get(effect.leader) ?? String(effect.leader));
        this.#log?.info(
          { leader, term: effect.term },
          leader === null ? 'raft: no leader' : `raft: ${leader} leads`,
        );
        // The new leader raises it, once per change.
        if (effect.leader === this.#nodeId) {
          const previous = this.#lastLeader ?? undefined;
          this.#o.alerts?.emit('leader_changed', { leader: leader as string, previous, term: effect.term });
        }
        if (leader !== null) this.#lastLeader = leader;
        continue;
      }
      this.#guard(effect.until);
      const held = effect.until !== null;
      if (held !== this.#owning) {
        this.#owning = held;
        this.#setOwnership(held);
      }
    }
  }

  /**
   * The lease's end into the kernel before anything else of the step (docs/quorum.md): the XDP
   * program stops ARP and neighbour answers for the VIPs then, even if this process is stopped or
   * killed. A lease given up ends now (0). Without it (the forwarder not running) the VIPs still
   * go at the lease's end, from this thread.
   */
  #guard(until: number | null): void {
    const guard = this.#o.forwarder;
    if (guard === undefined) return;
    const vips = (this.#config?.vipGroups ?? []).flatMap((g) => g.vips);
    const untilNs = until === null ? 0n : this.#clockOriginNs + BigInt(Math.floor(until * 1e6));
    try {
      guard.setVipLeases(vips, untilNs);
    } catch (err) {
      const { log, suppressed } = this.#guardErrors.admit(String(err), performance.now());
      if (log)
        this.#log?.error({ ...errorFields(err), suppressed }, 'the lease cannot reach the kernel guard');
    }
  }

  /** Every VIP group follows the lease: taken together, given up together. */
  #setOwnership(held: boolean): void {
    const vip = this.#o.vip;
    this.#transitions[held ? 'master' : 'backup'] += 1;
    for (const g of this.#config?.vipGroups ?? []) {
      const log = this.#log?.child({ group: g.name });
      log?.info(
        { reason: held ? 'lease' : 'lease-ended' },
        `VIP group ${g.name}: ${held ? 'master' : 'backup'}`,
      );
      if (vip !== undefined) {
        const done = held ? vip.takeOver(g.name) : vip.release(g.name);
        this.#track(
          done.then((r) => {
            if (!r.ok)
              log?.error({ errors: r.errors }, held ? 'VIP takeover incomplete' : 'VIP release incomplete');
          }),
        );
      }
      const reason = held ? 'lease' : 'lease-ended';
      this.#o.alerts?.emit(held ? 'became_master' : 'became_backup', {
        group: g.name,
        previous: held ? 'backup' : 'master',
        reason,
      });
    }
    for (const listener of this.#mastershipListeners) listener();
  }

  #track(p: Promise<unknown>): void {
    this.#pending.add(p);
    void p.finally(() => this.#pending.delete(p));
  }

  /** Planned handover (`dsrctl failover`): leadership to `target`, its lease after ours ended. */
  transfer(target: number): void {
    const runner = this.#runner;
    if (runner === undefined) throw new DsrError('E_ADMIN_REQUEST', 'the election is not running');
    runner.input({ kind: 'transfer', target });
  }

  get names(): ReadonlyMap<number, string> {
    return this.#names;
  }

  get nodeId(): number {
    return this.#nodeId;
  }

  electionTimeoutMs(): number {
    return this.#config?.election.raft?.electionTimeoutMs ?? 0;
  }

  /** The voter's state now (failover/raft/options.ts RaftStatus), or null while stopped. */
  raftStatus() {
    return this.#runner?.node.status() ?? null;
  }

  // ---- what the other parts ask the election ----

  masterGroups(): string[] {
    return this.#owning ? (this.#config?.vipGroups ?? []).map((g) => g.name) : [];
  }

  isMasterOfAny(): boolean {
    return this.#owning && (this.#config?.vipGroups.length ?? 0) > 0;
  }

  /** The leader speaks for every service: it holds every group. */
  speaksFor(_service: string | null): boolean {
    return this.#owning;
  }

  onMastership(listener: () => void): () => void {
    this.#mastershipListeners.add(listener);
    return () => this.#mastershipListeners.delete(listener);
  }

  async stop(): Promise<void> {
    for (const f of this.#cleanup.splice(0).reverse()) f();
    await this.#handOverBeforeStop();
    this.#runner?.stop();
    this.#runner = undefined;
    await this.#transport?.close();
    this.#transport = undefined;
    // Stopped, we renew nothing: the VIPs go now rather than at the lease's end.
    if (this.#owning) {
      this.#owning = false;
      this.#guard(null);
      this.#setOwnership(false);
    }
    await Promise.allSettled([...this.#pending]);
  }

  /**
   * A leader that stops (SIGTERM: `systemctl stop`, a restart for an upgrade) hands leadership to
   * the director that has every entry, as `dsrctl failover` does, so the successor leads after an
   * election round-trip rather than after the voters' promise (T) and a timeout: VRRP's priority-0
   * resign, in Raft's terms (thesis §3.10). Bounded by one election timeout; if nobody took over by
   * then, the stop goes on and the others elect after T.
   */
  async #handOverBeforeStop(): Promise<void> {
    const runner = this.#runner;
    const status = runner?.node.status();
    if (runner === undefined || status === undefined || status.role !== 'leader') return;
    const target = status.peers
      .filter((p) => !p.witness && p.match !== null)
      .sort((a, b) => (b.match ?? 0) - (a.match ?? 0) || (b.lastHeard ?? 0) - (a.lastHeard ?? 0))[0];
    if (target === undefined) return;
    const name = this.#names.get(target.id) ?? String(target.id);
    try {
      runner.input({ kind: 'transfer', target: target.id });
    } catch (err) {
      this.#log?.warn(errorFields(err), 'stopping: no leadership transfer');
      return;
    }
    const deadline = performance.now() + this.electionTimeoutMs();
    while (performance.now() < deadline && runner.node.status().leader !== target.id) {
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const moved = runner.node.status().leader === target.id;
    this.#log?.[moved ? 'info' : 'warn'](
      { to: name },
      moved ? `stopping: leadership handed to ${name}` : `stopping: ${name} did not take leadership in time`,
    );
  }

  /** Voters, keys and timing are fixed for a run: a change of them needs a restart. */
  affectedBy(change: ConfigChange): boolean {
    return touches(change, 'peers', 'election', 'keys', 'node', 'vipGroups');
  }

  cannotReload(change: ConfigChange): string | undefined {
    const d = change.diff;
    const why: string[] = [];
    if (d.peers.added.length + d.peers.removed.length + d.peers.changed.length > 0) why.push('peers');
    if (d.election.length > 0) why.push('election');
    if (d.keys.election !== null) why.push('keys.election (quorum mode rotates keys with a restart)');
    if (d.node.some((f) => f !== 'priority')) why.push('node');
    if (d.vipGroups.added.length + d.vipGroups.removed.length > 0) why.push('VIP groups added or removed');
    return why.length === 0 ? undefined : `${why.join('; ')} changed`;
  }

  reload(change: ConfigChange): void {
    this.#config = change.next;
  }

  status(): unknown {
    return this.#config === undefined ? {} : quorumStatusView(this.#viewInput());
  }

  #viewInput(): QuorumViewInput {
    return {
      config: this.#config,
      status: this.raftStatus(),
      transport: this.#transport?.stats() ?? null,
      names: this.#names,
      now: performance.now(),
      leaderChanges: this.#leaderChanges,
      transitions: { ...this.#transitions },
    };
  }
}
