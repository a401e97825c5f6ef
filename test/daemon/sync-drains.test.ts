/**
 * Drains shared between directors through the sync's STATE messages (daemon/sync/drains.ts),
 * with the real drain tracker behind each director and the datagrams replaced by direct calls: a
 * drain made on the active is held by the standby (so it survives a failover), an enable made on
 * the new active wins, a restarted director takes its peer's drains, and bad states change nothing.
 */
import test from 'ava';
import { DrainShare, type SyncDrainView } from '../../daemon/sync/drains.ts';
import { DrainTracker } from '../../health/drain-tracker.ts';
import type { SharedState } from '../../sync/service.ts';

const T0 = 1_800_000_000_000;

/** A director: its drain tracker (what the health part holds), seen through the sync's view. */
class Director implements SyncDrainView {
  readonly tracker: DrainTracker;
  readonly share: DrainShare;
  readonly #listeners = new Set<() => void>();
  /** What this director's sync would send (the latest; the sync resends it). */
  sent: SharedState | undefined;
  peer: Director | undefined;

  constructor(id: number, clock: () => number) {
    this.tracker = new DrainTracker({ now: clock, remainingFlows: () => ({ open: 1, closing: 0 }) });
    this.share = new DrainShare({ view: this, selfNodeId: id, wallNow: clock });
    this.share.attach({
      shareState: (s) => {
        this.sent = s;
        this.peer?.share.onShared('peer', s);
      },
    });
  }

  drainSnapshot(): unknown {
    return this.tracker.snapshot();
  }

  restoreDrains(snapshot: unknown): void {
    this.tracker.restore(snapshot);
  }

  onDrainStateChange(listener: () => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** What the health part's admin commands do: change, then tell the listeners. */
  operator(change: (t: DrainTracker) => unknown): void {
    change(this.tracker);
    for (const l of this.#listeners) l();
  }

  drained(rs: string, service = 'web'): boolean {
    return this.tracker.isDrained(rs, service);
  }
}

function pair() {
  let now = T0;
  const a = new Director(1, () => now);
  const b = new Director(2, () => now);
  a.peer = b;
  b.peer = a;
  return { a, b, tick: (ms: number) => (now += ms) };
}

test('a drain made on the active is held by the standby; an enable on the new active wins back', (t) => {
  const { a, b, tick } = pair();
  a.operator((tr) => tr.drain('198.18.0.101', { service: 'web', timeoutMs: 0 }));
  t.true(b.drained('198.18.0.101'), 'the standby holds the drain');
  t.is(b.share.status().adopted, 1);
  // Failover: b is the active now, and the operator enables the real server there.
  tick(5000);
  b.operator((tr) => tr.enable('198.18.0.101'));
  t.false(a.drained('198.18.0.101'), 'the old active takes the enable');
  t.true(a.share.status().version.stamp > 0);
  t.deepEqual(a.share.status().version, b.share.status().version);
  // Resends of versions already held change nothing.
  a.operator((tr) => tr.setWeight('198.18.0.102', 5));
  const before = a.tracker.snapshot();
  b.share.onShared('peer', b.sent!);
  a.share.onShared('peer', b.sent!); // older than a's own: ignored
  t.deepEqual(a.tracker.snapshot(), before);
  t.is(b.tracker.weightFor('198.18.0.102', 'web', 1), 5);
});

test('a restarted director takes its peer drains at the next resend', (t) => {
  const { a, b } = pair();
  a.operator((tr) => tr.drain('198.18.0.100', { timeoutMs: 60_000 }));
  // b restarts: empty drains, version 0.
  const fresh = new Director(2, () => T0 + 10_000);
  fresh.peer = a;
  a.peer = fresh;
  t.false(fresh.drained('198.18.0.100'));
  fresh.share.onShared('peer', a.sent!); // a's sync resends every second
  t.true(fresh.drained('198.18.0.100'));
  t.true(b.drained('198.18.0.100'));
});

test('a state that does not parse or validate is refused, counted, and does not block a later good one', (t) => {
  const { a, b } = pair();
  b.share.onShared('peer', { stamp: T0 + 1, origin: 1, payload: Buffer.from('{not json') });
  b.share.onShared('peer', {
    stamp: T0 + 2,
    origin: 1,
    payload: Buffer.from(JSON.stringify({ version: 1, drains: 'all', weights: [] })),
  });
  t.is(b.share.status().refused, 2);
  t.is(b.share.status().version.stamp, 0, 'nothing adopted');
  t.deepEqual(b.tracker.entries(), []);
  a.operator((tr) => tr.drain('198.18.0.100', { timeoutMs: 0 }));
  t.true(b.drained('198.18.0.100', 'dns'));
});

test('changes made while the sync is down are shared when it comes back', (t) => {
  let now = T0;
  const a = new Director(1, () => now);
  const sent: SharedState[] = [];
  a.share.detach();
  a.operator((tr) => tr.drain('198.18.0.100', { timeoutMs: 0 }));
  now += 1;
  a.share.attach({ shareState: (s) => sent.push(s) });
  t.is(sent.length, 1);
  t.like(JSON.parse(sent[0].payload.toString()), { drains: [{ rs: '198.18.0.100' }] });
  a.share.close();
  a.operator((tr) => tr.enable('198.18.0.100'));
  t.is(sent.length, 1, 'closed: no more shares');
});
