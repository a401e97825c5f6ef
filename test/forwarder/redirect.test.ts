/**
 * XDP_REDIRECT through the devmap for a real server behind another
 * interface. Runs the program in a namespace of its own (test runs see the
 * caller's namespace, and the devmap needs a device there).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { requireRoot } from '../../lab/require-root.ts';
import { skipReason } from './support.ts';

const PROBE = fileURLToPath(new URL('./lab/redirect-probe.ts', import.meta.url));
const skip = requireRoot() ?? skipReason;
const t0 = skip ? test.skip : test.serial;
if (skip) test.skip(`redirect test: ${skip}`, () => {});

t0('a real server behind another interface gets XDP_REDIRECT with that interface as source MAC', (t) => {
  const ns = `dsrlrd${process.pid % 100000}`;
  execFileSync('ip', ['netns', 'add', ns]);
  t.teardown(() => execFileSync('ip', ['netns', 'del', ns]));
  execFileSync('ip', ['-n', ns, 'link', 'add', 'dsrfa', 'type', 'veth', 'peer', 'name', 'dsrfb']);
  const out = execFileSync('ip', ['netns', 'exec', ns, process.execPath, PROBE], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  const r = JSON.parse(out.trim().split('\n').pop() ?? '{}');
  t.true(r.ifindex > 1);
  t.deepEqual(r.devices, [r.ifindex]);
  t.is(r.verdict, 'redirect');
  t.is(r.dst, '02:d5:00:00:10:01');
  t.is(r.src, '02:d5:00:00:0a:0a');
  t.true(r.rest);
  t.is(r.goneVerdict, 'drop');
  t.is(r.txRedirect, 1);
  t.is(r.dropTxDevice, 1);
});
