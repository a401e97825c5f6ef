/** Counting a peer's tables from its bulk answer (sync/bulk-tally.ts), as the drill does. */
import test from 'ava';
import { BulkTally } from '../../sync/bulk-tally.ts';
import { packEntries, type SyncEntry } from '../../sync/entries.ts';
import type { ApplyOp } from '../../sync/receiver.ts';

const b = (n: number) => new Uint8Array([198, 18, 0, n]);
const entry = (kind: SyncEntry['kind'], lifetimeMs: number): ApplyOp => ({
  op: 'entries',
  bulk: true,
  entries: packEntries([
    {
      kind,
      proto: 6,
      client: b(10),
      clientPort: kind === 'persist' ? 0 : 40000,
      vip: b(200),
      vport: 80,
      realServer: b(100),
      tcpState: 2,
      lifetimeMs,
    },
  ]),
});

test('a bulk is counted from its first to its last message, by kind and remaining life', (t) => {
  const tally = new BulkTally(360_000);
  // Live updates before the bulk starts are not part of the table count.
  tally.feed([entry('conn', 900_000), entry('conn', 900_000)]);
  t.is(tally.result, null);
  tally.feed([{ op: 'bulk-begin' }, entry('conn', 900_000), entry('conn', 360_000)]);
  t.is(tally.result, null, 'not complete before the bulk ends');
  tally.feed([entry('persist', 200_000), entry('conn', 1_000), { op: 'bulk-end' }, entry('conn', 900_000)]);
  t.deepEqual(tally.result, { conns: 3, longLived: 1, persist: 1 });
  // Later bulks do not change a completed count.
  tally.feed([{ op: 'bulk-begin' }, { op: 'bulk-end' }]);
  t.deepEqual(tally.result, { conns: 3, longLived: 1, persist: 1 });
});

test('a bulk that restarts is counted from its new beginning; an end without a beginning is ignored', (t) => {
  const tally = new BulkTally(0);
  tally.feed([{ op: 'bulk-end' }]);
  t.is(tally.result, null);
  tally.feed([
    { op: 'bulk-begin' },
    entry('conn', 5),
    { op: 'bulk-begin' },
    entry('conn', 5),
    { op: 'bulk-end' },
  ]);
  t.deepEqual(tally.result, { conns: 1, longLived: 1, persist: 0 });
});
