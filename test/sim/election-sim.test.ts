/**
 * Seeded simulation of 2–5 directors over a hostile in-memory network: loss, delay and
 * reordering, duplication, partitions (both ways and one way), pauses (SIGSTOP), crashes with
 * restarts, and operator resigns and handovers. Every run is reproducible from its seed.
 *
 * Invariants checked on every simulated instant:
 * 1. Resolution: two directors that are both master, both running, connected both ways in a
 *    loss-free episode, stay so for at most R = advert interval + max delay + 1 ms (the winner's
 *    next advert reaches the loser, which steps down at once).
 * 2. Healing: once the network heals (no loss, no partition, paused nodes resumed, crashed nodes
 *    restarted, preemption holds released) there is exactly one master within
 *    B = preempt_delay + 2 × Master_Down_Interval(max) + 2 × interval + max delay, it stays the
 *    only master from then on, and no preempting director outranks it.
 */
import test from 'ava';
import { isDsrError } from '../../core/errors.ts';
import type { ControlInput } from '../../failover/election/input.ts';
import { masterDownIntervalMs } from '../../failover/election/timing.ts';
import { type Rng, seededRng } from '../../lab/rng.ts';
import { SimCluster } from './sim-cluster.ts';
import type { NodeSpec, SimNode } from './sim-node.ts';

const SEEDS = 40;
const MAX_DELAY = 5;

interface RunReport {
  readonly seed: number;
  readonly nodes: number;
  readonly violations: string[];
  readonly healToOneMasterMs: number;
  readonly maxConnectedOverlapMs: number;
  /** Times two connected directors were both master (each must end within R). */
  readonly overlapEpisodes: number;
}

function specsFor(rng: Rng): NodeSpec[] {
  const count = rng.int(2, 5);
  const interval = rng.pick([50, 100]);
  const names = ['A', 'B', 'C', 'D', 'E'];
  return names.slice(0, count).map((name, i) => ({
    name,
    nodeId: i + 1,
    // Some equal priorities on purpose: ties are broken by node id.
    priority: rng.pick([50, 100, 100, 150, 200, 254]),
    intervalMs: interval,
    preempt: rng.chance(0.8),
    preemptDelayMs: rng.pick([0, 0, 200]),
    wallOffsetMs: rng.int(-600_000, 600_000),
  }));
}

function runOnce(seed: number): RunReport {
  const rng = seededRng(seed);
  const specs = specsFor(rng);
  const interval = specs[0].intervalMs;
  const resolutionBound = interval + MAX_DELAY + 1;
  const violations: string[] = [];
  let lossFree = true;
  let healedAt: number | null = null;
  let oneMasterAt: number | null = null;
  let maxOverlap = 0;
  let overlapEpisodes = 0;
  const overlapSince = new Map<string, number>();

  const connected = (c: SimCluster, a: SimNode, b: SimNode) =>
    a.life === 'running' &&
    b.life === 'running' &&
    !c.network.isBlocked(a.name, b.name) &&
    !c.network.isBlocked(b.name, a.name);

  const observe = (now: number, c: SimCluster) => {
    const masters = c.masters().filter((n) => n.life === 'running');
    const pairs = new Set<string>();
    for (const a of masters) {
      for (const b of masters) {
        if (a.spec.nodeId >= b.spec.nodeId || !lossFree || !connected(c, a, b)) continue;
        const key = `${a.name}${b.name}`;
        pairs.add(key);
        const since = overlapSince.get(key) ?? now;
        if (!overlapSince.has(key)) overlapEpisodes++;
        overlapSince.set(key, since);
        maxOverlap = Math.max(maxOverlap, now - since);
        if (now - since > resolutionBound && violations.length < 5) {
          violations.push(
            `t=${now.toFixed(1)} ${a.name} and ${b.name} both master and connected since ${since}`,
          );
        }
      }
    }
    for (const key of [...overlapSince.keys()]) if (!pairs.has(key)) overlapSince.delete(key);
    if (healedAt !== null && oneMasterAt === null && c.masters().length === 1) oneMasterAt = now;
  };

  const cluster = new SimCluster({
    nodes: specs,
    rng,
    network: { delayMs: [0.2, MAX_DELAY], loss: 0, duplicate: 0 },
    observe,
  });
  for (const node of cluster.nodes) node.boot(0);

  // Chaos: random episodes of network trouble and process trouble, with operator actions.
  let t = 0;
  const chaosEnd = rng.int(6000, 14000);
  while (t < chaosEnd) {
    const length = rng.int(200, 2500);
    const loss = rng.pick([0, 0, 0.05, 0.3]);
    const duplicate = rng.pick([0, 0.05]);
    const shape = rng.pick(['none', 'none', 'split', 'oneway']);
    const at = t;
    cluster.at(at, () => {
      cluster.network.heal();
      cluster.network.policy = { delayMs: [0.2, MAX_DELAY], loss, duplicate };
      lossFree = loss === 0;
      const names = cluster.nodes.map((n) => n.name);
      if (shape === 'split') {
        const side = names.filter(() => rng.chance(0.5));
        cluster.network.partition([side, names.filter((n) => !side.includes(n))]);
      } else if (shape === 'oneway') {
        cluster.network.cut(rng.pick(names), rng.pick(names));
      }
    });
    for (const node of cluster.nodes) {
      const roll = rng.next();
      const when = at + rng.int(0, length);
      if (roll < 0.08) {
        cluster.at(when, () => node.pause());
        cluster.at(when + rng.int(50, 1500), () => node.resume(cluster.now));
      } else if (roll < 0.12) {
        cluster.at(when, () => node.crash());
        cluster.at(when + rng.int(100, 2000), () => node.life === 'down' && node.boot(cluster.now));
      } else if (roll < 0.16) {
        const target = rng.pick(cluster.nodes).spec.nodeId;
        cluster.at(when, () =>
          operator(node, cluster.now, { kind: 'request-handover', target, force: false }),
        );
      } else if (roll < 0.18) {
        cluster.at(when, () => operator(node, cluster.now, { kind: 'resign' }));
      }
    }
    t += length;
  }

  // Heal everything after the last scheduled resume/restart.
  const healAt = chaosEnd + 2100;
  cluster.at(healAt, () => {
    cluster.network.heal();
    cluster.network.policy = { delayMs: [0.2, MAX_DELAY], loss: 0, duplicate: 0 };
    lossFree = true;
    for (const node of cluster.nodes) {
      if (node.life === 'paused') node.resume(cluster.now);
      if (node.life === 'down') node.boot(cluster.now);
      operator(node, cluster.now, { kind: 'release-hold' });
    }
    healedAt = cluster.now;
    oneMasterAt = null;
  });

  const maxMdi = masterDownIntervalMs(1, interval);
  const maxDelayPref = Math.max(...specs.map((s) => s.preemptDelayMs ?? 0));
  const healBound = maxDelayPref + 2 * maxMdi + 2 * interval + MAX_DELAY;
  cluster.runUntil(healAt + healBound);
  const settled = cluster.masters();
  if (settled.length !== 1) {
    violations.push(`${settled.length} masters ${healBound} ms after healing: ${settled.map((n) => n.name)}`);
  }
  // From here on: one master, unchanged, and no preempting node outranks it.
  const expected = settled[0];
  cluster.runUntil(healAt + healBound + 3000);
  const final = cluster.masters();
  if (final.length !== 1 || final[0] !== expected) {
    violations.push(
      `master changed after settling: ${settled.map((n) => n.name)} -> ${final.map((n) => n.name)}`,
    );
  }
  if (expected !== undefined) {
    const outranking = cluster.nodes.filter(
      (n) => n.spec.preempt !== false && n.group.effectivePriority > expected.group.effectivePriority,
    );
    if (outranking.length > 0)
      violations.push(`${outranking.map((n) => n.name)} outrank master ${expected.name}`);
  }
  return {
    seed,
    nodes: specs.length,
    violations,
    healToOneMasterMs: oneMasterAt === null ? Number.POSITIVE_INFINITY : oneMasterAt - healAt,
    maxConnectedOverlapMs: maxOverlap,
    overlapEpisodes,
  };
}

/** Operator inputs that are refused (not master, target not suitable) are part of the chaos. */
function operator(node: SimNode, now: number, input: ControlInput): void {
  if (node.life !== 'running') return;
  try {
    node.input(now, input);
  } catch (error) {
    if (!isDsrError(error, 'E_ILLEGAL_TRANSITION')) throw error;
  }
}

test(`${SEEDS} seeded chaos runs: split brains resolve within one interval, one master after healing`, (t) => {
  let worstHeal = 0;
  let worstOverlap = 0;
  let episodes = 0;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const report = runOnce(seed);
    t.deepEqual(report.violations, [], `seed ${seed} (${report.nodes} nodes)`);
    worstHeal = Math.max(worstHeal, report.healToOneMasterMs);
    worstOverlap = Math.max(worstOverlap, report.maxConnectedOverlapMs);
    episodes += report.overlapEpisodes;
  }
  // The chaos must actually produce dual masters among connected nodes, or the check proves nothing.
  t.true(episodes >= SEEDS / 2, `only ${episodes} two-master episodes`);
  t.log(`two-master episodes between connected nodes: ${episodes}`);
  t.log(`worst time from healing to a single master: ${worstHeal.toFixed(1)} ms`);
  t.log(`longest two-master overlap between connected nodes: ${worstOverlap.toFixed(1)} ms`);
});

test('the simulation is deterministic for a seed', (t) => {
  t.deepEqual(runOnce(7), runOnce(7));
});
