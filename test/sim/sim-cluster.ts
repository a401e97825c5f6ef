/**
 * A discrete-event simulation of directors running the election over an in-memory network.
 * Time is simulated (ms, may be fractional); at each instant, in this order: scheduled actions,
 * packet deliveries, then ticks of the nodes whose deadline has come.
 */
import { Keyring } from '../../core/auth/keyring.ts';
import type { ReplayGuardOptions } from '../../core/auth/replay-guard.ts';
import type { Rng } from '../../lab/rng.ts';
import { type LinkPolicy, SimNetwork } from './sim-network.ts';
import { type NodeEvent, type NodeSpec, SimNode } from './sim-node.ts';

export const SIM_KEYRING = new Keyring([{ id: 1, secret: Buffer.alloc(32, 0x3c) }], 1);

export interface ClusterOptions {
  readonly nodes: readonly NodeSpec[];
  readonly rng: Rng;
  readonly network: LinkPolicy;
  readonly guard?: ReplayGuardOptions;
  readonly onEvent?: (now: number, node: SimNode, event: NodeEvent) => void;
  /** Called after every simulated instant, for invariant checks. */
  readonly observe?: (now: number, cluster: SimCluster) => void;
}

interface Action {
  readonly at: number;
  readonly order: number;
  readonly run: () => void;
}

export class SimCluster {
  readonly network: SimNetwork;
  readonly nodes: SimNode[];
  now = 0;
  readonly #byName = new Map<string, SimNode>();
  readonly #byId = new Map<number, SimNode>();
  readonly #actions: Action[] = [];
  readonly #observe: ClusterOptions['observe'];
  #order = 0;

  constructor(options: ClusterOptions) {
    this.network = new SimNetwork(options.rng, options.network);
    this.#observe = options.observe;
    const ids = options.nodes.map((n) => n.nodeId);
    this.nodes = options.nodes.map(
      (spec) =>
        new SimNode(spec, {
          keyring: SIM_KEYRING,
          guard: options.guard ?? {},
          random: () => options.rng.next(),
          peersOf: (s) => ids.filter((id) => id !== s.nodeId),
          allPeerIds: (self) => ids.filter((id) => id !== self.spec.nodeId),
          transmit: (from, toId, bytes) =>
            this.network.send(this.now, from.name, this.#byId.get(toId)!.name, bytes),
          onEvent: (node, event) => options.onEvent?.(this.now, node, event),
        }),
    );
    for (const node of this.nodes) {
      this.#byName.set(node.name, node);
      this.#byId.set(node.spec.nodeId, node);
    }
  }

  node(name: string): SimNode {
    const node = this.#byName.get(name);
    if (node === undefined) throw new Error(`no node named ${name}`);
    return node;
  }

  nameOf(nodeId: number): string {
    return this.#byId.get(nodeId)?.name ?? `#${nodeId}`;
  }

  at(time: number, run: () => void): void {
    this.#actions.push({ at: time, order: this.#order++, run });
  }

  masters(): SimNode[] {
    return this.nodes.filter((n) => n.life !== 'down' && n.group.state === 'master');
  }

  runUntil(end: number): void {
    let spins = 0;
    for (;;) {
      const next = this.#nextTime();
      if (next === null || next > end) break;
      spins = next > this.now ? 0 : spins + 1;
      if (spins > 10_000) throw new Error(`simulation makes no progress at t=${this.now}`);
      this.now = Math.max(this.now, next);
      this.#runActions();
      for (const packet of this.network.takeDue(this.now)) this.node(packet.to).receive(this.now, packet);
      for (const node of this.nodes) {
        const deadline = node.deadline();
        if (deadline !== null && deadline <= this.now) node.tick(this.now);
      }
      this.#observe?.(this.now, this);
    }
    this.now = end;
  }

  #nextTime(): number | null {
    const times: number[] = [];
    for (const a of this.#actions) times.push(a.at);
    const net = this.network.nextTime();
    if (net !== null) times.push(net);
    for (const node of this.nodes) {
      const d = node.deadline();
      if (d !== null) times.push(d);
    }
    return times.length === 0 ? null : Math.max(this.now, Math.min(...times));
  }

  #runActions(): void {
    const due = this.#actions
      .filter((a) => a.at <= this.now)
      .sort((a, b) => a.at - b.at || a.order - b.order);
    if (due.length === 0) return;
    const remaining = this.#actions.filter((a) => a.at > this.now);
    this.#actions.length = 0;
    this.#actions.push(...remaining);
    for (const action of due) action.run();
  }
}
