/**
 * A deterministic simulation of Raft voters (failover/raft/node.ts) on a faulty network, with an
 * ownership checker: at no instant of real time may two voters hold a lease, and every log holder
 * applies the same entries in the same order. One seed, one schedule: loss, duplication,
 * reordering and late delivery, partitions (symmetric and one-way), crashes with restarts from the
 * persisted state, pauses (SIGSTOP), clocks that drift within the bound the lease assumes, then a
 * heal after which a leader must hold the lease and commit again.
 *
 * A voter's lease is taken to end at the `until` it last announced, also when it crashed or is
 * paused: the kernel, not the daemon, is what ends it (the VIPs' deadline in a BPF map).
 */
import {
  DEFAULT_MAX_DRIFT_RATIO,
  type Entry,
  type HardState,
  type RaftInput,
  type RaftMessage,
  RaftNode,
  type RaftOptions,
  type Snapshot,
} from '../../failover/index.ts';
import { seededRng } from '../rng.ts';

export interface ScheduleResult {
  readonly seed: number;
  readonly topology: string;
  readonly violations: string[];
  /** A leader held the lease at the end and the last proposal reached every log holder. */
  readonly live: boolean;
  readonly events: number;
  readonly leaseChanges: number;
  readonly transfers: number;
  readonly committed: number;
}

const TOPOLOGIES = [
  { name: 'three directors', voters: [1, 2, 3], witnesses: [] as number[] },
  { name: 'pair and witness', voters: [1, 2, 3], witnesses: [3] },
  { name: 'five, one witness', voters: [1, 2, 3, 4, 5], witnesses: [5] },
];

const FAULT_END_MS = 1_500;
const HEAL_MS = 1_000;

interface Storage {
  hardState: HardState;
  snapshot: Snapshot | null;
  entries: Entry[];
}

interface SimNode {
  readonly id: number;
  readonly offset: number;
  readonly rate: number;
  raft: RaftNode | null;
  storage: Storage;
  paused: boolean;
  pending: RaftMessage[];
  timer: number;
  lastLocal: number;
  /** The lease's end as the kernel enforces it: it outlives a crash of the daemon. */
  leaseUntil: number | null;
  /** The lease as this incarnation of the daemon last announced it. */
  announced: number | null;
  applied: { index: number; hash: number };
  sinceSnapshot: number;
}

type Event =
  | { kind: 'deliver'; to: number; message: RaftMessage }
  | { kind: 'tick'; node: number; timer: number }
  | { kind: 'fault'; run: () => void };

class Queue {
  #items: { at: number; seq: number; event: Event }[] = [];
  #seq = 0;
  push(at: number, event: Event): void {
    const items = this.#items;
    items.push({ at, seq: this.#seq++, event });
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(items[i], items[parent])) break;
      [items[i], items[parent]] = [items[parent] as never, items[i] as never];
      i = parent;
    }
  }
  pop(): { at: number; event: Event } | undefined {
    const items = this.#items;
    const top = items[0];
    const last = items.pop();
    if (items.length > 0 && last !== undefined) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && before(items[l], items[m])) m = l;
        if (r < items.length && before(items[r], items[m])) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m] as never, items[i] as never];
        i = m;
      }
    }
    return top;
  }
}

function before(
  a: { at: number; seq: number } | undefined,
  b: { at: number; seq: number } | undefined,
): boolean {
  if (a === undefined || b === undefined) return false;
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

function mix(hash: number, entry: Entry): number {
  let h = Math.imul(hash ^ entry.term, 0x01000193) >>> 0;
  for (const byte of entry.data) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return Math.imul(h ^ entry.index, 0x01000193) >>> 0;
}

function encodeState(index: number, hash: number): Uint8Array {
  const data = new Uint8Array(8);
  new DataView(data.buffer).setUint32(0, index);
  new DataView(data.buffer).setUint32(4, hash);
  return data;
}

function decodeState(data: Uint8Array): { index: number; hash: number } {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  return data.byteLength === 8
    ? { index: view.getUint32(0), hash: view.getUint32(4) }
    : { index: 0, hash: 0 };
}

export interface ScheduleOptions {
  /**
   * Voter 1 runs with this many times the others' election timeout (a misconfiguration: its lease
   * outlasts their promise; dsrd's transport drops such a voter's packets, 'timing-mismatch'). For
   * showing that the checker finds overlaps; 1 in every real run.
   */
  readonly voterOneTimeoutFactor?: number;
}

export function runSchedule(seed: number, scheduleOptions: ScheduleOptions = {}): ScheduleResult {
  const rng = seededRng(seed);
  const random = rng.next;
  const pick = <T>(items: readonly T[]): T => rng.pick(items);
  const topology = pick(TOPOLOGIES);
  const drift = DEFAULT_MAX_DRIFT_RATIO;
  const options = (id: number): RaftOptions => ({
    id,
    voters: topology.voters,
    witnesses: topology.witnesses,
    electionTimeoutMs: 50 * (id === 1 ? (scheduleOptions.voterOneTimeoutFactor ?? 1) : 1),
    electionJitterMs: 25,
    heartbeatIntervalMs: 10,
    maxDriftRatio: drift,
    releaseMarginMs: 1,
    maxEntriesPerAppend: 16,
    random,
  });
  const loss = random() * 0.2;
  const duplicate = random() * 0.05;
  const maxDelay = 0.2 + random() * 4;
  const lateShare = random() * 0.02;
  const queue = new Queue();
  const violations: string[] = [];
  const committedHash = new Map<number, number>();
  const blocked = new Set<string>(); // "from>to"
  let now = 0;
  let events = 0;
  let leaseChanges = 0;
  let proposals = 0;
  let transfers = 0;

  const nodes = new Map<number, SimNode>();
  for (const id of topology.voters) {
    nodes.set(id, {
      id,
      offset: random() * 1e6,
      rate: 1 + (random() * 2 - 1) * drift,
      raft: null,
      storage: { hardState: { term: 0, vote: 0, commit: 0 }, snapshot: null, entries: [] },
      paused: false,
      pending: [],
      timer: 0,
      lastLocal: 0,
      leaseUntil: null,
      announced: null,
      applied: { index: 0, hash: 0 },
      sinceSnapshot: 0,
    });
  }
  const local = (node: SimNode, t: number) => node.offset + node.rate * t;
  const real = (node: SimNode, l: number) => (l - node.offset) / node.rate;
  const isWitness = (id: number) => topology.witnesses.includes(id);

  function send(from: number, to: number, message: RaftMessage): void {
    if (blocked.has(`${from}>${to}`) || random() < loss) return;
    const copies = random() < duplicate ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      const late = random() < lateShare ? random() * 200 : 0;
      queue.push(now + 0.05 + random() * maxDelay + late, { kind: 'deliver', to, message });
    }
  }

  function apply(node: SimNode, entry: Entry): void {
    if (entry.index !== node.applied.index + 1) {
      violations.push(`node ${node.id} applied ${entry.index} after ${node.applied.index}`);
    }
    const hash = mix(node.applied.hash, entry);
    const known = committedHash.get(entry.index);
    if (known === undefined) committedHash.set(entry.index, hash);
    else if (known !== hash) violations.push(`node ${node.id} applied a different entry ${entry.index}`);
    node.applied = { index: entry.index, hash };
  }

  function step(node: SimNode, input: RaftInput): void {
    const raft = node.raft;
    if (raft === null) return;
    const at = Math.max(node.lastLocal, local(node, now));
    node.lastLocal = at;
    let out: ReturnType<RaftNode['step']>;
    try {
      out = raft.step(at, input);
    } catch (error) {
      if (input.kind !== 'tick' && input.kind !== 'message' && input.kind !== 'start') return; // refused loudly, as designed
      violations.push(`node ${node.id} threw on ${input.kind}: ${(error as Error).message}`);
      return;
    }
    const storage = node.storage;
    if (out.hardState !== null) storage.hardState = out.hardState;
    if (out.snapshot !== null) {
      const snapshot = out.snapshot;
      storage.snapshot = snapshot;
      storage.entries = storage.entries.filter((entry) => entry.index > snapshot.index);
    }
    if (out.truncateFrom !== null) {
      const from = out.truncateFrom;
      storage.entries = storage.entries.filter((entry) => entry.index < from);
    }
    storage.entries.push(...out.entries);
    for (const effect of out.effects) {
      if (effect.type !== 'lease') continue;
      leaseChanges += 1;
      node.leaseUntil = effect.until;
      node.announced = effect.until;
    }
    if (raft.role !== 'leader' && node.announced !== null)
      violations.push(`node ${node.id} kept its lease as ${raft.role}`);
    for (const { to, message } of out.messages) send(node.id, to, message);
    if (out.restore !== null) {
      const restored = decodeState(out.restore.data);
      const known = committedHash.get(out.restore.index);
      if (restored.index !== out.restore.index || (known !== undefined && known !== restored.hash)) {
        violations.push(
          `node ${node.id} restored a snapshot unlike the committed state at ${out.restore.index}`,
        );
      }
      node.applied = restored;
    }
    for (const entry of out.committed) apply(node, entry);
    node.sinceSnapshot += out.committed.length;
    if (checkOwners() && now >= end - 200) leaseAtEnd = true;
    schedule(node);
  }

  function schedule(node: SimNode): void {
    const raft = node.raft;
    if (raft === null) return;
    node.timer += 1;
    const deadline = raft.nextDeadline();
    if (!Number.isFinite(deadline)) return;
    const at = Math.max(now, real(node, deadline)) + random() * 0.3;
    queue.push(at, { kind: 'tick', node: node.id, timer: node.timer });
  }

  /** Whether a voter holds a lease now; more than one is a violation. */
  function checkOwners(): boolean {
    const owners = [...nodes.values()].filter(
      (node) => node.leaseUntil !== null && node.leaseUntil > local(node, now),
    );
    if (owners.length > 1) {
      violations.push(
        `at ${now.toFixed(3)} ms nodes ${owners.map((node) => node.id).join(', ')} hold a lease`,
      );
    }
    return owners.length > 0;
  }

  function start(node: SimNode): void {
    node.raft = new RaftNode(options(node.id), {
      hardState: node.storage.hardState,
      snapshot: node.storage.snapshot,
      entries: [...node.storage.entries],
    });
    node.applied = { index: 0, hash: 0 };
    node.announced = null;
    step(node, { kind: 'start' });
  }

  // A planned handover (`dsrctl failover`): the leader hands over to a director.
  const transfer = (target: number) => {
    const leader = [...nodes.values()].find((node) => node.raft?.role === 'leader' && !node.paused);
    if (leader !== undefined && leader.id !== target)
      transfers += leader.raft?.status().transferTarget === null ? 1 : 0;
    if (leader !== undefined && leader.id !== target) step(leader, { kind: 'transfer', target });
  };
  const cut = (links: string[]) => {
    for (const link of links) blocked.add(link);
  };
  const mend = (links: string[]) => {
    for (const link of links) blocked.delete(link);
  };
  const crash = (node: SimNode) => {
    node.raft = null;
    node.pending = [];
    node.paused = false;
  };
  const pause = (node: SimNode) => {
    if (node.raft !== null) node.paused = true;
  };
  const resume = (node: SimNode) => {
    if (!node.paused) return;
    node.paused = false;
    const pending = node.pending;
    node.pending = [];
    for (const message of pending) step(node, { kind: 'message', message });
    step(node, { kind: 'tick' });
  };
  const restart = (node: SimNode) => {
    if (node.raft === null) start(node);
  };

  // Faults: random ones until FAULT_END_MS, then everything heals.
  const ids = topology.voters;
  const end = FAULT_END_MS + HEAL_MS;
  for (let at = random() * 100; at < FAULT_END_MS; at += 20 + random() * 200) {
    const kind = random();
    const node = nodes.get(pick(ids)) as SimNode;
    const length = 10 + random() * 300;
    if (kind < 0.2) {
      queue.push(at, { kind: 'fault', run: () => crash(node) });
      queue.push(at + length, { kind: 'fault', run: () => restart(node) });
    } else if (kind < 0.4) {
      queue.push(at, { kind: 'fault', run: () => pause(node) });
      queue.push(at + length, { kind: 'fault', run: () => resume(node) });
    } else if (kind < 0.7) {
      // Isolate one node, both ways or one way.
      const ways = pick(['both', 'in', 'out']);
      const links = ids
        .filter((other) => other !== node.id)
        .flatMap((other) => {
          const out = `${node.id}>${other}`;
          const inward = `${other}>${node.id}`;
          return ways === 'both' ? [out, inward] : ways === 'out' ? [out] : [inward];
        });
      queue.push(at, { kind: 'fault', run: () => cut(links) });
      queue.push(at + length, { kind: 'fault', run: () => mend(links) });
    } else if (kind < 0.85) {
      const a = pick(ids);
      const b = pick(ids.filter((id) => id !== a));
      const links = random() < 0.5 ? [`${a}>${b}`, `${b}>${a}`] : [`${a}>${b}`];
      queue.push(at, { kind: 'fault', run: () => cut(links) });
      queue.push(at + length, { kind: 'fault', run: () => mend(links) });
    } else {
      queue.push(at, { kind: 'fault', run: () => transfer(pick(ids.filter((id) => !isWitness(id)))) });
    }
  }
  queue.push(FAULT_END_MS, {
    kind: 'fault',
    run: () => {
      blocked.clear();
      for (const node of nodes.values()) {
        restart(node);
        resume(node);
      }
    },
  });

  // Operator commands to whoever leads, and compactions now and then.
  const propose = () => {
    for (const node of nodes.values()) {
      if (node.raft?.role === 'leader' && !node.paused) {
        proposals += 1;
        step(node, { kind: 'propose', data: Uint8Array.of(proposals & 0xff, proposals >> 8) });
      }
    }
  };
  for (let at = 5; at < FAULT_END_MS; at += 5 + random() * 30)
    queue.push(at, { kind: 'fault', run: propose });
  const compact = () => {
    for (const node of nodes.values()) {
      if (node.raft === null || node.paused || isWitness(node.id) || node.sinceSnapshot < 8) continue;
      node.sinceSnapshot = 0;
      step(node, {
        kind: 'compact',
        index: node.applied.index,
        data: encodeState(node.applied.index, node.applied.hash),
      });
    }
  };
  for (let at = 50; at < end; at += 50 + random() * 100) queue.push(at, { kind: 'fault', run: compact });

  for (const node of nodes.values()) start(node);
  // Liveness after the heal: within HEAL_MS − 200 a leader takes a last command, which every log
  // holder applies by the end, and a lease is held in the last 200 ms.
  let finalIndex = 0;
  let leaseAtEnd = false;
  const finalCommand = () => {
    const leader = [...nodes.values()].find((node) => node.raft?.role === 'leader' && !node.paused);
    if (leader === undefined) return void queue.push(now + 10, { kind: 'fault', run: finalCommand });
    step(leader, { kind: 'propose', data: Uint8Array.of(0xff) });
    finalIndex = leader.raft?.status().lastIndex ?? 0;
  };
  queue.push(FAULT_END_MS + 300, { kind: 'fault', run: finalCommand });

  for (let item = queue.pop(); item !== undefined && item.at <= end; item = queue.pop()) {
    now = item.at;
    events += 1;
    const event = item.event;
    if (event.kind === 'fault') event.run();
    else if (event.kind === 'tick') {
      const node = nodes.get(event.node) as SimNode;
      if (node.raft !== null && !node.paused && event.timer === node.timer) step(node, { kind: 'tick' });
    } else {
      const node = nodes.get(event.to) as SimNode;
      if (node.raft === null) continue;
      if (node.paused) node.pending.push(event.message);
      else step(node, { kind: 'message', message: event.message });
    }
  }
  now = end;
  const holders = [...nodes.values()].filter((node) => !isWitness(node.id));
  const reached = finalIndex > 0 && holders.every((node) => node.applied.index >= finalIndex);
  return {
    seed,
    topology: topology.name,
    violations,
    live: leaseAtEnd && reached,
    events,
    leaseChanges,
    transfers,
    committed: committedHash.size,
  };
}
