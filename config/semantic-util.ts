/** Helpers shared by the cross-field checks. */
import type { IssueCollector } from './issues.ts';
import type { FieldPath } from './positions.ts';
import type { RawConfig } from './schema.ts';

/** The sections that passed the schema; a check runs only when the sections it reads are here. */
export type Sections = Partial<RawConfig>;

/**
 * Reports every entry whose key repeats an earlier entry's, at the later entry, naming the line
 * of the first one.
 */
export function reportDuplicates<T>(
  out: IssueCollector,
  items: readonly T[],
  keyOf: (item: T) => string | null,
  pathOf: (index: number) => FieldPath,
  what: string,
): void {
  const first = new Map<string, number>();
  items.forEach((item, index) => {
    const key = keyOf(item);
    if (key === null) return;
    const earlier = first.get(key);
    if (earlier === undefined) {
      first.set(key, index);
      return;
    }
    out.add('semantic', pathOf(index), `duplicate ${what} (first at line ${out.lineOf(pathOf(earlier))})`);
  });
}

export function listNames(names: readonly string[]): string {
  return names.length === 0 ? 'none defined' : names.join(', ');
}

export const familyName = (f: 4 | 6): string => (f === 4 ? 'IPv4' : 'IPv6');
