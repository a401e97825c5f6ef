/**
 * Three real dsrd voters in quorum mode (`election.mode: raft`, docs/quorum.md) in a lab, in front
 * of the lab's real servers: two directors and a witness (default), or three directors. It writes
 * the configs (the pair's director config, lab/pair/config.ts, with the voters as peers), starts
 * and stops the daemons, polls their status through the admin socket, reads who holds the VIP,
 * and tears everything down. The directors pin on a bpffs of their own under /run.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DaemonStatus } from '../../admin/catalogue/status.ts';
import { type ConfigInput, serializeConfigInput } from '../../config/index.ts';
import { daemonStatus, holdsVip, LabDaemons } from '../director-host.ts';
import { type AlertTargetInput, pairDirectorConfig, UDP_ECHO } from '../pair/config.ts';
import type { LabProcess } from '../process.ts';
import { teardownSteps } from '../teardown.ts';
import { createLab, type Host, type Lab } from '../topology.ts';
import { until as waitUntil } from '../wait.ts';

export interface Voter {
  readonly host: Host;
  readonly witness: boolean;
  readonly sock: string;
  readonly configPath: string;
  proc: LabProcess | null;
}

export interface QuorumLabOptions {
  /** The third voter is a witness (default) or a director. */
  witness?: boolean;
  /** election.raft; default dsrd's. */
  raft?: NonNullable<ConfigInput['election']>['raft'];
  /** Alert targets of every voter (e.g. a webhook receiver on the client); default none. */
  alertTargets?: (q: QuorumLab) => readonly AlertTargetInput[];
}

/** The status part of the quorum mode's election (daemon/quorum/views.ts). */
export interface QuorumView {
  role: string;
  term: number;
  leader: string | null;
  leaseLeftMs: number;
  quorum: boolean;
  voters: { name: string; witness: boolean; reachable: boolean }[];
  drops: Record<string, number>;
}

export function quorumView(s: DaemonStatus): QuorumView | undefined {
  const status = s.parts.find((p) => p.name === 'election')?.status as { quorum?: QuorumView } | undefined;
  return status?.quorum;
}

export class QuorumLab {
  readonly lab: Lab;
  readonly voters: readonly [Voter, Voter, Voter];
  readonly vip: string;
  readonly dir: string;
  readonly #daemons: LabDaemons;
  readonly #opts: QuorumLabOptions;

  private constructor(lab: Lab, opts: QuorumLabOptions) {
    this.lab = lab;
    this.#opts = opts;
    this.#daemons = new LabDaemons(lab, 'dsr-lab-quorum-');
    this.dir = this.#daemons.dir;
    this.vip = lab.vips4[0] as string;
    const voter = (host: Host, witness: boolean): Voter => ({
      host,
      witness,
      sock: join(this.dir, `${host.name}.sock`),
      configPath: join(this.dir, `${host.name}.yaml`),
      proc: null,
    });
    const [a, b, c] = lab.directors as [Host, Host, Host];
    this.voters = [voter(a, false), voter(b, false), voter(c, opts.witness !== false)];
  }

  static async create(opts: QuorumLabOptions = {}): Promise<QuorumLab> {
    const lab = await createLab({ clients: 1, directors: 3, realServers: 2 });
    const q = new QuorumLab(lab, opts);
    try {
      await q.#daemons.mount();
      writeFileSync(join(q.dir, 'election.key'), randomBytes(32), { mode: 0o600 });
      q.#writeConfigs();
      return q;
    } catch (e) {
      await q.destroy();
      throw e;
    }
  }

  /** The voters that can hold the VIP. */
  get directors(): Voter[] {
    return this.voters.filter((v) => !v.witness);
  }

  #writeConfigs(): void {
    const election = { mode: 'raft' as const, raft: this.#opts.raft };
    for (const me of this.voters) {
      const peers = this.voters
        .filter((v) => v !== me)
        .map((v) => ({ id: v.host.name, address: v.host.ipv4, witness: v.witness }));
      const common = {
        keyFile: join(this.dir, 'election.key'),
        alertsDir: join(this.dir, `alerts-${me.host.name}`),
        stateDir: join(this.dir, `state-${me.host.name}`),
        adminSocket: me.sock,
      };
      const director = pairDirectorConfig({
        self: { id: me.host.name, address: me.host.ipv4, priority: 100 },
        peer: peers[0] as { id: string; address: string },
        vip: this.vip,
        advertMs: 100,
        services: [UDP_ECHO],
        alertTargets: this.#opts.alertTargets?.(this),
        reals: this.lab.realServers.map((h) => h.ipv4),
        pinDir: this.#daemons.pinDir(me.host.name),
        ...common,
      });
      const doc: ConfigInput = me.witness
        ? {
            node: { id: me.host.name, address: me.host.ipv4, role: 'witness', state_dir: common.stateDir },
            peers,
            election,
            keys: director.keys,
            alerts: director.alerts,
            admin: director.admin,
            metrics: { enabled: false },
          }
        : { ...director, peers, election };
      writeFileSync(me.configPath, serializeConfigInput(doc));
    }
  }

  start(v: Voter): Promise<LabProcess> {
    return this.#daemons.start(v);
  }

  async startAll(): Promise<void> {
    await Promise.all(this.voters.map((v) => this.start(v)));
  }

  status(v: Voter): Promise<DaemonStatus | null> {
    return daemonStatus(v.sock);
  }

  holdsVip(v: Voter): Promise<boolean> {
    return holdsVip(this.lab, v.host, this.vip);
  }

  /** The directors holding the VIP now. */
  async holders(): Promise<string[]> {
    const held = await Promise.all(this.directors.map((d) => this.holdsVip(d)));
    return this.directors.filter((_, i) => held[i]).map((d) => d.host.name);
  }

  /**
   * Waits until exactly one director, other than `not`, is master and holds the VIP alone; returns
   * it. With `alone: false`, a director that cannot answer (stopped, killed) may still have the
   * address: only the masters that answer count (what ARP says is the lab ARP probe's to tell).
   */
  async leader(limitMs = 15_000, not?: Voter, alone = true): Promise<Voter> {
    let found: Voter | undefined;
    let seen = '';
    await waitUntil(
      alone ? 'one director master, holding the VIP alone' : 'one answering director master, holding the VIP',
      async () => {
        const states = await Promise.all(this.directors.map((d) => this.status(d)));
        const masters = this.directors.filter((_, i) => states[i]?.groups[0]?.role === 'master');
        const holders = await this.holders();
        seen = `masters ${masters.map((m) => m.host.name)} holders ${holders}`;
        found = masters.length === 1 && masters[0] !== not ? masters[0] : undefined;
        if (found === undefined) return false;
        const name = found.host.name;
        return alone ? holders.length === 1 && holders[0] === name : holders.includes(name);
      },
      { limitMs, everyMs: 20, detail: () => seen },
    );
    return found as Voter;
  }

  async destroy(): Promise<void> {
    await teardownSteps(this.#daemons.teardown());
  }
}
