/**
 * The election on its own thread (failover/thread): a real worker, the real runner and timers; a
 * lone director (no peers, no socket) or a socket bound on loopback. Timing is reached, never
 * asserted.
 */
import { performance } from 'node:perf_hooks';
import test from 'ava';
import { isDsrError } from '../../core/errors.ts';
import { ElectionThread, mainClockOriginNs } from '../../failover/thread/election-thread.ts';
import { BEAT_MS, MainHeartbeat, STALE_AFTER_MS } from '../../failover/thread/main-heartbeat.ts';
import type { ElectionThreadData, ReportedOutput } from '../../failover/thread/protocol.ts';
import { sleep, until } from '../../lab/wait.ts';

const group = (groupId: number): ElectionThreadData['groups'][number] => ({
  groupId,
  nodeId: 1,
  priority: 100,
  advertIntervalMs: 10,
  fingerprint: new Uint8Array(16),
  peers: [],
  tracked: [{ name: 'link:eth0', fault: true }],
});

const data = (over: Partial<ElectionThreadData> = {}): ElectionThreadData => ({
  nodeId: 1,
  groups: [group(7)],
  transport: null,
  clockOriginNs: mainClockOriginNs(),
  scheduling: null,
  snapshotIntervalMs: 50,
  announce: null,
  heartbeat: null,
  vips: {},
  ...over,
});

function recorder() {
  const outputs: { groupId: number; output: ReportedOutput }[] = [];
  const failures: Error[] = [];
  let wake = (): void => {};
  return {
    outputs,
    failures,
    handlers: {
      onOutput: (groupId: number, output: ReportedOutput) => {
        outputs.push({ groupId, output });
        wake();
      },
      onSocketError: () => {},
      onFailure: (err: Error) => failures.push(err),
    },
    /** Resolves once an output matches (bounded). */
    until(pred: (o: ReportedOutput) => boolean, ms = 10_000): Promise<ReportedOutput> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no such output in time')), ms);
        const check = (): void => {
          const hit = outputs.find((o) => pred(o.output));
          if (hit === undefined) return;
          clearTimeout(timer);
          wake = () => {};
          resolve(hit.output);
        };
        wake = check;
        check();
      });
    },
  };
}

const becameMaster = (o: ReportedOutput) => o.effects.some((e) => e.type === 'become-master');

test('a lone director becomes master on its thread; inputs, errors and snapshots come back', async (t) => {
  const r = recorder();
  const thread = await ElectionThread.start(data(), r.handlers);
  t.teardown(() => thread.stop());
  await sleep(50);
  t.is(r.outputs.length, 0, 'no group starts before it is told to (its conditions first)');
  thread.startGroups();
  const first = await r.until(becameMaster);
  t.is(first.state, 'master');
  t.true(r.outputs.every((o) => o.groupId === 7));

  // The snapshot is taken on the thread, in this thread's clock.
  const snap = thread.snapshot();
  t.is(snap.groups[0].state, 'master');
  t.true(Math.abs(snap.at - performance.now()) < 5_000, `snapshot at ${snap.at}, now ${performance.now()}`);

  // A tracked condition forces Fault: the output reports leaving Master.
  await thread.input(7, { kind: 'set-condition', name: 'link:eth0', failing: true });
  t.is(thread.snapshot().groups[0].state, 'fault');
  t.true(r.outputs.some((o) => o.output.effects.some((e) => e.type === 'become-backup')));
  await thread.input(7, { kind: 'set-condition', name: 'link:eth0', failing: false });

  // Errors of the state machine arrive as the same DsrErrors, and change nothing.
  const unknown = await t.throwsAsync(
    thread.input(7, { kind: 'set-condition', name: 'nope', failing: true }),
  );
  t.true(isDsrError(unknown, 'E_ELECTION_INPUT'), String(unknown));
  const noGroup = await t.throwsAsync(thread.input(99, { kind: 'resign' }));
  t.true(isDsrError(noGroup, 'E_ELECTION_INPUT'), String(noGroup));
  t.is(r.failures.length, 0);
});

test('stop: a master resigns and its become-backup arrives before stop resolves', async (t) => {
  const r = recorder();
  const thread = await ElectionThread.start(data(), r.handlers);
  thread.startGroups();
  await r.until(becameMaster);
  await thread.stop();
  const last = r.outputs.at(-1)?.output;
  t.is(last?.state, 'initialize');
  t.true(last?.effects.some((e) => e.type === 'become-backup'));
  const after = await t.throwsAsync(thread.input(7, { kind: 'resign' }));
  t.true(isDsrError(after, 'E_ELECTION_INPUT'));
  t.is(r.failures.length, 0, 'a requested stop is not a failure');
});

test('a socket that cannot bind fails the start with the thread error', async (t) => {
  const r = recorder();
  const err = await t.throwsAsync(
    ElectionThread.start(
      data({
        groups: [{ ...group(7), peers: [2] }],
        transport: {
          // Not an address of this host: EADDRNOTAVAIL.
          bind: { address: '198.18.255.254', port: 0, family: 'ipv4' },
          peers: [{ nodeId: 2, name: 'd2', address: '198.18.255.253', port: 5999 }],
          multicast: null,
          keys: { keys: [{ id: 1, secret: new Uint8Array(32).fill(7) }], sendId: 1 },
          keyPurpose: 'election',
          sessionId: 1n,
          replaySeeds: [],
        },
      }),
      r.handlers,
    ),
  );
  t.true(isDsrError(err, 'E_PART_START'), String(err));
});

test('a scheduling the kernel refuses leaves the election running at the default policy', async (t) => {
  const r = recorder();
  const thread = await ElectionThread.start(
    data({ scheduling: { policy: 'fifo', priority: 100, resetOnFork: true } }),
    r.handlers,
  );
  t.teardown(() => thread.stop());
  t.regex(thread.schedulingError ?? '', /priority 100 is not valid/);
  t.is(thread.scheduling, 'other');
  thread.startGroups();
  await r.until(becameMaster);
});

test('a thread given real-time scheduling runs with it (root, as dsrd in the lab)', async (t) => {
  const r = recorder();
  const thread = await ElectionThread.start(
    data({ scheduling: { policy: 'fifo', priority: 3, resetOnFork: true } }),
    r.handlers,
  );
  t.teardown(() => thread.stop());
  t.is(thread.schedulingError, null);
  t.is(thread.scheduling, 'fifo 3, reset on fork');
  thread.startGroups();
  await r.until(becameMaster);
});

test('a main thread that stops beating makes every group Fault on the election thread, and back', async (t) => {
  const r = recorder();
  const heartbeat = new MainHeartbeat();
  heartbeat.beat(performance.now());
  const stale: boolean[] = [];
  const thread = await ElectionThread.start(data({ heartbeat: heartbeat.buffer }), {
    ...r.handlers,
    onMainThread: (s) => stale.push(s),
  });
  t.teardown(() => thread.stop());
  thread.startGroups();
  await r.until(becameMaster);
  // This thread blocks past the bound without beating (as a hung main thread would).
  const blocked = performance.now();
  while (performance.now() - blocked < STALE_AFTER_MS + 500) {
    // busy: no beat, no event loop
  }
  // Beating again, the thread's reports arrive: Fault while stale, then master again.
  const beating = setInterval(() => heartbeat.beat(performance.now()), BEAT_MS);
  t.teardown(() => clearInterval(beating));
  await until(
    'fault, then master again',
    () => stale.length === 2 && thread.snapshot().groups[0].state === 'master',
    {
      limitMs: 5000,
      everyMs: 20,
    },
  );
  t.deepEqual(stale, [true, false]);
  const fault = r.outputs.find((x) => x.output.state === 'fault')!.output;
  t.true(
    fault.effects.some((e) => e.type === 'become-backup'),
    'the master left at once',
  );
});
