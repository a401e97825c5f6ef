/**
 * The advert keeper's rules (failover/thread/advert-cover.ts) over a real CoverBoard, and what the
 * election group makes of a stall the keeper covered. Time is passed in; nothing here sleeps.
 */
import test from 'ava';
import { SenderSession } from '../../core/auth/session.ts';
import { ElectionGroup } from '../../failover/election/group.ts';
import type { AdvertMessage, Outgoing } from '../../failover/election/messages.ts';
import { AdvertCover, CoverTemplates } from '../../failover/thread/advert-cover.ts';
import { CoverBoard } from '../../failover/thread/cover-board.ts';

const fp = new Uint8Array(16).fill(7);
const INTERVAL = 20;
const SPACING = 10;

function advert(over: Partial<AdvertMessage> = {}): Outgoing {
  const message: AdvertMessage = {
    kind: 'advert',
    groupId: 1,
    from: 1,
    priority: 150,
    state: 'master',
    intervalMs: INTERVAL,
    fingerprint: fp,
    syncReady: true,
    phase: 128,
    ...over,
  };
  return { to: 'all', message };
}

/** The election thread's side and the keeper's, as the worker wires them (postMessage is instant here). */
function pair(limitMs?: number) {
  const board = new CoverBoard(1);
  const templates = new CoverTemplates(board, [{ groupId: 1, spacingMs: SPACING }]);
  const cover = new AdvertCover(board, limitMs);
  const threadSends = (out: Outgoing[], now: number) => {
    const changed = templates.observe(out, now);
    if (changed !== null) cover.setTemplates(changed.epoch, changed.templates);
  };
  /** Keeper checks every 5 ms over [from, to]; the adverts it sent, with their times. */
  const keeperRuns = (from: number, to: number) => {
    const sent: { at: number; message: AdvertMessage }[] = [];
    for (let at = from; at <= to; at += 5) for (const m of cover.check(at)) sent.push({ at, message: m });
    return sent;
  };
  return { board, templates, cover, threadSends, keeperRuns };
}

test('silent while the election thread sends; speaks for it, every spacing and phase 0, when it stops', (t) => {
  const p = pair();
  for (let at = 0; at <= 100; at += SPACING) p.threadSends([advert()], at);
  t.deepEqual(p.keeperRuns(0, 100), [], 'the thread sends: the keeper does not');
  // The thread's last advert went out at 100; it is not scheduled again until 300.
  const sent = p.keeperRuns(105, 300);
  t.is(sent[0].at, 125, 'after two spacings and the slack (100 + 2 × 10 + 2, on the next 5 ms check)');
  t.true(
    sent.every((s, i) => i === 0 || s.at - sent[i - 1].at === SPACING),
    'then every spacing',
  );
  t.true(
    sent.every((s) => s.message.phase === 0 && s.message.priority === 150 && s.message.state === 'master'),
  );
  t.is(p.board.coveredUntil(0), sent[sent.length - 1].at, 'no gap over 2 × interval: covered to its last');
  t.like(p.board.counters(), { covers: 1, advertsSent: sent.length });
  // Back: the thread sends again and the keeper goes quiet at once.
  p.threadSends([advert()], 301);
  t.deepEqual(p.keeperRuns(305, 315), []);
});

test('a change of what the master says silences stale words until the new ones arrive', (t) => {
  const p = pair();
  p.threadSends([advert()], 0);
  // The thread resigns (priority 0) and the keeper has not had the news yet: the epoch moved first.
  const board = p.board;
  const stale = new AdvertCover(board);
  stale.setTemplates(board.epoch, [
    { slot: 0, message: advert().message as AdvertMessage, spacingMs: SPACING },
  ]);
  p.threadSends([advert({ priority: 0 })], 1);
  t.deepEqual(stale.check(100), [], 'a keeper holding the old epoch sends nothing');
  t.deepEqual(p.keeperRuns(5, 200), [], 'and with the new templates there is no master to speak for');
  // A new priority is a new template: the keeper speaks with it.
  p.threadSends([advert({ priority: 120 })], 200);
  const sent = p.keeperRuns(205, 260);
  t.true(sent.length > 0 && sent.every((s) => s.message.priority === 120));
  // Backup heartbeats are not covered.
  p.threadSends([advert({ state: 'backup', priority: 120 })], 261);
  t.deepEqual(p.keeperRuns(265, 400), []);
});

test('it stops at its limit (a stuck thread is broken, not paused), and says so once', (t) => {
  const p = pair(100);
  p.threadSends([advert()], 0);
  const sent = p.keeperRuns(5, 400);
  t.true(sent.length > 0);
  t.true(
    sent.every((s) => s.at <= 100),
    'nothing after 100 ms of the thread’s silence',
  );
  t.is(p.board.counters().gaveUp, 1);
});

test('a keeper that was itself held up leaves the cover unproven from that gap on', (t) => {
  const p = pair();
  p.threadSends([advert()], 0);
  const first = p.keeperRuns(5, 60);
  const until = p.board.coveredUntil(0);
  t.is(until, first[first.length - 1].at);
  // The keeper is not scheduled from 60 to 120 (a gap over 2 × interval in what peers heard).
  const later = p.keeperRuns(120, 200);
  t.true(later.length > 0, 'it still speaks: the backup may not have acted yet');
  t.is(p.board.coveredUntil(0), until, 'but the cover no longer vouches for the silence');
});

test('two senders of one session draw distinct sequence numbers from the shared cell', (t) => {
  const board = new CoverBoard(1);
  const a = new SenderSession(5n, 1000, 0, board.sequence);
  const b = new SenderSession(5n, 1000, 0, new CoverBoard(1, board.buffer).sequence);
  const seqs = [a.next(1), b.next(2), a.next(3), b.next(4)].map((s) => s.seq);
  t.deepEqual(seqs, [1n, 2n, 3n, 4n]);
  t.is(a.lastSeq, 4n);
  t.is(b.next(5).timestampMs, 1005, 'the same session clock');
});

function master(): ElectionGroup {
  const g = new ElectionGroup({
    groupId: 1,
    nodeId: 1,
    priority: 200,
    advertIntervalMs: INTERVAL,
    advertsPerInterval: 2,
    fingerprint: fp,
    peers: [2],
    random: () => 0.5,
  });
  g.step(0, { kind: 'start' });
  let now = 0;
  while (g.state !== 'master') {
    now = g.nextDeadline()!;
    g.step(now, { kind: 'tick' });
  }
  return g;
}

test('a master whose adverts were kept going through its stall does not fence itself', (t) => {
  const g = master();
  const at = g.status(100).counters;
  // Not scheduled for 200 ms; the keeper sent adverts until 2 ms before it resumed.
  g.step(100, { kind: 'tick' });
  g.step(300, { kind: 'covered', until: 298 });
  const out = g.step(300, { kind: 'tick' });
  t.is(out.state, 'master');
  t.deepEqual(out.transitions, []);
  t.false(out.effects.some((e) => e.type === 'alert' && e.alert.kind === 'stall-detected'));
  t.is(g.status(300).counters.coveredStalls, (at.coveredStalls ?? 0) + 1);
  t.is(g.status(300).counters.stalls, 0);
});

test('a cover that ended too early, or an old one, does not spare the fence', (t) => {
  const g = master();
  g.step(100, { kind: 'tick' });
  g.step(300, { kind: 'covered', until: 150 }); // the keeper gave up (or was held up) 150 ms before the thread resumed
  const out = g.step(300, { kind: 'tick' });
  t.is(out.state, 'backup');
  t.like(out.transitions[0], { from: 'master', to: 'backup', reason: 'stall' });
  // Master again later: a cover from before does not count for a new stall.
  const h = master();
  h.step(100, { kind: 'covered', until: 50 });
  h.step(100, { kind: 'tick' });
  t.is(h.step(300, { kind: 'tick' }).state, 'backup');
});
