/**
 * Maps a field path (["services", 0, "port"]) to a line and column of the YAML source, so every
 * config error can name file:line:col like a compiler does.
 */
import { type Document, isMap, isPair, isScalar, isSeq, type LineCounter, type Node, type Pair } from 'yaml';

export type FieldPath = ReadonlyArray<string | number>;

export interface Position {
  line: number;
  col: number;
}

/** Where on the field an error should point. */
export type Anchor = 'value' | 'key';

export interface SourceMap {
  /** Position of the field at `path`, or of its nearest existing ancestor when it is absent. */
  locate(path: FieldPath, anchor?: Anchor): Position;
  /** True when the field is written in the file (not filled in by a default). */
  has(path: FieldPath): boolean;
}

interface Step {
  node: Node | null;
  /** The map entry that holds `node`, when it is a map value. */
  pair: Pair | null;
}

function child(node: Node | null, segment: string | number): Step | null {
  if (isMap(node)) {
    for (const item of node.items) {
      if (isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment)) {
        return { node: (item.value as Node | null) ?? null, pair: item };
      }
    }
    return null;
  }
  if (isSeq(node) && typeof segment === 'number') {
    const item = node.items[segment];
    return item === undefined ? null : { node: item as Node, pair: null };
  }
  return null;
}

export function createSourceMap(doc: Document, lines: LineCounter): SourceMap {
  const pos = (offset: number): Position => {
    const { line, col } = lines.linePos(offset);
    return { line, col };
  };
  const root: Node | null = (doc.contents as Node | null) ?? null;

  const walk = (path: FieldPath): { steps: Step[]; complete: boolean } => {
    const steps: Step[] = [{ node: root, pair: null }];
    for (const segment of path) {
      const next = child(steps[steps.length - 1].node, segment);
      if (next === null) return { steps, complete: false };
      steps.push(next);
    }
    return { steps, complete: true };
  };

  const keyPos = (pair: Pair): Position | null => {
    const range = (pair.key as Node | null)?.range;
    return range ? pos(range[0]) : null;
  };

  return {
    has(path) {
      return walk(path).complete;
    },
    locate(path, anchor = 'value') {
      const { steps, complete } = walk(path);
      const last = steps[steps.length - 1];
      // A missing field is reported at the key that owns its parent map (`node:` for a missing
      // node.id), which is where the operator has to add it; likewise for whole maps and lists,
      // whose own range starts at their first entry, possibly lines below.
      const r = last.node?.range;
      const empty = isScalar(last.node) && r != null && r[0] === r[1];
      const atKey = anchor === 'key' || !complete || empty || isMap(last.node) || isSeq(last.node);
      if (atKey && last.pair) {
        const p = keyPos(last.pair);
        if (p) return p;
      }
      const range = last.node?.range;
      if (range) return pos(range[0]);
      if (last.pair) {
        const p = keyPos(last.pair);
        if (p) return p;
      }
      return { line: 1, col: 1 };
    },
  };
}
