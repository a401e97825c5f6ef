import test from 'ava';
import { FlowCountFreshness } from '../../daemon/forwarder/flow-count-freshness.ts';

test('a count whose walk began before the drain does not answer it; the next one does', (t) => {
  const f = new FlowCountFreshness();
  t.true(f.fresh, 'no drain yet: any count answers');
  f.counted(100);
  f.want(150); // a drain starts after the last walk began
  t.false(f.fresh);
  f.counted(120); // a walk begun before the drain finishes late: still stale
  t.false(f.fresh);
  f.counted(160);
  t.true(f.fresh);
  f.want(200);
  t.false(f.fresh, 'a second drain wants a newer count again');
  f.want(180); // an older want never lowers the bar
  f.counted(190);
  t.false(f.fresh);
  f.counted(200);
  t.true(f.fresh);
});
