/**
 * Benchmark output contract (design brief §5): a readable table for people,
 * then, as the very last line, one JSON object of the figures for machines.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));

export type Cell = string | number | null | undefined;

function show(c: Cell): string {
  if (c === null || c === undefined) return '-';
  if (typeof c === 'number') {
    if (!Number.isFinite(c)) return String(c);
    if (Number.isInteger(c)) return String(c);
    return Math.abs(c) >= 100 ? c.toFixed(1) : c.toPrecision(4);
  }
  return c;
}

/** Renders rows as an aligned text table with a header rule. */
export function formatTable(header: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const cells = [header.map(String), ...rows.map((r) => r.map(show))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) =>
        (typeof rows[0]?.[i] === 'number' && r !== cells[0]) || i > 0
          ? c.padStart(widths[i])
          : c.padEnd(widths[i]),
      )
      .join('  ')
      .trimEnd();
  return [line(cells[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join(
    '\n',
  );
}

export function printTable(
  title: string,
  header: readonly string[],
  rows: readonly (readonly Cell[])[],
): void {
  process.stdout.write(`\n${title}\n${formatTable(header, rows)}\n`);
}

/**
 * The commit the tree is at, with `-dirty` when tracked files differ from it: a figure quoted in the
 * docs names what it was measured on (docs/figures/). Null outside a git checkout.
 */
function measuredAt(): string | null {
  const git = (args: string[]) =>
    execFileSync('git', args, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    const dirty = git(['status', '--porcelain', '--untracked-files=no']) !== '';
    return `${git(['rev-parse', 'HEAD'])}${dirty ? '-dirty' : ''}`;
  } catch {
    return null;
  }
}

/**
 * Must be the last thing a benchmark prints: the figures, after the benchmark's name, the date and
 * the commit they were measured at, so the line can be committed under docs/figures/ as it is.
 */
export function printFigures(bench: string, figures: Record<string, unknown>): void {
  const line = { bench, date: new Date().toISOString(), commit: measuredAt(), ...figures };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** min / median / p95 / max of a sample, for the tables. */
export function summarize(values: readonly number[]): {
  n: number;
  min: number;
  median: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
} {
  if (values.length === 0)
    return {
      n: 0,
      min: Number.NaN,
      median: Number.NaN,
      p95: Number.NaN,
      p99: Number.NaN,
      max: Number.NaN,
      mean: Number.NaN,
    };
  const s = [...values].sort((a, b) => a - b);
  const q = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))];
  return {
    n: s.length,
    min: s[0],
    median: q(0.5),
    p95: q(0.95),
    p99: q(0.99),
    max: s[s.length - 1],
    mean: s.reduce((a, b) => a + b, 0) / s.length,
  };
}

/** Parses `--name value` and `--flag` style arguments into a map. */
export function parseBenchArgs(argv: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) out.set(a.slice(2, eq), a.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) out.set(a.slice(2), argv[++i]);
    else out.set(a.slice(2), 'true');
  }
  return out;
}

export function numberArg(args: Map<string, string>, name: string, fallback: number): number {
  const v = args.get(name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new Error(`--${name} must be a positive number, got ${JSON.stringify(v)}`);
  return n;
}
