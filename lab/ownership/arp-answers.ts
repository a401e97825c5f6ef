/**
 * Who answered ARP for the VIP, per probe slot (arp-probe.ts sends one request per slot), as
 * changes: [slot, "mac,mac"] each time the set of answering MACs changed ('?': slots the probe
 * itself missed, stalled; they are skipped: a run goes on across them, without their time). Pure analysis of a window of
 * slots: the longest run with two or more MACs answering (two owners), the longest run with none
 * (no owner), and who answered in the last slots of the window.
 */

export type AnswerChanges = readonly (readonly [number, string])[];

export interface AnswerFigures {
  /** Longest run of slots, in ms, in which two or more MACs answered. */
  overlapMs: number;
  /** Longest run of slots, in ms, in which no MAC answered. */
  unansweredMaxMs: number;
  /** The MACs that answered in the last `endSlots` slots of the window. */
  ownersAtEnd: string[];
}

/** The answer set of each slot in [from, to), from the changes (the set before `from` carries in). */
function* slots(changes: AnswerChanges, from: number, to: number): Generator<string[]> {
  let i = 0;
  let current: string[] = [];
  for (let s = from; s < to; s++) {
    while (i < changes.length && changes[i][0] <= s) {
      const c = changes[i][1];
      current = c === '' ? [] : c === '?' ? ['?'] : c.split(',');
      i++;
    }
    yield current;
  }
}

export function answerFigures(
  changes: AnswerChanges,
  from: number,
  to: number,
  slotMs: number,
  endSlots = 100,
): AnswerFigures {
  let both = 0;
  let none = 0;
  let bothMax = 0;
  let noneMax = 0;
  const end = new Set<string>();
  let s = from;
  for (const macs of slots(changes, from, to)) {
    const unknown = macs[0] === '?';
    if (!unknown) {
      both = macs.length >= 2 ? both + 1 : 0;
      none = macs.length === 0 ? none + 1 : 0;
    }
    bothMax = Math.max(bothMax, both);
    noneMax = Math.max(noneMax, none);
    if (s >= to - endSlots && !unknown) for (const m of macs) end.add(m);
    s++;
  }
  return { overlapMs: bothMax * slotMs, unansweredMaxMs: noneMax * slotMs, ownersAtEnd: [...end].sort() };
}
