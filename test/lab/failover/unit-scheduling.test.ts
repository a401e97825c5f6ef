import test from 'ava';
import { isDsrError } from '../../../core/errors.ts';
import {
  describeScheduling,
  dsrdUnitScheduling,
  parseSchedulingArg,
  schedulingPrefix,
  unitScheduling,
} from '../../../lab/failover/unit-scheduling.ts';

test('the installed unit runs dsrd SCHED_FIFO, main thread only, and the bench starts it the same way', (t) => {
  const s = dsrdUnitScheduling();
  t.is(s.policy, 'fifo');
  t.true((s.priority ?? 0) >= 1 && (s.priority ?? 100) < 50, 'below the threaded IRQs');
  t.true(s.resetOnFork, 'V8 and libuv threads must not inherit the real-time policy');
  t.deepEqual(schedulingPrefix(s), ['chrt', '--reset-on-fork', '--fifo', String(s.priority)]);
});

test('unit directives: only [Service], the last one wins, nice and reset on fork', (t) => {
  const s = unitScheduling(
    [
      '[Unit]',
      'CPUSchedulingPolicy=rr',
      '[Service]',
      '# CPUSchedulingPolicy=idle',
      'CPUSchedulingPolicy=batch',
      'CPUSchedulingPolicy=rr',
      'CPUSchedulingPriority=5',
      'Nice=-5',
      'CPUSchedulingResetOnFork=true',
    ].join('\n'),
  );
  t.deepEqual(s, { policy: 'rr', priority: 5, nice: -5, resetOnFork: true });
  t.deepEqual(schedulingPrefix(s), ['nice', '-n', '-5', 'chrt', '--reset-on-fork', '--rr', '5']);
  t.is(describeScheduling(s), 'rr 5, reset on fork, nice -5');
  const none = unitScheduling('[Service]\nType=notify\n');
  t.deepEqual(schedulingPrefix(none), []);
  t.is(describeScheduling(none), 'default');
  t.deepEqual(schedulingPrefix(unitScheduling('[Service]\nCPUSchedulingPolicy=fifo')), [
    'chrt',
    '--fifo',
    '1',
  ]);
});

test('bad unit values and --sched arguments are refused with a clear error', (t) => {
  for (const text of ['CPUSchedulingPolicy=fast', 'CPUSchedulingPriority=0', 'Nice=-21', 'Nice=']) {
    const e = t.throws(() => unitScheduling(`[Service]\n${text}`));
    t.true(isDsrError(e, 'E_BENCH'), text);
  }
  const e = t.throws(() => parseSchedulingArg('fifo'));
  t.true(isDsrError(e, 'E_BENCH'));
  t.true(
    isDsrError(
      t.throws(() => parseSchedulingArg('turbo:1')),
      'E_USAGE',
    ),
  );
});

test('--sched picks the unit or a variant to measure', (t) => {
  const unit = () => ({ policy: 'fifo' as const, priority: 7, nice: null, resetOnFork: true });
  t.deepEqual(parseSchedulingArg('unit', unit), unit());
  t.deepEqual(parseSchedulingArg('other', unit), {
    policy: 'other',
    priority: null,
    nice: null,
    resetOnFork: false,
  });
  t.deepEqual(parseSchedulingArg('nice:-10', unit), {
    policy: null,
    priority: null,
    nice: -10,
    resetOnFork: false,
  });
  t.deepEqual(parseSchedulingArg('fifo:10,reset', unit), {
    policy: 'fifo',
    priority: 10,
    nice: null,
    resetOnFork: true,
  });
  t.deepEqual(schedulingPrefix(parseSchedulingArg('other', unit)), []);
});
