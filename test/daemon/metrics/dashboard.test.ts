/**
 * docs/grafana-dashboard.json stays in step with the metric names: every
 * `dsr_*` name a query uses exists, and every family is on some panel.
 */
import { readFileSync } from 'node:fs';
import test from 'ava';
import { FAMILIES } from '../../../daemon/metrics/families.ts';

interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { x: number; y: number; w: number; h: number };
  datasource?: { uid: string };
  targets?: Array<{ expr: string; refId: string }>;
}

const dashboard = JSON.parse(
  readFileSync(new URL('../../../docs/grafana-dashboard.json', import.meta.url), 'utf8'),
) as {
  uid: string;
  panels: Panel[];
  templating: { list: Array<{ name: string }> };
  annotations: { list: Array<{ expr?: string }> };
};

const known = new Set([...FAMILIES.map((f) => f.name), 'dsr_metrics_provider_errors_total']);

function exprs(): string[] {
  return [
    ...dashboard.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr)),
    ...dashboard.annotations.list.flatMap((a) => (a.expr ? [a.expr] : [])),
  ];
}

test('every dsr_* name in the dashboard is a metric dsrd exports', (t) => {
  const used = new Set(exprs().flatMap((e) => e.match(/\bdsr_[a-z0-9_]+/g) ?? []));
  t.true(used.size > 10);
  for (const name of used) t.true(known.has(name), `${name} is not exported`);
});

test('every dsr_* family is shown on some panel', (t) => {
  const all = exprs().join('\n');
  for (const name of known) t.true(new RegExp(`\\b${name}\\b`).test(all), `${name} is on no panel`);
});

test('panels are well formed: unique ids, inside the 24-column grid, on the datasource variable', (t) => {
  const ids = dashboard.panels.map((p) => p.id);
  t.is(new Set(ids).size, ids.length);
  t.truthy(dashboard.uid);
  t.true(dashboard.templating.list.some((v) => v.name === 'datasource'));
  for (const p of dashboard.panels) {
    t.true(p.gridPos.x + p.gridPos.w <= 24, p.title);
    if (p.type === 'row') continue;
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, not a JS template
    t.is(p.datasource?.uid, '${datasource}', p.title);
    t.true((p.targets ?? []).length > 0, p.title);
    for (const q of p.targets ?? []) t.notRegex(q.expr, /\$\{?DS_/, p.title);
  }
});
