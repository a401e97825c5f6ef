import test from 'ava';
import fc from 'fast-check';
import { ReplayGuard, type ReplayInput } from '../../core/auth/replay-guard.ts';
import { newSessionId, SenderSession } from '../../core/auth/session.ts';

const WALL0 = 1_800_000_000_000;
const S1 = newSessionId(WALL0, 1);

function msg(seq: number, timestampMs = WALL0, session = S1, peer = 2, stream = 'election'): ReplayInput {
  return { peer, stream, session, seq: BigInt(seq), timestampMs };
}
const at = (mono: number) => ({ mono, wall: WALL0 + mono });

test('in-order sequence accepted, duplicates and too-old dropped as replay', (t) => {
  const g = new ReplayGuard({ windowSize: 8 });
  t.is(g.accept(msg(1), at(0)), 'ok');
  t.is(g.accept(msg(2), at(0)), 'ok');
  t.is(g.accept(msg(2), at(0)), 'replay');
  t.is(g.accept(msg(20), at(0)), 'ok');
  t.is(g.accept(msg(13), at(0)), 'ok', 'inside the window and unseen');
  t.is(g.accept(msg(13), at(0)), 'replay');
  t.is(g.accept(msg(12), at(0)), 'replay', 'at the window edge (20 - 8)');
  t.is(g.accept(msg(2), at(0)), 'replay');
});

test('reordering inside the window is accepted once each', (t) => {
  const g = new ReplayGuard({ windowSize: 64 });
  const order = [5, 1, 3, 2, 4, 9, 7, 8, 6];
  for (const s of order) t.is(g.accept(msg(s), at(0)), 'ok', `seq ${s}`);
  for (const s of order) t.is(g.accept(msg(s), at(0)), 'replay', `seq ${s} again`);
});

test('streams and peers have separate windows', (t) => {
  const g = new ReplayGuard();
  t.is(g.accept(msg(1, WALL0, S1, 2, 'election'), at(0)), 'ok');
  t.is(g.accept(msg(1, WALL0, S1, 2, 'sync'), at(0)), 'ok');
  t.is(g.accept(msg(1, WALL0, S1, 3, 'election'), at(0)), 'ok');
  t.is(g.accept(msg(1, WALL0, S1, 2, 'election'), at(0)), 'replay');
});

test('a restarted peer (greater session) is accepted; the old session is then a replay', (t) => {
  const g = new ReplayGuard();
  t.is(g.accept(msg(500), at(0)), 'ok');
  const s2 = newSessionId(WALL0 + 60_000, 7);
  t.is(g.accept(msg(1, WALL0 + 60_000, s2), at(60_000)), 'ok');
  t.is(g.accept(msg(501), at(60_001)), 'replay', 'captured packet of the previous run');
  t.is(g.accept(msg(2, WALL0 + 60_002, s2), at(60_002)), 'ok');
});

test('newSessionId stays above a persisted previous id even if the clock went backwards', (t) => {
  const before = newSessionId(WALL0, 0xffff);
  const after = newSessionId(WALL0 - 3_600_000, 3, before);
  t.true(after > before);
  t.true(newSessionId(WALL0 + 1, 0) > before);
});

test('relative staleness: a message held back longer than maxDelayMs is stale, without clock sync', (t) => {
  // The sender's clock is 2 hours off ours: irrelevant to the relative check.
  const skew = 7_200_000;
  const g = new ReplayGuard({ maxDelayMs: 500, maxClockSkewMs: Number.POSITIVE_INFINITY });
  const sender = new SenderSession(S1, WALL0 + skew, 0);
  const stamps = [0, 100, 200, 300].map((mono) => sender.next(mono));
  const deliver = (i: number, mono: number) =>
    g.accept(
      { peer: 2, stream: 'e', session: S1, seq: stamps[i].seq, timestampMs: stamps[i].timestampMs },
      at(mono),
    );
  t.is(deliver(0, 1), 'ok');
  t.is(deliver(1, 101), 'ok');
  t.is(deliver(3, 301), 'ok');
  t.is(deliver(2, 900), 'stale', 'sent at 200, delivered 700 ms late');
  t.is(deliver(2, 600), 'ok', 'a stale verdict changes no state');
});

test('relative staleness follows a slow clock drift but not a sudden delay', (t) => {
  const g = new ReplayGuard({ maxDelayMs: 100, driftPpm: 1000 });
  // The sender's clock runs 500 ppm slow: after 1000 s it lags 500 ms behind ours.
  for (let i = 0; i <= 1000; i++) {
    const mono = i * 1000;
    const ts = WALL0 + Math.round(mono * (1 - 500e-6));
    t.is(g.accept(msg(i + 1, ts), at(mono)), 'ok', `message ${i}`);
  }
  t.is(g.accept(msg(1003, WALL0 + 1_000_500), at(1_001_000)), 'ok');
  t.is(
    g.accept(msg(1004, WALL0 + 1_000_600), at(1_002_600)),
    'stale',
    'sent at 1_001_100, 1.5 s late at once',
  );
});

test('absolute check applies only when a session is first seen, with a generous window', (t) => {
  const g = new ReplayGuard({ maxClockSkewMs: 3_600_000 });
  t.is(g.accept(msg(1, WALL0 - 4_000_000), at(0)), 'stale', 'capture older than the window, no state held');
  t.is(g.accept(msg(1, WALL0 - 3_000_000), at(0)), 'ok', 'peer clock 50 min behind: accepted');
  // Within the session only the relative check runs: our wall clock stepping changes nothing.
  t.is(g.accept(msg(2, WALL0 - 2_999_900), { mono: 100, wall: WALL0 + 86_400_000 }), 'ok');
});

test('forgetting a silent peer lets a session with a smaller id in again', (t) => {
  const g = new ReplayGuard({ forgetAfterMs: 10_000 });
  const s2 = newSessionId(WALL0 + 5, 1);
  t.is(g.accept(msg(1, WALL0, s2), at(0)), 'ok');
  t.is(g.accept(msg(1, WALL0 + 5000, S1), at(5000)), 'replay');
  t.is(g.accept(msg(1, WALL0 + 20_000, S1), at(20_000)), 'ok', 'peer silent past forgetAfterMs');
  g.forget(2);
  t.deepEqual(g.snapshot(), []);
});

test('entries are bounded: the longest-silent one is evicted', (t) => {
  const g = new ReplayGuard({ maxEntries: 3 });
  for (let peer = 1; peer <= 5; peer++) t.is(g.accept(msg(1, WALL0, S1, peer), at(peer)), 'ok');
  t.deepEqual(
    g
      .snapshot()
      .map((e) => e.peer)
      .sort(),
    [3, 4, 5],
  );
});

test('property: every (session, seq) is accepted at most once, whatever the order', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 200 })), {
        maxLength: 300,
      }),
      fc.integer({ min: 1, max: 128 }),
      (items, windowSize) => {
        const g = new ReplayGuard({ windowSize, maxClockSkewMs: Number.POSITIVE_INFINITY });
        const seen = new Set<string>();
        let highestSession = 0;
        for (const [session, seq] of items) {
          const verdict = g.accept(msg(seq, WALL0, BigInt(session)), at(0));
          const key = `${session}:${seq}`;
          if (verdict === 'ok') {
            if (seen.has(key)) return false;
            if (session < highestSession) return false;
            seen.add(key);
            highestSession = Math.max(highestSession, session);
          }
        }
        return true;
      },
    ),
    { numRuns: 300 },
  );
  t.pass();
});

test('a guard seeded with what an earlier run accepted drops that session up to its highest number', (t) => {
  const g = new ReplayGuard();
  const now = { mono: 1000, wall: Date.now() };
  g.seed(7, 'election', 50n, 100n, now.mono);
  const msg = (session: bigint, seq: bigint) => ({
    peer: 7,
    stream: 'election',
    session,
    seq,
    timestampMs: now.wall,
  });
  t.is(g.accept(msg(50n, 100n), now), 'replay', 'the last one accepted before the restart');
  t.is(g.accept(msg(50n, 40n), now), 'replay', 'older than the window');
  t.is(g.accept(msg(50n, 99n), now), 'replay', 'inside the window');
  t.is(g.accept(msg(49n, 500n), now), 'replay', 'an older session');
  t.is(g.accept(msg(50n, 101n), now), 'ok', 'the peer carries on in its session');
  t.is(g.accept(msg(50n, 101n), now), 'replay');
  t.is(g.accept(msg(51n, 1n), now), 'ok', 'the peer restarted');
});
