/**
 * The import-boundary test: every import of every source file follows the layer table
 * (scripts/layers.ts), no two folders import each other round a cycle, and docs/architecture.md
 * shows the table as it is.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { findImports } from '../../scripts/imports.ts';
import { checkLayers, cycles, LAYERS, type Layer, layersMarkdown } from '../../scripts/layers.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

test('every import in the tree follows the layer table, and no folders form a cycle', (t) => {
  const violations = checkLayers(ROOT);
  t.deepEqual(
    violations.map((v) => `${v.file} -> ${v.target}: ${v.why}`),
    [],
  );
});

test('the layer table itself only points down (no cycle, no unknown folder)', (t) => {
  const graph = new Map(Object.entries(LAYERS).map(([name, l]) => [name, new Set(l.imports)]));
  t.deepEqual(cycles(graph), []);
  for (const [name, l] of Object.entries(LAYERS)) {
    for (const i of l.imports) t.true(i in LAYERS, `${name} names ${i}, which is not a layer`);
  }
});

test('docs/architecture.md shows the layer table as it is', (t) => {
  const doc = readFileSync(join(ROOT, 'docs', 'architecture.md'), 'utf8');
  t.true(doc.includes(layersMarkdown()), 'regenerate the table with: node scripts/layers.ts --markdown');
});

/** A tree of a few files in a temporary folder, checked against a small table. */
function withTree(files: Record<string, string>, run: (root: string) => void): void {
  const root = mkdtempSync(join(tmpdir(), 'dsr-layers-'));
  try {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    run(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

const TABLE: Record<string, Layer> = {
  ground: { holds: 'g', imports: [] },
  middle: { holds: 'm', imports: ['ground'] },
  top: { holds: 't', imports: ['ground', 'middle'] },
};

test('the checker fails on an upward import and names it', (t) => {
  withTree(
    {
      'ground/a.ts': "import { b } from '../middle/b.ts';\nexport const a = b;\n",
      'middle/b.ts': 'export const b = 1;\n',
      'top/c.ts': "import { a } from '../ground/a.ts';\nexport const c = a;\n",
    },
    (root) => {
      const v = checkLayers(root, TABLE);
      t.true(
        v.some(
          (x) =>
            x.file === 'ground/a.ts' && x.target === 'middle/b.ts' && /may not import middle/.test(x.why),
        ),
      );
    },
  );
});

test('the checker fails on a folder cycle inside a layer and on a folder the table does not know', (t) => {
  withTree(
    {
      'top/x/one.ts': "export { two } from '../y/two.ts';\n",
      'top/y/two.ts': "import '../x/one.ts';\nexport const two = 2;\n",
      'stray/s.ts': "import { two } from '../top/y/two.ts';\n",
    },
    (root) => {
      const why = checkLayers(root, TABLE).map((x) => x.why);
      t.true(why.includes('folder cycle: top/x -> top/y -> top/x'), why.join('\n'));
      t.true(why.includes('stray/ is not in the layer table'), why.join('\n'));
    },
  );
});

test('the checker passes a tree that follows the table', (t) => {
  withTree(
    {
      'ground/a.ts': 'export const a = 1;\n',
      'middle/b.ts': "import { a } from '../ground/a.ts';\nexport const b = a;\n",
      'top/c.ts':
        "const w = new URL('../middle/b.ts', import.meta.url);\nexport const c = import('../ground/a.ts');\n",
    },
    (root) => t.deepEqual(checkLayers(root, TABLE), []),
  );
});

test('imports are read from code only: not from comments, strings or templates', (t) => {
  const src = [
    "// import { x } from '../daemon/x.ts';",
    "/* export * from '../cli/y.ts' */",
    'const s = "import z from \'../lab/z.ts\'";',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: the text of a template literal, as source
    "const tpl = `from '../bench/t.ts' ${'a'} import('../scripts/u.ts')`;",
    'const re = /["\']from/;',
    "import type { A } from './a.ts';",
    "export { B } from './b.ts';",
    "import './side-effect.ts';",
    "const m = await import('./dynamic.ts');",
    "const w = new URL('./worker.ts', import.meta.url);",
    'const n = Array.from([1]);',
  ].join('\n');
  t.deepEqual(findImports(src), ['./a.ts', './b.ts', './side-effect.ts', './dynamic.ts', './worker.ts']);
});
