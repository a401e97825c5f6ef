/**
 * Config issues: one error each, with file:line:col, the field path and a message saying what
 * was expected and what was found. All issues of a file are collected and returned together, so
 * an operator fixes a file in one pass instead of one error per run.
 */
import type { Anchor, FieldPath, SourceMap } from './positions.ts';

/** syntax: YAML itself; schema: a field's type or range; semantic: a rule across fields; file: a file it names. */
export type ConfigIssueKind = 'syntax' | 'schema' | 'semantic' | 'file';

export interface ConfigIssue {
  file: string;
  line: number;
  col: number;
  /** Field path as written in the file, e.g. `services[0].real_servers[1].weight`; '' for the whole file. */
  path: string;
  message: string;
  kind: ConfigIssueKind;
}

export function formatPath(path: FieldPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}

/** A short description of a value for "found ..." (strings quoted and cut, collections by kind). */
export function describeValue(value: unknown): string {
  if (value === null) return 'an empty value';
  if (typeof value === 'string') {
    const cut = value.length > 60 ? `${value.slice(0, 57)}...` : value;
    return JSON.stringify(cut);
  }
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'object') return Object.keys(value).length === 0 ? 'an empty map' : 'a map';
  return String(value);
}

export interface ValueAt {
  present: boolean;
  value: unknown;
}

export function valueAt(data: unknown, path: FieldPath): ValueAt {
  let cur: unknown = data;
  for (const segment of path) {
    if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, segment)) {
      return { present: false, value: undefined };
    }
    cur = (cur as Record<string | number, unknown>)[segment];
  }
  return { present: true, value: cur };
}

/** `file:line:col: path: message`, one line per issue, sorted by position. */
export function formatConfigIssues(issues: readonly ConfigIssue[]): string[] {
  return sortIssues(issues).map(
    (i) => `${i.file}:${i.line}:${i.col}: ${i.path === '' ? '' : `${i.path}: `}${i.message}`,
  );
}

export function sortIssues(issues: readonly ConfigIssue[]): ConfigIssue[] {
  return [...issues].sort((a, b) => a.line - b.line || a.col - b.col || a.path.localeCompare(b.path));
}

/** Collects issues for one file, placing each one through the YAML source map. */
export class IssueCollector {
  readonly issues: ConfigIssue[] = [];
  readonly #file: string;
  readonly #source: SourceMap;

  constructor(file: string, source: SourceMap) {
    this.#file = file;
    this.#source = source;
  }

  /**
   * Records an issue about the field at `path`. `at` places it elsewhere when the field itself is
   * absent and another place is where the operator should look (e.g. a missing `keys` section
   * reported at `peers`, which is what makes keys required).
   */
  add(
    kind: ConfigIssueKind,
    path: FieldPath,
    message: string,
    anchor: Anchor = 'value',
    at?: FieldPath,
  ): void {
    const { line, col } = this.#source.locate(at ?? path, anchor);
    const issue = { file: this.#file, line, col, path: formatPath(path), message, kind };
    const dup = this.issues.some(
      (i) => i.line === line && i.col === col && i.path === issue.path && i.message === message,
    );
    if (!dup) this.issues.push(issue);
  }

  /** Line of a field, for messages such as "first defined at line 12". */
  lineOf(path: FieldPath): number {
    return this.#source.locate(path).line;
  }

  get count(): number {
    return this.issues.length;
  }
}
