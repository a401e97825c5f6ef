/**
 * `npm run bench -- lab [--runs N]`: time to build and tear down the standard
 * lab (2 directors, 1 client, 3 real servers with their services), side by
 * side with a baseline that makes the same namespaces and veths on a bridge
 * and nothing else (no addresses, sysctls, XDP or services), so the ratio
 * shows what the lab's own setup costs.
 */

import { ipBatch, run } from '../lab/exec.ts';
import { createLab, requireRoot } from '../lab/index.ts';
import { claimPrefix, newLabPrefix, releasePrefix } from '../lab/registry.ts';
import { numberArg, parseBenchArgs, printFigures, printTable, summarize } from '../lab/report.ts';
import { deleteNamespaceSync } from '../lab/sweep.ts';

const args = parseBenchArgs(process.argv.slice(2));
const runs = numberArg(args, 'runs', 5);
const reason = requireRoot();
if (reason) {
  console.error(`lab benchmark cannot run: ${reason}`);
  process.exit(1);
}

const HOSTS = 6;

async function baseline(): Promise<{ up: number; down: number }> {
  const prefix = newLabPrefix();
  claimPrefix(prefix);
  const names = [`${prefix}-br`, ...Array.from({ length: HOSTS }, (_, i) => `${prefix}-h${i}`)];
  try {
    const t0 = performance.now();
    for (const ns of names) await run('ip', ['netns', 'add', ns]);
    await ipBatch(names[0], ['link add br0 type bridge', 'link set br0 up']);
    await Promise.all(
      names
        .slice(1)
        .map((ns, i) =>
          ipBatch(names[0], [
            `link add v${i} type veth peer name eth0 netns ${ns}`,
            `link set v${i} master br0 up`,
          ]),
        ),
    );
    const up = performance.now() - t0;
    const t1 = performance.now();
    for (const ns of names.reverse()) deleteNamespaceSync(ns);
    return { up, down: performance.now() - t1 };
  } finally {
    for (const ns of names) deleteNamespaceSync(ns);
    releasePrefix(prefix);
  }
}

async function lab(): Promise<{ up: number; down: number }> {
  const t0 = performance.now();
  const l = await createLab({ directors: 2, clients: 1, realServers: 3 });
  const up = performance.now() - t0;
  const t1 = performance.now();
  await l.destroy();
  return { up, down: performance.now() - t1 };
}

const samples = {
  labUp: [] as number[],
  labDown: [] as number[],
  baseUp: [] as number[],
  baseDown: [] as number[],
};
await lab(); // warm-up: builds BPF objects and fills caches
for (let i = 0; i < runs; i++) {
  const b = await baseline();
  samples.baseUp.push(b.up);
  samples.baseDown.push(b.down);
  const l = await lab();
  samples.labUp.push(l.up);
  samples.labDown.push(l.down);
}
const s = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, summarize(v)])) as Record<
  keyof typeof samples,
  ReturnType<typeof summarize>
>;
printTable(
  `lab setup/teardown, ${HOSTS} hosts, ${runs} runs (ms)`,
  ['case', 'min', 'median', 'p95', 'max'],
  [
    ['lab up (with services)', s.labUp.min, s.labUp.median, s.labUp.p95, s.labUp.max],
    ['lab down', s.labDown.min, s.labDown.median, s.labDown.p95, s.labDown.max],
    ['baseline up (bare netns+veth)', s.baseUp.min, s.baseUp.median, s.baseUp.p95, s.baseUp.max],
    ['baseline down', s.baseDown.min, s.baseDown.median, s.baseDown.p95, s.baseDown.max],
  ],
);
printFigures('lab', {
  runs,
  hosts: HOSTS,
  lab_up_ms: Number(s.labUp.median.toFixed(1)),
  lab_down_ms: Number(s.labDown.median.toFixed(1)),
  baseline_up_ms: Number(s.baseUp.median.toFixed(1)),
  baseline_down_ms: Number(s.baseDown.median.toFixed(1)),
  up_ratio: Number((s.labUp.median / s.baseUp.median).toFixed(2)),
  down_ratio: Number((s.labDown.median / s.baseDown.median).toFixed(2)),
});
