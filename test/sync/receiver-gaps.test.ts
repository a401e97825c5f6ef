/**
 * The receiver's reports of lost datagrams, as a transcript: a gap is reported (NACK) in the step
 * that shows it, a second loss while the first is being repaired too, a reordered datagram of a
 * gap known already reports nothing, and open gaps are reported again every `nackRetryMs`.
 * Delivery is in order, so every millisecond a gap waits holds back every entry behind it.
 */
import test from 'ava';
import type { SyncMessage } from '../../sync/messages.ts';
import { syncOptions } from '../../sync/options.ts';
import { SyncReceiver } from '../../sync/receiver.ts';

const STREAM = 9n;
const data = (seq: number): SyncMessage => ({
  type: 'data',
  seq,
  flags: 0,
  bulkId: 0,
  entries: Buffer.alloc(0),
});
const nacks = (out: { send: SyncMessage[] }): [number, number][][] =>
  out.send.flatMap((m) => (m.type === 'nack' ? [m.ranges] : []));

test('each loss is reported when it shows, open gaps again every retry period', (t) => {
  const r = new SyncReceiver(syncOptions({ nackRetryMs: 8 }), 0, 1);
  r.step(0, STREAM, data(1));
  t.deepEqual(nacks(r.step(1, STREAM, data(3))), [[[2, 2]]], 'seq 2 missing: reported at once');
  t.deepEqual(nacks(r.step(2, STREAM, data(4))), [], 'nothing new missing');
  t.deepEqual(nacks(r.step(3, STREAM, data(6))), [[[5, 5]]], 'a second loss: reported at once too');
  t.deepEqual(nacks(r.step(4, STREAM, data(5))), [], 'a reordered datagram fills a gap: no report');
  t.is(r.notInSync, 'resyncing', 'not in sync: it asked for a bulk on hearing the stream');
  t.is(r.status(4).deliveredUpTo, 1, 'seq 2 holds back 3 to 6');
  t.deepEqual(nacks(r.tick(5)), [], 'within the retry period of the first report');
  t.deepEqual(nacks(r.tick(9)), [[[2, 2]]], 'the gap still open is reported again');
  t.deepEqual(nacks(r.tick(12)), [], 'and not again before the next period');
  r.step(13, STREAM, data(2));
  t.is(r.status(13).deliveredUpTo, 6, 'the retransmit delivers everything held behind it');
  t.is(r.status(13).gapAgeMs, 0);
  t.deepEqual(nacks(r.tick(30)), [], 'no gap left to report');
});
