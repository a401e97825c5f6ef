/**
 * A failover drill, run by the daemon of the director where `dsrctl drill` runs (the master of the
 * group). It needs no socket to the other daemon: everything it learns about the peer comes through
 * what the protocols already carry, or from the wire.
 *
 *   1. preflight (drill-preflight.ts): nothing changes unless every check passes;
 *   2. census: our live flows, and those with more than `margin` left to live;
 *   3. planned handover to the peer through the election (make-before-break);
 *   4. verification: the peer's adverts say it is master; our VIPs are released; the peer's
 *      gratuitous ARP / unsolicited NA for every VIP was seen on the wire, from the peer's MAC; a
 *      TCP connection from here through the VIP is answered (only the new master can forward it);
 *      the peer's tables, pulled in bulk over the sync, hold at least the flows the census counted;
 *   5. with --back: release the preemption hold the handover left, so this director (which
 *      outranks the peer, checked in preflight) preempts it again, make-before-break; then verify
 *      that we hold and announced the VIPs, the peer stepped down, we forward, and our table holds
 *      at least the peer's long-lived flows.
 *
 * The flow tolerance: entries carry their remaining lifetime, and a standby's copy of a flow lives
 * at least as long as the original (the sync gives copies `copyMargin` more: sync/table.ts).
 * A flow with more than `horizon` left at the census is therefore still in the other director's
 * table when it is counted there, as long as the count comes within `horizon` of the census
 * (enforced). Those flows must all be there: the check is new ≥ that count (new flows opened
 * meanwhile only add; a flow that closed meanwhile stays in its closing state). Coming back, the
 * peer's table holds its copies of our flows, which outlive ours by up to `copyMargin`: what must
 * be here again is what the peer holds with more than `horizon` + `copyMargin` left.
 */
import type {
  DrillCheck,
  DrillLeg,
  DrillPhase,
  DrillReport,
  TableTally,
  TimelineEntry,
} from '../../admin/catalogue/drill.ts';
import { DsrError } from '../../core/errors.ts';
import { passed, preflightChecks } from './preflight.ts';
import type { AnnouncementWatch, DrillDeps, DrillRequest } from './types.ts';

export interface DrillTiming {
  /** A leg's flows must be counted on the other side within this of the census. */
  horizonMs: number;
  pollMs: number;
  /** For the peer's adverts to show the move, our VIPs to go or come, our frames to go out. */
  settleMs: number;
  /** For the peer's announcements to be seen after the handover completed. */
  announceMs: number;
  probeTimeoutMs: number;
  probeAttempts: number;
  /** For the peer's bulk answer. */
  bulkMs: number;
  /** For our forwarder's counters to move after the hand back. */
  packetsMs: number;
}

export const DRILL_TIMING: DrillTiming = {
  horizonMs: 60_000,
  pollMs: 20,
  settleMs: 5_000,
  announceMs: 3_000,
  probeTimeoutMs: 2_000,
  probeAttempts: 3,
  bulkMs: 30_000,
  packetsMs: 3_000,
};

const messageOf = (err: unknown): string => (err instanceof Error ? err.message : String(err));
const sec = (ms: number): string => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
const holdsAll = (held: readonly string[], vips: readonly string[]): boolean =>
  vips.every((v) => held.some((h) => h === v || h.startsWith(`${v}/`)));

export function runDrill(deps: DrillDeps, req: DrillRequest, timing = DRILL_TIMING): Promise<DrillReport> {
  return new DrillRun(deps, req, timing).run();
}

class DrillRun {
  readonly #d: DrillDeps;
  readonly #r: DrillRequest;
  readonly #t: DrillTiming;
  readonly #t0: number;
  readonly #wall0: number;
  readonly #report: DrillReport;
  readonly #cleanup: (() => void)[] = [];
  #phase: DrillPhase = 'preflight';
  #failure: string | null = null;

  constructor(deps: DrillDeps, req: DrillRequest, timing: DrillTiming) {
    this.#d = deps;
    this.#r = req;
    this.#t = timing;
    this.#t0 = deps.clock.now();
    this.#wall0 = deps.clock.wall();
    this.#report = {
      group: req.setup.group,
      director: deps.election.self,
      peer: req.peer,
      back: req.back,
      ok: false,
      stoppedAt: 'preflight',
      startedAt: new Date(this.#wall0).toISOString(),
      durationMs: 0,
      preflight: [],
      legs: [],
      flows: {
        marginMs: timing.horizonMs,
        before: null,
        peer: null,
        after: null,
      },
      timeline: [],
      summary: '',
    };
  }

  async run(): Promise<DrillReport> {
    const { group, peer, back } = this.#report;
    this.#step(`drill of ${group}: ${this.#report.director} → ${peer}${back ? ' and back' : ''}`);
    try {
      if (!this.#preflight()) return this.#finish();
      this.#phase = 'handover';
      const moved = await this.#handOver();
      if (moved && back) {
        this.#phase = 'hand-back';
        await this.#takeBack();
      }
      if (this.#failure === null) this.#phase = 'done';
    } catch (err) {
      this.#fail(messageOf(err));
      this.#step(`stopped: ${messageOf(err)}`);
    } finally {
      for (const f of this.#cleanup.splice(0).reverse()) f();
    }
    return this.#finish();
  }

  #preflight(): boolean {
    const { election, sync, forwarder, vips } = this.#d;
    const s = this.#r.setup;
    const checks = preflightChecks({
      self: election.self,
      group: election.group(s.group),
      peer: this.#r.peer,
      back: this.#r.back,
      vips: s.vips,
      heldVips: vips.held(s.group),
      forwarderAttached: forwarder.attached(),
      sync: { enabled: sync.enabled(), lagLimitMs: sync.lagLimitMs(), peer: sync.peer(this.#r.peer) },
    });
    this.#report.preflight = checks;
    const failed = checks.filter((c) => c.status === 'fail');
    if (failed.length > 0) {
      this.#fail(`preflight: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}`);
      this.#step(`preflight failed, nothing changed: ${failed.map((c) => c.name).join(', ')}`);
      return false;
    }
    this.#step(`preflight passed (${checks.length} checks)`);
    return true;
  }

  /** Leg one: census, handover, verification. True when the group moved to the peer. */
  async #handOver(): Promise<boolean> {
    const { election, sync, forwarder, net, clock } = this.#d;
    const { setup, peer } = this.#r;
    const margin = this.#report.flows.marginMs;
    const before = await forwarder.census(margin);
    const censusAt = clock.now();
    this.#report.flows.before = before;
    this.#step(`flows here: ${before.live} live, ${before.longLived} with more than ${sec(margin)} left`);

    let watch: AnnouncementWatch | null = null;
    let watchError = '';
    const unwatch = () => {
      watch?.close();
      watch = null;
    };
    try {
      watch = net.watchAnnouncements(setup.ifname, setup.vips);
      this.#cleanup.push(unwatch);
    } catch (err) {
      watchError = messageOf(err);
    }

    const leg: DrillLeg = {
      from: election.self,
      to: peer,
      how: 'handover',
      moved: false,
      outcome: '',
      ms: null,
      checks: [],
    };
    this.#report.legs.push(leg);
    this.#step(`handover of ${setup.group} to ${peer} requested`);
    try {
      const r = await election.handOver(setup.group, peer, () =>
        this.#step(`handover started: ${peer} is taking over`),
      );
      leg.outcome = r.outcome;
      leg.ms = r.ms;
      leg.moved = r.ok;
    } catch (err) {
      leg.outcome = messageOf(err);
    }
    if (!leg.moved) {
      this.#fail(`handover: ${leg.outcome}`);
      this.#step(`handover failed: ${leg.outcome}; ${setup.group} stays here`);
      return false;
    }
    this.#step(`handover completed in ${leg.ms} ms: ${peer} is master`);
    // The peer's whole tables, pulled and counted while the other checks run.
    let counted: TableTally | string | undefined;
    if (sync.enabled()) {
      sync.countTables(peer, margin + sync.copyMarginMs(), this.#t.bulkMs).then(
        (t) => {
          counted = t;
        },
        (err: unknown) => {
          counted = messageOf(err);
        },
      );
    }

    this.#phase = 'verify';
    const checks = leg.checks;
    checks.push(await this.#peerIsMaster());
    checks.push(await this.#released());
    checks.push(await this.#announcedByPeer(watch, watchError));
    unwatch();
    checks.push(await this.#forwardsThroughVip());
    checks.push(await this.#flowsAtPeer(() => counted, before.longLived, censusAt));
    this.#judge(checks, 'verify');
    return true;
  }

  async #peerIsMaster(): Promise<DrillCheck> {
    const { election } = this.#d;
    const { setup, peer } = this.#r;
    const ok = await this.#until(() => {
      const g = election.group(setup.group);
      return g.role === 'backup' && g.master === peer;
    }, this.#t.settleMs);
    const g = election.group(setup.group);
    return this.#check(
      'peer is master',
      ok,
      `here ${g.role}, master ${g.master ?? 'none'} (from its adverts)`,
    );
  }

  async #released(): Promise<DrillCheck> {
    const { vips } = this.#d;
    const group = this.#r.setup.group;
    const ok = await this.#until(() => vips.held(group).length === 0, this.#t.settleMs);
    if (ok) this.#step('VIPs released here');
    const held = vips.held(group);
    return this.#check('VIPs released here', ok, ok ? 'none held' : `still held: ${held.join(', ')}`);
  }

  async #announcedByPeer(watch: AnnouncementWatch | null, watchError: string): Promise<DrillCheck> {
    const name = 'peer announced the VIPs';
    const { setup, peer } = this.#r;
    if (watch === null) return { name, status: 'warn', detail: `cannot watch the wire: ${watchError}` };
    const all = () => setup.vips.every((v) => watch.seen().some((a) => a.vip === v));
    const ok = await this.#until(all, this.#t.announceMs);
    const peerMac = await this.#d.net.macOf(setup.ifname, setup.peerAddress).catch(() => null);
    const firsts = setup.vips.map((v) => watch.seen().find((a) => a.vip === v));
    for (const a of firsts) {
      if (a !== undefined) this.#step(`${a.vip} announced by ${a.mac}`, a.atMs);
    }
    if (!ok) {
      const missing = setup.vips.filter((_, i) => firsts[i] === undefined);
      return this.#check(name, false, `no announcement seen for ${missing.join(', ')}`);
    }
    const foreign = firsts.filter((a) => peerMac !== null && a?.mac !== peerMac);
    if (foreign.length > 0) {
      const who = foreign.map((a) => `${a?.vip} by ${a?.mac}`).join(', ');
      return this.#check(name, false, `announced by another host than ${peer} (${peerMac}): ${who}`);
    }
    const by = peerMac === null ? `${firsts[0]?.mac} (${peer}'s MAC is not in our neighbour table)` : peerMac;
    return this.#check(name, true, `gratuitous ARP / NA for ${setup.vips.join(', ')} from ${by}`);
  }

  async #forwardsThroughVip(): Promise<DrillCheck> {
    const name = 'forwards through the VIP';
    const { setup, peer } = this.#r;
    const p = setup.probe;
    if (p === null) {
      return { name, status: 'warn', detail: 'no TCP service with a port in this group to connect to' };
    }
    let last = { ok: false, ms: 0, error: 'not tried' } as { ok: boolean; ms: number; error?: string };
    const where = `${p.vip}:${p.port} (${p.service})`;
    for (let i = 0; i < this.#t.probeAttempts && !last.ok; i++) {
      this.#checkAborted();
      last = await this.#d.net.probeTcp(p.vip, p.port, this.#t.probeTimeoutMs);
      if (!last.ok) this.#step(`connection ${i + 1} to ${where} failed: ${last.error}`);
    }
    if (last.ok) this.#step(`connected to ${where} through ${peer} in ${Math.round(last.ms)} ms`);
    return this.#check(
      name,
      last.ok,
      last.ok ? `connected to ${where} from here` : `cannot connect to ${where}: ${last.error}`,
    );
  }

  async #flowsAtPeer(
    counted: () => TableTally | string | undefined,
    mustHave: number,
    censusAt: number,
  ): Promise<DrillCheck> {
    const name = 'flows carried over';
    const peer = this.#r.peer;
    if (!this.#d.sync.enabled()) return { name, status: 'warn', detail: 'sync disabled' };
    await this.#until(() => counted() !== undefined, this.#t.bulkMs + this.#t.pollMs);
    const t = counted();
    if (t === undefined || typeof t === 'string') {
      return this.#check(
        name,
        false,
        `${peer}'s tables did not arrive in ${sec(this.#t.bulkMs)} (${t ?? 'no answer'})`,
      );
    }
    this.#report.flows.peer = t;
    const took = this.#d.clock.now() - censusAt;
    this.#step(`${peer}'s tables pulled: ${t.conns} flows, ${t.persist} persistence entries`);
    if (took > this.#t.horizonMs) {
      return this.#check(
        name,
        false,
        `counted ${sec(took)} after the census, past the ${sec(this.#t.horizonMs)} horizon`,
      );
    }
    return this.#check(
      name,
      t.conns >= mustHave,
      `${peer} holds ${t.conns} flows; ${mustHave} long-lived flows here had to be there`,
    );
  }

  /** Leg two: our own preemption once the hold is released, then verification. */
  async #takeBack(): Promise<void> {
    const { election, vips, forwarder, clock } = this.#d;
    const { setup, peer } = this.#r;
    const g0 = election.group(setup.group);
    const leg: DrillLeg = {
      from: peer,
      to: election.self,
      how: 'preemption',
      moved: false,
      outcome: '',
      ms: null,
      checks: [],
    };
    this.#report.legs.push(leg);
    const frames0 = vips.framesSent(setup.group);
    const packets0 = forwarder.forwardedPackets();
    const started = clock.now();
    this.#step('hand back: preemption hold released');
    await election.releaseHold(setup.group);
    // Preemption waits for our sync (a bulk from the peer), then preempt_delay, then master-down.
    const limit = this.#t.bulkMs + g0.preemptDelayMs + 4 * g0.masterDownIntervalMs;
    leg.moved = await this.#until(() => election.group(setup.group).role === 'master', limit);
    leg.ms = leg.moved ? Math.round(clock.now() - started) : null;
    leg.outcome = leg.moved ? 'completed' : `still ${election.group(setup.group).role} after ${sec(limit)}`;
    if (!leg.moved) {
      this.#fail(`hand back: ${leg.outcome}`);
      this.#step(`hand back failed: ${leg.outcome}; ${setup.group} stays on ${peer}`);
      return;
    }
    this.#step(`master again after ${leg.ms} ms (preempted ${peer})`);
    this.#phase = 'verify-back';
    const checks = leg.checks;
    const held = await this.#until(() => holdsAll(vips.held(setup.group), setup.vips), this.#t.settleMs);
    checks.push(this.#check('VIPs held here', held, vips.held(setup.group).join(', ') || 'none'));
    const sent = await this.#until(() => vips.framesSent(setup.group) > frames0, this.#t.settleMs);
    checks.push(
      this.#check(
        'VIPs announced',
        sent,
        `${vips.framesSent(setup.group) - frames0} announcement frames sent`,
      ),
    );
    const down = await this.#until(() => {
      const p = election.group(setup.group).peers.find((x) => x.name === peer);
      return p?.state === 'backup';
    }, this.#t.settleMs);
    checks.push(
      this.#check('peer stepped down', down, down ? `${peer} is backup (its adverts)` : `${peer} did not`),
    );
    checks.push(await this.#forwardsHere(packets0));
    checks.push(await this.#flowsBack());
    this.#judge(checks, 'verify-back');
  }

  async #forwardsHere(packets0: number): Promise<DrillCheck> {
    const name = 'forwards here';
    const { forwarder } = this.#d;
    if (!forwarder.attached()) return this.#check(name, false, 'the XDP program is not attached');
    const moved = await this.#until(() => forwarder.forwardedPackets() > packets0, this.#t.packetsMs);
    const n = forwarder.forwardedPackets() - packets0;
    if (moved) this.#step(`forwarding here: ${n} packets since the hand back began`);
    return moved
      ? this.#check(name, true, `${n} packets forwarded since the hand back began`)
      : {
          name,
          status: 'warn',
          detail: `attached, but no packet forwarded in ${sec(this.#t.packetsMs)} (no traffic?)`,
        };
  }

  async #flowsBack(): Promise<DrillCheck> {
    const name = 'flows carried back';
    const t = this.#report.flows.peer;
    if (t === null) return this.#check(name, false, "the peer's tables were never counted");
    const after = await this.#d.forwarder.census(this.#report.flows.marginMs);
    this.#report.flows.after = after;
    this.#step(`flows here: ${after.live} live`);
    return this.#check(
      name,
      after.live >= t.longLived,
      `${after.live} flows here; ${t.longLived} flows of ${this.#r.peer} with more than ${sec(this.#report.flows.marginMs + this.#d.sync.copyMarginMs())} left had to be here`,
    );
  }

  // ---- helpers ----

  #check(name: string, ok: boolean, detail: string): DrillCheck {
    return { name, status: ok ? 'pass' : 'fail', detail };
  }

  #judge(checks: readonly DrillCheck[], phase: DrillPhase): void {
    const failed = checks.filter((c) => c.status === 'fail');
    if (failed.length === 0) return;
    this.#fail(`${phase}: ${failed.map((c) => `${c.name} (${c.detail})`).join('; ')}`);
  }

  #fail(why: string): void {
    if (this.#failure === null) {
      this.#failure = why;
      this.#report.stoppedAt = this.#phase;
    }
  }

  #checkAborted(): void {
    if (this.#r.signal?.aborted === true) {
      throw new DsrError('E_DRILL', 'aborted: the caller went away or the daemon is stopping');
    }
  }

  /** Polls `pred` until it holds (true) or `limitMs` passed (false). */
  async #until(pred: () => boolean, limitMs: number): Promise<boolean> {
    const end = this.#d.clock.now() + limitMs;
    for (;;) {
      this.#checkAborted();
      if (pred()) return true;
      if (this.#d.clock.now() >= end) return false;
      await this.#d.clock.sleep(this.#t.pollMs);
    }
  }

  #step(step: string, atMono = this.#d.clock.now()): void {
    const ms = Math.round(atMono - this.#t0);
    const entry: TimelineEntry = { at: new Date(this.#wall0 + ms).toISOString(), ms, step };
    this.#report.timeline.push(entry);
    this.#r.onStep?.(entry);
  }

  #finish(): DrillReport {
    const r = this.#report;
    if (this.#failure === null) r.stoppedAt = 'done';
    r.ok = this.#failure === null && passed(r.preflight) && r.legs.every((l) => l.moved && passed(l.checks));
    r.durationMs = Math.round(this.#d.clock.now() - this.#t0);
    r.timeline.sort((a, b) => a.ms - b.ms);
    r.summary = r.ok ? `PASS: ${this.#story()}` : `FAIL: ${this.#failure ?? 'a check failed'}`;
    this.#step(r.ok ? 'drill passed' : 'drill FAILED');
    return r;
  }

  #story(): string {
    const r = this.#report;
    const legs = r.legs.map((l) => `→ ${l.to} (${l.how}, ${l.ms} ms)`).join(' ');
    const f = r.flows;
    const flows =
      f.before === null
        ? ''
        : `; flows: ${f.before.live} here, ${f.peer?.conns ?? '?'} on ${r.peer}${f.after === null ? '' : `, ${f.after.live} back here`}`;
    const warns = [...r.preflight, ...r.legs.flatMap((l) => l.checks)].filter((c) => c.status === 'warn');
    const w = warns.length === 0 ? '' : `; not judged: ${warns.map((c) => c.name).join(', ')}`;
    return `${r.group} ${r.director} ${legs}${flows}${w}`;
  }
}
