/**
 * The election thread's release of a hung main thread's VIPs (hung-main-release.ts): held until
 * another director is master, then removed; kept while no one takes over; forgotten when the main
 * thread runs again; a failed removal reported, the rest still removed.
 */
import test from 'ava';
import { HungMainRelease } from '../../failover/thread/hung-main-release.ts';

const vips = {
  1: [
    { ifindex: 2, address: '198.18.0.200', prefixLength: 32 },
    { ifindex: 2, address: '2001:2::200', prefixLength: 128 },
  ],
  2: [{ ifindex: 3, address: '198.18.0.201', prefixLength: 32 }],
  3: [],
};

function kernel(failOn?: string) {
  const removed: string[] = [];
  const remove = (ifindex: number, address: string, prefixLength: number): 'removed' | 'absent' => {
    if (address === failOn) throw new Error('ENODEV');
    removed.push(`${ifindex} ${address}/${prefixLength}`);
    return 'removed';
  };
  return { removed, remove };
}

test('held until another director is master, then every VIP of the group removed once', (t) => {
  const k = kernel();
  const r = new HungMainRelease(vips, k.remove);
  r.hold(1);
  t.true(r.waiting);
  t.deepEqual(
    r.poll(() => false),
    [],
    'no other master: the VIPs stay (the XDP program still forwards)',
  );
  t.deepEqual(k.removed, []);
  t.deepEqual(
    r.poll((g) => g === 1),
    [{ groupId: 1, removed: ['198.18.0.200/32', '2001:2::200/128'], errors: [] }],
  );
  t.deepEqual(k.removed, ['2 198.18.0.200/32', '2 2001:2::200/128']);
  t.false(r.waiting);
  t.deepEqual(
    r.poll(() => true),
    [],
    'not twice',
  );
});

test('each group on its own; a group with no VIPs is not held', (t) => {
  const k = kernel();
  const r = new HungMainRelease(vips, k.remove);
  r.hold(3);
  t.false(r.waiting);
  r.hold(1);
  r.hold(2);
  t.deepEqual(
    r.poll((g) => g === 2).map((x) => x.groupId),
    [2],
  );
  t.true(r.waiting);
  t.deepEqual(k.removed, ['3 198.18.0.201/32']);
});

test('the main thread back before anyone took over: nothing is removed', (t) => {
  const k = kernel();
  const r = new HungMainRelease(vips, k.remove);
  r.hold(1);
  r.clear();
  t.false(r.waiting);
  t.deepEqual(
    r.poll(() => true),
    [],
  );
  t.deepEqual(k.removed, []);
});

test('a removal that fails is reported and the others still go', (t) => {
  const k = kernel('198.18.0.200');
  const r = new HungMainRelease(vips, k.remove);
  r.hold(1);
  const [done] = r.poll(() => true);
  t.deepEqual(done.removed, ['2001:2::200/128']);
  t.is(done.errors.length, 1);
  t.regex(done.errors[0], /^198\.18\.0\.200\/32: ENODEV/);
});
