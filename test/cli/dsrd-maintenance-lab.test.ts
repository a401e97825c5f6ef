/**
 * Lab (issue 25, day two): `dsrctl maintenance on` hands the master's group to its peer
 * (make-before-break) and keeps the director backup, also across a restart, until
 * `maintenance off` gives it its priority back and it preempts. Needs root; about 30 s.
 */
import test from 'ava';
import { dsrctl } from '../../lab/binaries.ts';
import { requireRoot } from '../../lab/index.ts';
import { DirectorPair } from '../../lab/pair/director-pair.ts';
import { role } from '../../lab/pair/status.ts';
import { sleep } from '../../lab/wait.ts';

const skip = requireRoot();
if (skip) console.log(`dsrd maintenance lab test skipped: ${skip}`);

(skip ? test.skip : test.serial)(
  'maintenance on: the master hands over and stays backup across a restart; off: it takes its group back',
  async (t) => {
    t.timeout(120_000);
    const pair = await DirectorPair.create({ realServers: 1 });
    try {
      const { a, b } = pair;
      await pair.startBoth();
      await pair.settled(a, b);

      const on = await dsrctl(['-s', a.sock, 'maintenance', 'on']);
      t.is(on.code, 0, on.stdout + on.stderr);
      t.regex(on.stdout, new RegExp(`web: handed over to ${b.host.name} in \\d+ ms`));
      t.is(role((await pair.status(b))!), 'master');
      t.is(role((await pair.status(a))!), 'backup');
      t.is((await pair.status(a))!.groups[0].effectivePriority, 1);
      const shown = await dsrctl(['-s', a.sock, 'status']);
      t.is(shown.code, 0, 'a director under maintenance is healthy');
      t.regex(shown.stdout, /MAINTENANCE on since /);

      // Restarted, it stays backup: no preemption, though its configured priority is the higher.
      await a.proc!.stop();
      await pair.start(a);
      await pair.until(a, (s) => role(s) === 'backup' && s.groups[0].master === b.host.name, 15_000);
      await sleep(2000);
      t.is(role((await pair.status(a))!), 'backup', 'still backup after a restart');
      t.is(role((await pair.status(b))!), 'master');
      t.true(await pair.holdsVip(b));
      t.false(await pair.holdsVip(a));

      const off = await dsrctl(['-s', a.sock, 'maintenance', 'off']);
      t.is(off.code, 0, off.stdout + off.stderr);
      t.regex(off.stdout, /web: priority back to 150/);
      await pair.until(a, (s) => role(s) === 'master', 15_000);
      await pair.until(b, (s) => role(s) === 'backup', 5000);
      t.notRegex((await dsrctl(['-s', a.sock, 'status'])).stdout, /MAINTENANCE/);

      const bad = await dsrctl(['-s', a.sock, 'maintenance', 'maybe']);
      t.is(bad.code, 2);
    } catch (e) {
      for (const d of pair.directors) t.log(`${d.host.name}:\n${pair.logTail(d, 15).join('\n')}`);
      throw e;
    } finally {
      await pair.destroy();
    }
  },
);
