/**
 * Turns zod issues into config issues an operator can act on: "expected X, found Y" at the
 * field's position, "missing required field" at its parent, and "unknown key" at the key itself
 * with a did-you-mean suggestion taken from the schema.
 */
import type { z } from 'zod';
import { describeValue, type IssueCollector, valueAt } from './issues.ts';
import type { FieldPath } from './positions.ts';

type ZodIssue = z.core.$ZodIssue;
type RawIssue = z.core.$ZodRawIssue;

const TYPE_WORDS: Record<string, string> = {
  object: 'a map',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
};

/** Per-parse error map: plain-words messages for the issues our schema builders do not word themselves. */
export function defaultMessage(issue: RawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      return `expected ${TYPE_WORDS[issue.expected] ?? issue.expected}`;
    case 'too_small':
      if (issue.origin === 'array') return `expected at least ${issue.minimum} entries`;
      return undefined;
    case 'too_big':
      if (issue.origin === 'array') return `expected at most ${issue.maximum} entries`;
      return undefined;
    case 'invalid_value':
      return `expected one of ${issue.values.map((v) => String(v)).join(', ')}`;
    default:
      return undefined;
  }
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return row[b.length];
}

export function suggestKey(unknown: string, allowed: readonly string[]): string | null {
  let best: string | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of allowed) {
    const d = editDistance(unknown.toLowerCase(), candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  const limit = Math.max(1, Math.floor(unknown.length / 3));
  return best !== null && bestDistance <= limit ? best : null;
}

interface Def {
  type: string;
  shape?: Record<string, z.core.$ZodType>;
  element?: z.core.$ZodType;
  innerType?: z.core.$ZodType;
  in?: z.core.$ZodType;
  options?: z.core.$ZodType[];
  discriminator?: string;
  values?: unknown[];
}

const def = (schema: z.core.$ZodType): Def => schema._zod.def as unknown as Def;

/** Keys the schema allows for the map at `path` (given the data there, to pick a union member). */
export function allowedKeysAt(schema: z.core.$ZodType, path: FieldPath, data: unknown): string[] | null {
  let d = def(schema);
  // Unwrap wrappers, then follow one path segment; repeat.
  for (let i = 0; ; ) {
    while (d.innerType !== undefined || d.type === 'pipe') {
      d = def(d.innerType ?? (d.in as z.core.$ZodType));
    }
    if (d.type === 'union' && d.options) {
      const rest = path.slice(i);
      const here = valueAt(data, path.slice(0, i)).value;
      const disc = d.discriminator;
      if (disc !== undefined) {
        const value =
          here !== null && typeof here === 'object' ? (here as Record<string, unknown>)[disc] : undefined;
        const match = d.options.find((o) =>
          def(def(o).shape?.[disc] as z.core.$ZodType)?.values?.includes(value),
        );
        return match === undefined ? null : allowedKeysAt(match, rest, here);
      }
      // A plain union (e.g. a check name or an inline check): the first member with keys there.
      for (const option of d.options) {
        const keys = allowedKeysAt(option, rest, here);
        if (keys !== null) return keys;
      }
      return null;
    }
    if (i === path.length) return d.type === 'object' && d.shape ? Object.keys(d.shape) : null;
    const segment = path[i++];
    if (d.type === 'object' && d.shape && typeof segment === 'string' && d.shape[segment]) {
      d = def(d.shape[segment]);
    } else if (d.type === 'array' && d.element && typeof segment === 'number') {
      d = def(d.element);
    } else {
      return null;
    }
  }
}

function typeFailedAtRoot(branch: readonly ZodIssue[]): boolean {
  return branch.length > 0 && branch.every((i) => i.code === 'invalid_type' && i.path.length === 0);
}

/**
 * Reports zod issues of one section. `base` is the section's path in the file, `data` the raw
 * section value (what was found), `schema` the section's schema (for key suggestions).
 */
export function reportZodIssues(
  out: IssueCollector,
  issues: readonly ZodIssue[],
  base: FieldPath,
  data: unknown,
  schema: z.core.$ZodType,
): void {
  for (const issue of issues) {
    const rel = issue.path as (string | number)[];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // A union whose other members failed on the type alone (a string where a map is
      // given) is about the one member that matches the type: report that member's issues.
      const relevant = issue.errors.filter((b) => !typeFailedAtRoot(b));
      if (relevant.length === 1) {
        const nested = relevant[0].map((i) => ({ ...i, path: [...rel, ...i.path] }) as ZodIssue);
        reportZodIssues(out, nested, base, data, schema);
        continue;
      }
    }
    if (issue.code === 'unrecognized_keys') {
      const allowed = allowedKeysAt(schema, rel, data) ?? [];
      for (const key of issue.keys) {
        const hint = suggestKey(key, allowed);
        const message =
          hint === null ? `unknown key "${key}"` : `unknown key "${key}" (did you mean "${hint}"?)`;
        out.add('schema', [...base, ...rel, key], message, 'key');
      }
      continue;
    }
    const found = valueAt(data, rel);
    const path = [...base, ...rel];
    if (!found.present || found.value === undefined) {
      const what = issue.message.startsWith('expected ') ? ` (${issue.message})` : '';
      out.add('schema', path, `missing required ${path.length === 1 ? 'section' : 'field'}${what}`);
      continue;
    }
    const message = issue.message.startsWith('expected ')
      ? `${issue.message}, found ${describeValue(found.value)}`
      : issue.message;
    out.add('schema', path, message);
  }
}
