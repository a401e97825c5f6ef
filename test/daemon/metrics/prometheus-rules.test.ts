/**
 * The shipped Prometheus rules (docs/prometheus-rules.yaml, issue 25) use only metric names and
 * labels the daemon exports (daemon/metrics/families.ts), so a rename cannot leave an alert that
 * never fires. Also the alerts the issue asks for are there: two masters, sync lag, webhook dead
 * letters.
 */
import { readFileSync } from 'node:fs';
import test from 'ava';
import { parse } from 'yaml';
import { FAMILIES } from '../../../daemon/metrics/families.ts';

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}

const doc = parse(readFileSync(new URL('../../../docs/prometheus-rules.yaml', import.meta.url), 'utf8')) as {
  groups: { name: string; rules: Rule[] }[];
};
const rules = doc.groups.flatMap((g) => g.rules);
const families = new Map(FAMILIES.map((f) => [f.name, new Set<string>(f.labelNames)]));
/** Labels Prometheus adds to every series. */
const TARGET_LABELS = new Set(['instance', 'job']);

test('every metric a rule reads is exported, with the labels the rule uses', (t) => {
  t.true(rules.length >= 8);
  for (const r of rules) {
    const metrics = [...r.expr.matchAll(/\b(dsr_[a-z_]+)\b/g)].map((m) => m[1]);
    t.true(metrics.length > 0, `${r.alert} reads a dsr_ metric`);
    const labels = new Set<string>(TARGET_LABELS);
    for (const m of metrics) {
      const known = families.get(m);
      t.truthy(known, `${r.alert}: ${m} is not exported`);
      for (const l of known ?? []) labels.add(l);
    }
    // Matchers {label="..."}, aggregations by (label, ...), and $labels in the text.
    const byLabels = [...r.expr.matchAll(/\bby\s*\(([^)]*)\)/g)].flatMap((m) =>
      m[1].split(',').map((x) => x.trim()),
    );
    const matchers = [...r.expr.matchAll(/\{([^}]*)\}/g)].flatMap((m) =>
      [...m[1].matchAll(/([a-z_]+)\s*[=!~]+/g)].map((x) => x[1]),
    );
    for (const l of [...matchers, ...byLabels]) {
      t.true(labels.has(l), `${r.alert}: label ${l} is not on ${metrics.join(', ')}`);
    }
    // After an aggregation only its "by" labels are left for the annotations.
    const left = byLabels.length > 0 ? new Set(byLabels) : labels;
    const text = `${r.annotations.summary} ${r.annotations.description}`;
    for (const m of text.matchAll(/\$labels\.([a-z_]+)/g)) {
      t.true(left.has(m[1]), `${r.alert}: $labels.${m[1]} is not on its result`);
    }
    t.true(['critical', 'warning'].includes(r.labels.severity), `${r.alert}: severity`);
  }
});

test('the alerts an operator asked for are there', (t) => {
  const names = rules.map((r) => r.alert);
  for (const a of [
    'DsrTwoMasters',
    'DsrSyncLagHigh',
    'DsrStandbyNotInSync',
    'DsrWebhookDeadLetters',
    'DsrVipConflict',
    'DsrQuorumLost',
  ]) {
    t.true(names.includes(a), a);
  }
  t.is(new Set(names).size, names.length, 'names are unique');
});

test('role and outcome values in the rules are values the daemon writes', (t) => {
  const text = rules.map((r) => r.expr).join('\n');
  for (const m of text.matchAll(/role="([a-z]+)"/g))
    t.true(['init', 'backup', 'master', 'fault'].includes(m[1]), m[1]);
  for (const m of text.matchAll(/outcome=~"([^"]+)"/g)) {
    for (const o of m[1].split('|')) t.true(['success', 'retry', 'failed', 'dropped'].includes(o), o);
  }
});
