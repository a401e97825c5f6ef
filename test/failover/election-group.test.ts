/** Unit tests of ElectionGroup inputs, outputs and status not covered by the scenario transcripts. */
import test from 'ava';
import fc from 'fast-check';
import { isDsrError } from '../../core/errors.ts';
import { ElectionGroup } from '../../failover/election/group.ts';
import type { ElectionInput } from '../../failover/election/input.ts';
import type { ElectionMessage } from '../../failover/election/messages.ts';
import { masterDownIntervalMs, skewTimeMs } from '../../failover/election/timing.ts';
import type { ElectionOptions } from '../../failover/election/types.ts';

const fp = new Uint8Array(16).fill(7);

function group(over: Partial<ElectionOptions> = {}): ElectionGroup {
  return new ElectionGroup({
    groupId: 1,
    nodeId: 1,
    priority: 200,
    advertIntervalMs: 100,
    fingerprint: fp,
    peers: [2, 3],
    random: () => 0.5,
    ...over,
  });
}

function advert(over: Partial<ElectionMessage> = {}): ElectionMessage {
  return {
    kind: 'advert',
    groupId: 1,
    from: 2,
    priority: 100,
    state: 'master',
    intervalMs: 100,
    fingerprint: fp,
    syncReady: true,
    ...over,
  } as ElectionMessage;
}

/** Runs a group alone until `until`, ticking at its deadlines. */
function runAlone(g: ElectionGroup, from: number, until: number): void {
  let now = from;
  for (;;) {
    const next = g.nextDeadline();
    if (next === null || next > until) return;
    now = Math.max(now, next);
    g.step(now, { kind: 'tick' });
  }
}

test('RFC 5798 §6.1 timers', (t) => {
  t.is(skewTimeMs(200, 100), 21.875);
  t.is(masterDownIntervalMs(200, 100), 321.875);
  t.is(masterDownIntervalMs(254, 1000), 3007.8125);
  t.is(skewTimeMs(1, 256), 255);
});

test('invalid options and inputs fail with E_ELECTION_INPUT', (t) => {
  const bad: Partial<ElectionOptions>[] = [
    { priority: 0 },
    { priority: 255 },
    { groupId: 0 },
    { groupId: 70000 },
    { nodeId: 0 },
    { advertIntervalMs: 0 },
    { advertIntervalMs: 1.5 },
    { fingerprint: new Uint8Array(8) },
    { peers: [1] },
    { preemptDelayMs: -1 },
    { tracked: [{ name: 'x', weight: 0 }] },
    {
      tracked: [
        { name: 'x', weight: 10 },
        { name: 'x', fault: true },
      ],
    },
  ];
  for (const over of bad) {
    t.true(
      isDsrError(
        t.throws(() => group(over)),
        'E_ELECTION_INPUT',
      ),
      JSON.stringify(over),
    );
  }
  const g = group();
  g.step(0, { kind: 'start' });
  t.true(
    isDsrError(
      t.throws(() => g.step(1, { kind: 'set-priority', priority: 255 })),
      'E_ELECTION_INPUT',
    ),
  );
  t.true(
    isDsrError(
      t.throws(() => g.step(1, { kind: 'set-condition', name: 'nope', failing: true })),
      'E_ELECTION_INPUT',
    ),
  );
  t.true(
    isDsrError(
      t.throws(() => g.step(Number.NaN, { kind: 'tick' })),
      'E_ELECTION_INPUT',
    ),
  );
});

test('an input of no known kind fails with E_ELECTION_INPUT and changes nothing', (t) => {
  const g = group();
  g.step(0, { kind: 'start' });
  const before = g.status(1);
  const input = { kind: 'reboot' } as unknown as ElectionInput;
  t.true(
    isDsrError(
      t.throws(() => g.step(1, input)),
      'E_ELECTION_INPUT',
    ),
  );
  t.deepEqual(g.status(1), before);
});

test('illegal transitions fail loudly with E_ILLEGAL_TRANSITION', (t) => {
  const g = group();
  t.true(
    isDsrError(
      t.throws(() => g.step(0, { kind: 'shutdown' })),
      'E_ILLEGAL_TRANSITION',
    ),
    'shutdown before start',
  );
  g.step(0, { kind: 'start' });
  t.true(
    isDsrError(
      t.throws(() => g.step(1, { kind: 'start' })),
      'E_ILLEGAL_TRANSITION',
    ),
    'start twice',
  );
  t.true(
    isDsrError(
      t.throws(() => g.step(1, { kind: 'resign' })),
      'E_ILLEGAL_TRANSITION',
    ),
    'resign as backup',
  );
  t.true(
    isDsrError(
      t.throws(() => g.step(1, { kind: 'request-handover', target: 2, force: false })),
      'E_ILLEGAL_TRANSITION',
    ),
    'handover as backup',
  );
  runAlone(g, 0, 400);
  t.is(g.state, 'master');
  t.true(
    isDsrError(
      t.throws(() => g.step(400, { kind: 'request-handover', target: 3, force: false })),
      'E_ILLEGAL_TRANSITION',
    ),
    'never heard',
  );
});

test('a lone director becomes master after exactly one master-down interval, advertising every interval', (t) => {
  const g = group();
  const first = g.step(0, { kind: 'start' });
  t.is(first.state, 'backup');
  t.is(first.messages.length, 1, 'a heartbeat at once');
  t.is(g.nextDeadline(), 0 + 100);
  const sent: number[] = [];
  let now = 0;
  while (now < 700) {
    now = g.nextDeadline()!;
    const out = g.step(now, { kind: 'tick' });
    for (const m of out.messages) if (m.message.state === 'master') sent.push(now);
  }
  t.is(sent[0], 321.875);
  t.deepEqual(
    sent.slice(1, 4).map((s, i) => s - sent[i]),
    [100, 100, 100],
  );
});

test('messages before start, for another group, from ourselves or strangers are dropped and counted', (t) => {
  const g = group();
  t.is(g.step(0, { kind: 'message', message: advert() }).messages.length, 0);
  g.step(0, { kind: 'start' });
  g.step(1, { kind: 'message', message: advert({ groupId: 9 }) });
  g.step(1, { kind: 'message', message: advert({ from: 1 }) });
  g.step(1, { kind: 'message', message: advert({ from: 77 }) });
  g.step(1, { kind: 'message', message: { ...advert(), kind: 'handover-request', to: 3, token: 1 } });
  g.step(1, {
    kind: 'message',
    message: { ...advert(), kind: 'handover-reject', to: 1, token: 1, reason: 'fault' },
  });
  g.step(1, { kind: 'dropped', reason: 'bad-mac' });
  t.deepEqual(g.status(1).drops, {
    'not-started': 1,
    'wrong-group': 1,
    self: 1,
    'unknown-peer': 1,
    'not-for-us': 1,
    'unexpected-reply': 1,
    'bad-mac': 1,
  });
});

test('status snapshot: peers with last heard, conditions, counters, transitions', (t) => {
  const g = group({
    tracked: [
      { name: 'link', weight: 50 },
      { name: 'fw', fault: true },
    ],
  });
  g.step(0, { kind: 'start' });
  g.step(50, {
    kind: 'message',
    message: advert({ state: 'backup', priority: 150, fingerprint: new Uint8Array(16).fill(9) }),
  });
  g.step(60, { kind: 'set-condition', name: 'link', failing: true });
  const s = g.status(80);
  t.like(s, {
    groupId: 1,
    nodeId: 1,
    state: 'backup',
    basePriority: 200,
    effectivePriority: 150,
    masterId: null,
    preempt: true,
    preemptHold: false,
    syncReady: true,
    fingerprint: '07'.repeat(16),
  });
  t.deepEqual(s.conditions, [
    { name: 'link', failing: true, effect: '-50' },
    { name: 'fw', failing: false, effect: 'fault' },
  ]);
  t.deepEqual(
    s.peers.map((p) => [p.nodeId, p.state, p.lastHeardAgoMs, p.fingerprintMatch]),
    [
      [2, 'backup', 30, false],
      [3, null, null, null],
    ],
  );
  t.deepEqual(s.transitions, [{ at: 0, from: 'initialize', to: 'backup', reason: 'startup' }]);
  t.is(s.counters.messagesReceived, 1);
  t.false(JSON.stringify(s).includes('secret'));
});

test('nextDeadline is never more than one advert interval away, in every state', (t) => {
  fc.assert(
    fc.property(
      fc.array(
        fc.oneof(
          fc.record({ type: fc.constant('tick' as const), dt: fc.integer({ min: 0, max: 90 }) }),
          fc.record({
            type: fc.constant('advert' as const),
            dt: fc.integer({ min: 0, max: 90 }),
            priority: fc.integer({ min: 0, max: 254 }),
            state: fc.constantFrom('master', 'backup', 'fault'),
          }),
          fc.record({
            type: fc.constant('fault' as const),
            dt: fc.integer({ min: 0, max: 90 }),
            on: fc.boolean(),
          }),
        ),
        { maxLength: 60 },
      ),
      (steps) => {
        const g = group({ tracked: [{ name: 'fw', fault: true }] });
        let now = 0;
        g.step(now, { kind: 'start' });
        for (const s of steps) {
          now += s.dt;
          if (s.type === 'tick') g.step(now, { kind: 'tick' });
          else if (s.type === 'advert')
            g.step(now, {
              kind: 'message',
              message: advert({ priority: s.priority, state: s.state as 'master' | 'backup' | 'fault' }),
            });
          else g.step(now, { kind: 'set-condition', name: 'fw', failing: s.on });
          const next = g.nextDeadline();
          if (next === null || next > now + 100) return false;
        }
        return true;
      },
    ),
    { numRuns: 200 },
  );
  t.pass();
});

test('become-master says whether the takeover happened in sync', (t) => {
  const g = group({ syncReady: false });
  g.step(0, { kind: 'start' });
  t.deepEqual(tickUntilMaster(g, 0, 321.875), {
    type: 'become-master',
    reason: 'master-down',
    inSync: false,
  });
});

test('a backup not scheduled when its master-down timer ran out re-learns instead of taking over', (t) => {
  // Two sends per interval (the daemon's setting): a running backup has an input every 50 ms.
  const g = group({ advertsPerInterval: 2 });
  g.step(0, { kind: 'start' });
  for (let at = 50; at <= 250; at += 50) t.is(g.step(at, { kind: 'tick' }).state, 'backup');
  // Not scheduled from 250 to 360 (more than two sends missed), across the deadline (321.875), less
  // than a master-down interval: no stall, but the master may have been paused with us (a host
  // pause). Re-learn, do not take over.
  const late = g.step(360, { kind: 'tick' });
  t.is(late.state, 'backup');
  t.is(late.transitions.length, 0);
  const s = g.status(360);
  t.is(s.counters.lateTimerGraces, 1);
  t.is(s.counters.stalls, 0);
  t.is(s.masterDownInMs, s.masterDownIntervalMs);
  // A master that is really gone is taken over one master-down interval later.
  t.like(tickUntilMaster(g, 360, 360 + 321.875), { reason: 'master-down' });
  // A timer that fires on time (inputs every spacing) takes over at its deadline: shown above.
});

/** Ticks a group at its deadlines until `until`, returning its become-master effect if one came. */
function tickUntilMaster(g: ElectionGroup, from: number, until: number) {
  let now = from;
  for (;;) {
    const next = g.nextDeadline();
    if (next === null || next > until) return undefined;
    now = Math.max(now, next);
    const e = g.step(now, { kind: 'tick' }).effects.find((x) => x.type === 'become-master');
    if (e !== undefined) return e;
  }
}

test('become-master names the master it replaced and when it was last heard (takeover timing)', (t) => {
  // A first election replaces nobody: no takeover, so no failover to report.
  const alone = group();
  alone.step(0, { kind: 'start' });
  t.false('takeover' in (tickUntilMaster(alone, 0, 1000) ?? {}));

  // Master down: node 2 is heard at 10 and 40, then falls silent. It is declared lost before our
  // master-down timer runs out (its interval is shorter than ours), and is still the one replaced.
  const down = group();
  down.step(0, { kind: 'start' });
  down.step(10, { kind: 'message', message: advert({ priority: 250 }) });
  down.step(40, { kind: 'message', message: advert({ priority: 250 }) });
  const e1 = tickUntilMaster(down, 40, 2000);
  t.like(e1, { type: 'become-master', reason: 'master-down', takeover: { from: 2, lastHeardAt: 40 } });

  // Resign: the priority-0 advert is the last thing heard from the old master.
  const resign = group();
  resign.step(0, { kind: 'start' });
  resign.step(10, { kind: 'message', message: advert({ priority: 250 }) });
  resign.step(55, { kind: 'message', message: advert({ priority: 0 }) });
  const e2 = tickUntilMaster(resign, 55, 2000);
  t.like(e2, { reason: 'master-resigned', takeover: { from: 2, lastHeardAt: 55 } });

  // Planned handover: the request is the last message from the old master.
  const target = group();
  target.step(0, { kind: 'start' });
  target.step(10, { kind: 'message', message: advert({ priority: 250 }) });
  const out = target.step(70, {
    kind: 'message',
    message: { ...advert({ priority: 250 }), kind: 'handover-request', to: 1, token: 9 },
  });
  t.like(
    out.effects.find((x) => x.type === 'become-master'),
    { reason: 'handover', takeover: { from: 2, lastHeardAt: 70 } },
  );

  // Once master, the next takeover starts afresh: no stale former master.
  const again = group();
  again.step(0, { kind: 'start' });
  again.step(10, { kind: 'message', message: advert({ priority: 250 }) });
  t.truthy(tickUntilMaster(again, 10, 2000));
  again.step(3000, { kind: 'resign' });
  t.false('takeover' in (tickUntilMaster(again, 3000, 6000) ?? { takeover: 1 }));
});

test('a handover that gets no answer fails after the handover timeout', (t) => {
  const g = group({ handoverTimeoutMs: 250 });
  g.step(0, { kind: 'start' });
  runAlone(g, 0, 400);
  g.step(401, { kind: 'message', message: advert({ state: 'backup', priority: 100 }) });
  const out = g.step(402, { kind: 'request-handover', target: 2, force: false });
  t.deepEqual(
    out.messages.map((m) => [m.to, m.message.kind]),
    [[2, 'handover-request']],
  );
  let failed = false;
  let now = 402;
  while (now < 660 && !failed) {
    g.step(now, { kind: 'message', message: advert({ state: 'backup', priority: 100 }) });
    now += 50;
    failed = g
      .step(now, { kind: 'tick' })
      .effects.some((e) => e.type === 'alert' && e.alert.kind === 'handover-failed');
  }
  t.true(failed);
  t.is(g.state, 'master');
  t.is(g.status(now).handover, null);
});

test('a stale reject (wrong token) does not cancel a handover', (t) => {
  const g = group();
  g.step(0, { kind: 'start' });
  runAlone(g, 0, 400);
  g.step(401, { kind: 'message', message: advert({ state: 'backup', priority: 100 }) });
  const request = g.step(402, { kind: 'request-handover', target: 2, force: false }).messages[0].message as {
    token: number;
  };
  g.step(403, {
    kind: 'message',
    message: {
      ...advert({ state: 'backup' }),
      kind: 'handover-reject',
      to: 1,
      token: request.token + 1,
      reason: 'fault',
    },
  });
  t.not(g.status(404).handover, null);
  t.is(g.status(404).drops['unexpected-reply'], 1);
});

test('an operator input that is the first input after a stall loses nothing and does not throw', (t) => {
  const g = group();
  g.step(0, { kind: 'start' });
  runAlone(g, 0, 400);
  g.step(401, { kind: 'message', message: advert({ state: 'backup', priority: 100 }) });
  t.is(g.state, 'master');
  const out = g.step(5000, { kind: 'resign' });
  t.is(g.state, 'backup');
  t.deepEqual(
    out.effects.filter((e) => e.type !== 'alert'),
    [{ type: 'become-backup', reason: 'stall', state: 'backup' }],
  );
  t.true(out.effects.some((e) => e.type === 'alert' && e.alert.kind === 'stall-detected'));
  t.true(g.status(5000).preemptHold);

  const h = group();
  h.step(0, { kind: 'start' });
  runAlone(h, 0, 400);
  h.step(401, { kind: 'message', message: advert({ state: 'backup', priority: 100 }) });
  const handover = h.step(5000, { kind: 'request-handover', target: 2, force: false });
  t.true(handover.effects.some((e) => e.type === 'become-backup'));
  t.true(handover.effects.some((e) => e.type === 'alert' && e.alert.kind === 'handover-failed'));
  t.false(handover.messages.some((m) => m.message.kind === 'handover-request'));
});

test('a refused operator input changes nothing', (t) => {
  const g = group({ tracked: [{ name: 'link', weight: 10 }] });
  g.step(0, { kind: 'start' });
  const before = g.status(10);
  t.throws(() => g.step(5000, { kind: 'set-condition', name: 'nosuch', failing: true }));
  t.throws(() => g.step(5000, { kind: 'resign' }));
  t.deepEqual(g.status(10), before, 'no stall was processed by the refused inputs');
});
