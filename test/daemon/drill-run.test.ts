/**
 * The drill's orchestration (daemon/drill/run.ts) over a fake pair (drill-fakes.ts):
 * a drill with --back passes and says why; every preflight failure aborts before anything
 * changes; a refused or failed handover, a lost flow, a foreign announcement, a forwarding probe
 * that fails, a hand back that never happens and an abort each fail the drill at the right phase.
 */
import test from 'ava';
import type { DrillReport, TimelineEntry } from '../../admin/catalogue/drill.ts';
import { runDrill } from '../../daemon/drill/run.ts';
import { FakePair, type Knobs, PEER, SELF, SETUP } from './drill-fakes.ts';

async function drill(
  knobs: Partial<Knobs> = {},
  opts: { back?: boolean; signal?: AbortSignal; setup?: typeof SETUP } = {},
): Promise<{ pair: FakePair; report: DrillReport; steps: TimelineEntry[] }> {
  const pair = new FakePair(knobs);
  const steps: TimelineEntry[] = [];
  const report = await runDrill(pair.deps(), {
    setup: opts.setup ?? SETUP,
    peer: PEER,
    back: opts.back ?? true,
    signal: opts.signal,
    onStep: (e) => steps.push(e),
  });
  return { pair, report, steps };
}

const check = (r: DrillReport, leg: number, name: string) => r.legs[leg]?.checks.find((c) => c.name === name);

test('drill --back: hands over, verifies, takes the group back, verifies again', async (t) => {
  const { pair, report, steps } = await drill();
  t.true(report.ok, report.summary);
  t.is(report.stoppedAt, 'done');
  t.regex(
    report.summary,
    /^PASS: web d1 → d2 \(handover, 40 ms\) → d1 \(preemption, \d+ ms\); flows: 12 here, 12 on d2, 12 back here$/,
  );
  t.true(report.preflight.every((c) => c.status === 'pass'));
  t.deepEqual(
    report.legs.map((l) => [l.from, l.to, l.how, l.moved]),
    [
      [SELF, PEER, 'handover', true],
      [PEER, SELF, 'preemption', true],
    ],
  );
  for (const leg of report.legs)
    t.true(
      leg.checks.every((c) => c.status === 'pass'),
      JSON.stringify(leg.checks),
    );
  t.is(
    check(report, 0, 'peer announced the VIPs')?.detail,
    'gratuitous ARP / NA for 198.18.0.200 from 02:d5:00:00:01:01',
  );
  // The census margin: the horizon (a copy on the peer lives at least as long as the original).
  t.is(report.flows.marginMs, 60_000);
  t.deepEqual(report.flows.before, { live: 12, longLived: 10 });
  t.deepEqual(report.flows.peer, { conns: 12, longLived: 11, persist: 0 });
  // Census before the handover; the wire watched from before the request; closed at the end.
  t.deepEqual(pair.calls.slice(0, 3), ['census', 'watch', `handOver ${PEER}`]);
  t.true(pair.calls.includes('releaseHold'));
  t.is(pair.calls.at(-1), 'census');
  t.is(pair.calls.filter((c) => c === 'unwatch').length, 1);
  t.true(
    pair.calls.indexOf('unwatch') < pair.calls.indexOf('releaseHold'),
    'the wire is watched only while needed',
  );
  t.is(pair.calls.filter((c) => c === 'countTables').length, 1, "the peer's tables counted once");
  // The timeline is in time order, each step stamped, live steps equal the report's.
  t.deepEqual(
    report.timeline.map((e) => e.ms),
    [...report.timeline.map((e) => e.ms)].sort((a, b) => a - b),
  );
  t.is(steps.length, report.timeline.length);
  const texts = report.timeline.map((e) => e.step);
  for (const want of [
    /^drill of web: d1 → d2 and back$/,
    /^preflight passed/,
    /^handover of web to d2 requested$/,
    /^handover completed in 40 ms/,
    /^198\.18\.0\.200 announced by 02:d5:00:00:01:01$/,
    /^VIPs released here$/,
    /^connected to 198\.18\.0\.200:7000 \(echo\) through d2/,
    /^d2's tables pulled: 12 flows/,
    /^hand back: preemption hold released$/,
    /^master again after \d+ ms \(preempted d2\)$/,
    /^drill passed$/,
  ]) {
    t.true(
      texts.some((s) => want.test(s)),
      `${want} in ${JSON.stringify(texts)}`,
    );
  }
  t.regex(report.timeline[0].at, /^2023-11-14T22:13:2\d\.\d{3}Z$/);
});

test('drill without --back leaves the group on the peer, hold kept', async (t) => {
  const { pair, report } = await drill({}, { back: false });
  t.true(report.ok, report.summary);
  t.is(report.legs.length, 1);
  t.false(pair.calls.includes('releaseHold'));
  t.is(pair.role, 'backup');
  t.true(pair.hold);
});

const preflightCases: [string, Partial<Knobs>, string, RegExp][] = [
  ['peer stopped (lost)', { peer: { lost: true, lastHeardAgoMs: 5000 } }, 'peer healthy', /d2 is lost/],
  ['peer never heard', { peer: { state: null, lastHeardAgoMs: null } }, 'peer healthy', /never been heard/],
  ['peer silent', { peer: { lastHeardAgoMs: 900 } }, 'peer healthy', /last heard 900 ms ago/],
  ['peer in fault', { peer: { state: 'fault' } }, 'peer healthy', /d2 is fault, not backup/],
  ['peer not in sync', { peer: { syncReady: false } }, 'peer in sync', /does not hold our tables/],
  [
    'peer behind',
    { sync: { unackedMs: 4000 } },
    'peer in sync',
    /behind: oldest unacknowledged update 4000 ms/,
  ],
  ['sync disabled', { sync: { enabled: false } }, 'peer in sync', /sync is disabled/],
  [
    "peer's tables not here",
    { sync: { inSync: false, state: 'resyncing' } },
    "peer's tables here",
    /resyncing/,
  ],
  ['another config', { peer: { fingerprintMatch: false } }, 'same config', /fingerprints differ/],
  [
    'not master here',
    { role: 'backup' },
    'master here',
    /d1 is backup of web; run the drill on the master \(d2\)/,
  ],
  ['--back but outranked', { priority: 90 }, 'hand back possible', /outrank d2 \(priority 90 vs 100\)/],
  ['--back but no preempt', { preempt: false }, 'hand back possible', /preempt is off/],
];

for (const [title, knobs, name, detail] of preflightCases) {
  test(`preflight fails, nothing changes: ${title}`, async (t) => {
    const { pair, report } = await drill(knobs);
    t.false(report.ok);
    t.is(report.stoppedAt, 'preflight');
    const c = report.preflight.find((x) => x.name === name);
    t.is(c?.status, 'fail');
    t.regex(c?.detail ?? '', detail);
    t.deepEqual(pair.calls, [], 'no census, no watch, no handover, no hold released');
    t.is(report.legs.length, 0);
    t.regex(report.summary, new RegExp(`^FAIL: preflight: .*${name}`));
    t.regex(report.timeline.at(-2)?.step ?? '', /^preflight failed, nothing changed/);
  });
}

test('a refused handover fails the drill at the handover, the group stays here', async (t) => {
  const { pair, report } = await drill({ handover: 'throws' });
  t.false(report.ok);
  t.is(report.stoppedAt, 'handover');
  t.false(report.legs[0].moved);
  t.regex(report.legs[0].outcome, /not in sync/);
  t.false(pair.calls.includes('releaseHold'), 'nothing to take back');
  t.is(pair.role, 'master');
  t.true(pair.calls.includes('unwatch'));
});

test('a handover that times out fails the drill', async (t) => {
  const { report } = await drill({ handover: 'fails' });
  t.false(report.ok);
  t.is(report.stoppedAt, 'handover');
  t.regex(report.summary, /^FAIL: handover: timeout/);
});

test('fewer flows on the new master than long-lived flows here: not carried over', async (t) => {
  const { report } = await drill({
    census: { live: 12, longLived: 10 },
    peerLongLived: 6,
    peerShortLived: 3,
  });
  t.false(report.ok);
  t.is(report.stoppedAt, 'verify');
  const c = check(report, 0, 'flows carried over');
  t.is(c?.status, 'fail');
  t.is(c?.detail, 'd2 holds 9 flows; 10 long-lived flows here had to be there');
  // The group was moved, so it is still handed back.
  t.is(report.legs.length, 2);
  t.true(report.legs[1].moved);
});

test('short-lived flows may go: the check counts only long-lived ones', async (t) => {
  const { report } = await drill({
    census: { live: 40, longLived: 10 },
    peerLongLived: 10,
    peerShortLived: 0,
  });
  t.true(report.ok, report.summary);
  // Back here: 40 live >= the peer's 10 long-lived.
  t.is(check(report, 1, 'flows carried back')?.status, 'pass');
});

test("the peer's copies outlive our flows by the sync's margin: not required back", async (t) => {
  // 3 flows end here soon; the peer's copies of them have 150 s left, more than the 60 s horizon,
  // less than the horizon and the 120 s copy margin.
  const { report } = await drill({ census: { live: 12, longLived: 10 }, peerLongLived: 11, peerCopies: 3 });
  t.true(report.ok, report.summary);
  t.is(
    check(report, 1, 'flows carried back')?.detail,
    '12 flows here; 11 flows of d2 with more than 180 s left had to be here',
  );
});

test("the new master's tables never arrive: flows cannot be verified", async (t) => {
  const { report } = await drill({ bulkMs: null }, { back: false });
  t.false(report.ok);
  t.regex(check(report, 0, 'flows carried over')?.detail ?? '', /did not arrive in 30 s/);
});

test('VIP announced by another MAC than the peer: fail', async (t) => {
  const { report } = await drill({ announceMac: '02:ee:ee:ee:ee:ee' }, { back: false });
  t.false(report.ok);
  t.regex(check(report, 0, 'peer announced the VIPs')?.detail ?? '', /another host than d2/);
});

test('no announcement seen: fail', async (t) => {
  const { report } = await drill({ announceMac: null }, { back: false });
  t.false(report.ok);
  t.is(check(report, 0, 'peer announced the VIPs')?.detail, 'no announcement seen for 198.18.0.200');
});

test('no connection through the VIP: fail after the attempts', async (t) => {
  const { pair, report } = await drill({ probeOk: false }, { back: false });
  t.false(report.ok);
  t.regex(check(report, 0, 'forwards through the VIP')?.detail ?? '', /cannot connect .*ECONNREFUSED/);
  t.is(pair.calls.filter((c) => c === 'probe').length, 3);
});

test('nothing to connect to: a warning, the drill still passes', async (t) => {
  const { report } = await drill({}, { back: false, setup: { ...SETUP, probe: null } });
  t.true(report.ok, report.summary);
  t.is(check(report, 0, 'forwards through the VIP')?.status, 'warn');
  t.regex(report.summary, /not judged: forwards through the VIP$/);
});

test('no traffic after the hand back: forwarding is a warning, not a failure', async (t) => {
  const { report } = await drill({ pps: 0 });
  t.true(report.ok, report.summary);
  t.is(check(report, 1, 'forwards here')?.status, 'warn');
});

test('the hand back never happens: fail at hand-back, the group stays on the peer', async (t) => {
  const { pair, report } = await drill({ preemptMs: null });
  t.false(report.ok);
  t.is(report.stoppedAt, 'hand-back');
  t.false(report.legs[1].moved);
  t.is(pair.role, 'backup');
  t.regex(report.summary, /^FAIL: hand back: still backup after/);
});

test('an abort stops the drill where it is and says so', async (t) => {
  const abort = new AbortController();
  const pair = new FakePair({ bulkMs: 5_000 });
  const deps = pair.deps();
  const sleep = deps.clock.sleep;
  deps.clock.sleep = async (ms) => {
    await sleep(ms);
    if (pair.role === 'backup') abort.abort();
  };
  const report = await runDrill(deps, { setup: SETUP, peer: PEER, back: true, signal: abort.signal });
  t.false(report.ok);
  t.is(report.stoppedAt, 'verify');
  t.regex(report.summary, /aborted/);
  t.true(pair.calls.includes('unwatch'));
});
