/** ElectionRunner with a fake clock and fake timers: deterministic, no real time involved. */
import test from 'ava';
import { isDsrError } from '../../core/errors.ts';
import { ElectionGroup } from '../../failover/election/group.ts';
import type { ElectionMessage, Outgoing } from '../../failover/election/messages.ts';
import { ElectionRunner } from '../../failover/transport/election-runner.ts';

function fakeTimers() {
  let pending: { at: number; fn: () => void } | null = null;
  const deferred: (() => void)[] = [];
  const clock = { now: 0 };
  const arms: { at: number; precise: boolean }[] = [];
  const fake = {
    clock,
    /** Every alarm armed: when it is due, and whether it was asked to be precise. */
    arms,
    timers: {
      arm: (fn: () => void, ms: number, precise: boolean) => {
        pending = { at: clock.now + ms, fn };
        arms.push({ at: clock.now + ms, precise });
      },
      disarm: () => {
        pending = null;
      },
      afterPendingIo: (fn: () => void) => {
        deferred.push(fn);
      },
    },
    /** When the armed timer is due (null: none armed). */
    get due(): number | null {
      return pending?.at ?? null;
    },
    /** Fires the armed timer at `at` (late, if the process was not scheduled), leaving its tick deferred. */
    fireTimerAt(at: number): boolean {
      const p = pending;
      if (p === null) return false;
      pending = null;
      clock.now = Math.max(clock.now, p.at, at);
      p.fn();
      return true;
    },
    /** Runs what waited for the pending I/O (the event loop's check phase). */
    runDeferred(): void {
      for (const fn of deferred.splice(0)) fn();
    },
    /** Advances the clock to the armed timer and fires it, tick included. */
    fire(): boolean {
      if (!fake.fireTimerAt(0)) return false;
      fake.runDeferred();
      return true;
    },
  };
  return fake;
}

const group = (groupId: number, priority: number) =>
  new ElectionGroup({
    groupId,
    nodeId: 1,
    priority,
    advertIntervalMs: 100,
    fingerprint: new Uint8Array(16),
    random: () => 0.5,
  });

test('ticks each group at its deadline, sends, reports outputs; stop resigns masters', (t) => {
  const fake = fakeTimers();
  const sent: Outgoing[] = [];
  const transitions: string[] = [];
  const runner = new ElectionRunner({
    groups: [group(1, 200), group(2, 100)],
    send: (o) => sent.push(...o),
    onOutput: (g, out) => {
      for (const tr of out.transitions)
        transitions.push(`${fake.clock.now} g${g.groupId} ${tr.from}->${tr.to}`);
    },
    now: () => fake.clock.now,
    timers: fake.timers,
  });
  runner.start();
  while (fake.clock.now < 400) fake.fire();
  t.deepEqual(transitions, [
    '0 g1 initialize->backup',
    '0 g2 initialize->backup',
    '321.875 g1 backup->master',
    '360.9375 g2 backup->master',
  ]);
  t.true(sent.length > 8);
  // Only the takeovers' master-down deadlines are asked for precisely; sends are not.
  t.deepEqual(
    fake.arms.filter((a) => a.precise).map((a) => a.at),
    [321.875, 360.9375],
  );
  runner.stop();
  t.false(fake.fire(), 'no timer left armed');
  const resigns = sent.filter((o) => o.message.kind === 'advert' && o.message.priority === 0);
  t.is(resigns.length, 2);
});

test('a send due less than 3 ms before the master-down deadline is timed precisely too', (t) => {
  const fake = fakeTimers();
  const runner = new ElectionRunner({
    // 10 ms, two sends per interval, priority 205: heartbeats every 5 ms, master-down at 31.99 ms.
    groups: [
      new ElectionGroup({
        groupId: 1,
        nodeId: 1,
        priority: 205,
        advertIntervalMs: 10,
        advertsPerInterval: 2,
        fingerprint: new Uint8Array(16),
        random: () => 0.5,
      }),
    ],
    send: () => {},
    onOutput: () => {},
    now: () => fake.clock.now,
    timers: fake.timers,
  });
  runner.start();
  while (fake.clock.now < 32) fake.fire();
  const precise = new Map(fake.arms.map((a) => [a.at, a.precise]));
  t.false(precise.get(25), 'a send 7 ms before the deadline may run late');
  t.true(precise.get(30), 'a send 2 ms before it may not');
  t.true(precise.get(30 + (256 - 205) / 25.6), 'the deadline itself');
  runner.stop();
});

test('unknown groups are counted; operator input on an unknown group fails loudly', (t) => {
  const fake = fakeTimers();
  const runner = new ElectionRunner({
    groups: [group(1, 200)],
    send: () => {},
    onOutput: () => {},
    now: () => fake.clock.now,
    timers: fake.timers,
  });
  runner.start();
  const message = { kind: 'advert', groupId: 9, from: 2, priority: 1, state: 'master', intervalMs: 100 };
  runner.deliver({ ...message, fingerprint: new Uint8Array(16), syncReady: true } as ElectionMessage);
  runner.recordDrop('bad-mac');
  runner.recordDrop('replay', 1);
  t.deepEqual(runner.status().drops, { 'unknown-group': 1, 'bad-mac': 1 });
  t.deepEqual(runner.status().groups[0].drops, { replay: 1 });
  t.true(
    isDsrError(
      t.throws(() => runner.input(9, { kind: 'resign' })),
      'E_ELECTION_INPUT',
    ),
  );
  t.true(
    isDsrError(
      t.throws(
        () => new ElectionRunner({ groups: [group(1, 1), group(1, 2)], send: () => {}, onOutput: () => {} }),
      ),
      'E_CONFIG_INVALID',
    ),
  );
  runner.stop();
});

test('a timer that fires late waits for the adverts that arrived meanwhile before deciding', (t) => {
  // A backup hears its master every 100 ms; then its process is not scheduled for 340 ms (less
  // than its 361 ms master-down interval, so no self-fencing). When it runs again, its
  // master-down timer has expired, but the master's adverts sent meanwhile sit in the socket: the
  // tick must see them first. Without them the master may have been paused along with us (a
  // host pause): the backup re-learns for a master-down interval, then takes over.
  const advert = {
    kind: 'advert',
    groupId: 1,
    from: 2,
    priority: 200,
    state: 'master',
    intervalMs: 100,
    fingerprint: new Uint8Array(16),
    syncReady: true,
  } as ElectionMessage;
  for (const queuedAdvert of [true, false]) {
    const fake = fakeTimers();
    const roles: string[] = [];
    const runner = new ElectionRunner({
      groups: [group(1, 100)],
      send: () => {},
      onOutput: (_g, out) => {
        for (const tr of out.transitions) roles.push(`${fake.clock.now} ${tr.to}`);
      },
      now: () => fake.clock.now,
      timers: fake.timers,
    });
    runner.start();
    for (const at of [50, 150, 250]) {
      while (fake.due !== null && fake.due <= at) fake.fire();
      fake.clock.now = at;
      runner.deliver(advert);
    }
    while (fake.due !== null && fake.due <= 300) fake.fire();
    t.is(Math.round(runner.status().groups[0].masterDownInMs ?? 0), 611 - 300);
    // Stalled from here until 640: the next timer (due at 400) fires late, past the master-down time.
    t.true(fake.fireTimerAt(640));
    if (queuedAdvert) runner.deliver(advert);
    fake.runDeferred();
    t.deepEqual(roles, ['0 backup']);
    t.is(runner.status().groups[0].counters.stalls, 0);
    t.is(runner.status().groups[0].counters.lateTimerGraces, 1);
    // The master stays silent from here: taken over a master-down interval after the resume.
    while (fake.due !== null && fake.due <= 1100) fake.fire();
    t.deepEqual(roles, ['0 backup', '1000.9375 master']);
    runner.stop();
  }
});

test('the cover another sender reports is stepped in before the input that ends a stall', (t) => {
  for (const covered of [true, false]) {
    const fake = fakeTimers();
    const roles: string[] = [];
    let coveredUntil: number | null = null;
    const runner = new ElectionRunner({
      groups: [group(1, 200)],
      send: () => {},
      onOutput: (_g, out) => {
        for (const tr of out.transitions) roles.push(`${tr.to} (${tr.reason})`);
      },
      now: () => fake.clock.now,
      timers: fake.timers,
      coveredUntil: () => coveredUntil,
    });
    runner.start();
    while (fake.clock.now < 400) fake.fire();
    // Not scheduled from 400 to 800, more than the 322 ms master-down interval; the keeper (when
    // it covered) sent our adverts until 2 ms before we resumed.
    if (covered) coveredUntil = 798;
    fake.fireTimerAt(800);
    fake.runDeferred();
    const counters = runner.status().groups[0].counters;
    t.deepEqual(
      roles,
      covered
        ? ['backup (startup)', 'master (master-down)']
        : ['backup (startup)', 'master (master-down)', 'backup (stall)'],
    );
    t.is(counters.coveredStalls, covered ? 1 : 0);
    t.is(counters.stalls, covered ? 0 : 1);
    runner.stop();
  }
});
