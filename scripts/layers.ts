/**
 * The architecture as a table: every top-level folder, what it is for, and the folders its code may
 * import. test/architecture/layers.test.ts holds the tree to it, and docs/architecture.md shows it
 * (`node scripts/layers.ts --markdown` prints the table the doc must contain).
 *
 *   node scripts/layers.ts             lists every import that breaks the table, and folder cycles
 *   node scripts/layers.ts --markdown  the table as docs/architecture.md shows it
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findImports } from './imports.ts';

export interface Layer {
  /** What lives there, for the docs. */
  readonly holds: string;
  /** Top-level folders this one's code may import (its own is always allowed). */
  readonly imports: readonly string[];
}

const PRODUCT = ['core', 'config', 'alerts', 'admin', 'failover', 'forwarder', 'sync', 'health', 'daemon'];

/** Listed from the ground up; imports only point down. */
export const LAYERS: Readonly<Record<string, Layer>> = {
  core: {
    holds:
      'errors and exit codes, log, event loop, kernel FFI, netlink, systemd notify, auth primitives, addresses (`core/net`)',
    imports: [],
  },
  alerts: {
    holds: 'alert events, webhook targets and formats, delivery with retries and a spool',
    imports: ['core'],
  },
  admin: {
    holds: 'the admin socket protocol (client, server) and the catalogue of every admin command',
    imports: ['core'],
  },
  config: {
    holds: 'the YAML config: schema, validation with file:line:col, defaults, serializer, fingerprint, diff',
    imports: ['core', 'alerts'],
  },
  failover: {
    holds:
      'the elections: VRRP-style (pure state machine, wire codec, transport, election thread), Raft with a lease (raft/), VIP ownership',
    imports: ['core'],
  },
  forwarder: {
    holds: 'the XDP program (C) and its userspace side: loader, maps, reconciler, Maglev, table walks',
    imports: ['core', 'config', 'admin'],
  },
  sync: {
    holds:
      "connection and persistence sync between directors: protocol, sender, receiver, the forwarder's tables",
    imports: ['core', 'admin', 'forwarder'],
  },
  health: { holds: 'real-server health checks, service quorum, drains', imports: ['core', 'config'] },
  daemon: {
    holds: 'dsrd: supervisor, reload, status, and one folder per part wiring a subsystem in',
    imports: ['core', 'config', 'alerts', 'admin', 'failover', 'forwarder', 'sync', 'health'],
  },
  cli: { holds: 'dsrctl: speaks the admin catalogue only', imports: ['core', 'config', 'admin'] },
  bin: { holds: 'the dsrd and dsrctl entry shims', imports: ['cli', 'daemon'] },
  lab: {
    holds: 'the namespace lab as a library: topology, director pair, probes, measuring stacks, wait helpers',
    imports: [...PRODUCT.filter((l) => l !== 'daemon'), 'bin'],
  },
  scripts: {
    holds: 'setup, test, demo, BPF build, this table',
    imports: ['core', 'config', 'admin', 'forwarder', 'lab', 'bin'],
  },
  bench: {
    holds: 'benchmarks (`npm run bench -- NAME`), each side by side with a peer or baseline',
    imports: ['core', 'config', 'admin', 'failover', 'forwarder', 'sync', 'lab', 'scripts'],
  },
  test: {
    holds: 'ava tests by area',
    imports: [...PRODUCT, 'cli', 'bin', 'lab', 'scripts'],
  },
};

const CODE = /\.(ts|js|mjs)$/;
const SKIP = new Set(['node_modules', 'build', '.git']);

export interface Violation {
  readonly file: string;
  readonly target: string;
  readonly why: string;
}

function sourceFiles(root: string, dir = root): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (SKIP.has(name) || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...sourceFiles(root, path));
    else if (CODE.test(name)) out.push(relative(root, path).split(sep).join('/'));
  }
  return out;
}

const top = (path: string): string => (path.includes('/') ? path.slice(0, path.indexOf('/')) : '.');
/** The folder an import is counted against for cycles: the first two levels (`daemon/election`). */
const unit = (path: string): string => path.split('/').slice(0, -1).slice(0, 2).join('/') || '.';

/** Every relative import of every source file under `root`, as repo-relative paths. */
export function importEdges(root: string): { file: string; target: string }[] {
  const edges: { file: string; target: string }[] = [];
  for (const file of sourceFiles(root)) {
    for (const spec of findImports(readFileSync(join(root, file), 'utf8'))) {
      if (!spec.startsWith('.')) continue;
      const target = normalize(join(dirname(file), spec))
        .split(sep)
        .join('/')
        .replace(/\/$/, '');
      edges.push({ file, target });
    }
  }
  return edges;
}

/** Imports that go up or sideways outside the table, imports of a folder the table does not know, and folder cycles. */
export function checkLayers(root: string, layers: Readonly<Record<string, Layer>> = LAYERS): Violation[] {
  const violations: Violation[] = [];
  const graph = new Map<string, Set<string>>();
  for (const { file, target } of importEdges(root)) {
    if (!CODE.test(target)) continue; // data (package.json, a dashboard): not a layer's code
    const from = top(file);
    const to = top(target);
    const layer = layers[from];
    if (layer === undefined) {
      violations.push({ file, target, why: `${from}/ is not in the layer table` });
    } else if (to !== from && !layer.imports.includes(to)) {
      violations.push({
        file,
        target,
        why: `${from}/ may not import ${to}/ (it may import: ${layer.imports.join(', ') || 'nothing'})`,
      });
    }
    const [a, b] = [unit(file), unit(target)];
    if (a !== b && !a.startsWith(`${b}/`) && !b.startsWith(`${a}/`)) {
      if (!graph.has(a)) graph.set(a, new Set());
      graph.get(a)?.add(b);
    }
  }
  for (const cycle of cycles(graph)) {
    violations.push({
      file: cycle[0],
      target: cycle[1],
      why: `folder cycle: ${[...cycle, cycle[0]].join(' -> ')}`,
    });
  }
  return violations;
}

/** The strongly connected components with more than one folder (Tarjan), each as a path round it. */
export function cycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v) ?? 0, low.get(w) ?? 0));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v) ?? 0, index.get(w) ?? 0));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string | undefined;
      do {
        w = stack.pop();
        if (w === undefined) break;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!index.has(v)) visit(v);
  return found;
}

/** The table as docs/architecture.md shows it. */
export function layersMarkdown(layers: Readonly<Record<string, Layer>> = LAYERS): string {
  const rows = Object.entries(layers).map(
    ([name, l]) => `| \`${name}/\` | ${l.holds} | ${l.imports.map((i) => `\`${i}\``).join(', ') || '—'} |`,
  );
  return ['| folder | holds | may import |', '|---|---|---|', ...rows].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--markdown')) {
    process.stdout.write(`${layersMarkdown()}\n`);
  } else {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..');
    const violations = checkLayers(root);
    for (const v of violations) process.stdout.write(`${v.file} -> ${v.target}: ${v.why}\n`);
    process.stdout.write(
      violations.length === 0 ? 'imports follow the layer table\n' : `${violations.length} violation(s)\n`,
    );
    process.exitCode = violations.length === 0 ? 0 : 1;
  }
}
