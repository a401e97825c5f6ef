/** The ownership benchmark's analysis of ARP answers per slot (lab/ownership/arp-answers.ts). */
import test from 'ava';
import { answerFigures } from '../../../lab/ownership/arp-answers.ts';

const A = '02:d5:00:00:01:00';
const B = '02:d5:00:00:01:01';

test('overlap, unanswered and owners at the end, over a window of slots', (t) => {
  const changes = [
    [0, A],
    [100, `${A},${B}`],
    [130, B],
    [200, ''],
    [260, B],
  ] as const;
  t.deepEqual(answerFigures(changes, 0, 400, 1, 50), {
    overlapMs: 30,
    unansweredMaxMs: 60,
    ownersAtEnd: [B],
  });
  // A window that starts inside the overlap carries the set in; slots of 2 ms scale the runs.
  t.deepEqual(answerFigures(changes, 120, 140, 2, 5), {
    overlapMs: 20,
    unansweredMaxMs: 0,
    ownersAtEnd: [B],
  });
  t.deepEqual(answerFigures([], 0, 10, 1), { overlapMs: 0, unansweredMaxMs: 10, ownersAtEnd: [] });
});

test("slots the probe missed ('?') are skipped: runs go on across them, without their time", (t) => {
  const changes = [
    [0, ''],
    [5, '?'],
    [50, ''],
    [53, `${A},${B}`],
    [55, '?'],
    [90, A],
  ] as const;
  t.deepEqual(answerFigures(changes, 0, 100, 1, 5), { overlapMs: 2, unansweredMaxMs: 8, ownersAtEnd: [A] });
});
