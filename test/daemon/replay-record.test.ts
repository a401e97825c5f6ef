/** The election's replay state across restarts (issue 21, item 3): recorded, read back, damage tolerated. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { loadReplaySeeds, ReplayRecorder } from '../../daemon/replay-record.ts';

function dir(t: { teardown(fn: () => void): void }): string {
  const d = mkdtempSync(join(tmpdir(), 'dsr-replay-'));
  t.teardown(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

test('what the guard held is read back by the next run; written only when it changed', (t) => {
  const d = dir(t);
  let seeds = [{ peer: 9, session: 0xabcdef0123456789n, highestSeq: 12345n }];
  const r = new ReplayRecorder(d, 'replay-election.json', () => seeds);
  r.flush();
  t.deepEqual(loadReplaySeeds(d, 'replay-election.json'), seeds);
  const path = join(d, 'replay-election.json');
  writeFileSync(path, readFileSync(path, 'utf8')); // same text: no rewrite needed below
  seeds = [...seeds, { peer: 3, session: 1n, highestSeq: 2n }];
  r.stop();
  t.deepEqual(
    loadReplaySeeds(d, 'replay-election.json').sort((a, b) => a.peer - b.peer),
    [
      { peer: 3, session: 1n, highestSeq: 2n },
      { peer: 9, session: 0xabcdef0123456789n, highestSeq: 12345n },
    ],
  );
});

test('no file or a damaged one: no seeds, and a warning', (t) => {
  const d = dir(t);
  t.deepEqual(loadReplaySeeds(d, 'replay-election.json'), []);
  writeFileSync(join(d, 'replay-election.json'), '{"peers":[{"peer":"x"}]}');
  const warned: string[] = [];
  const log = { warn: (_o: unknown, m: string) => warned.push(m) } as unknown as Parameters<
    typeof loadReplaySeeds
  >[2];
  t.deepEqual(loadReplaySeeds(d, 'replay-election.json', log), []);
  t.is(warned.length, 1);
});
