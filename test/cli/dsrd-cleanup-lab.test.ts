/**
 * Lab (issue 21, item 1): a director killed with SIGKILL and not restarted keeps its VIP on the
 * interface (the kernel answers ARP for it: a zombie owner beside the new master) until
 * `dsrd --cleanup`, which the unit runs as ExecStopPost=, takes it away. Run again, it finds
 * nothing. Needs root; about 20 s.
 */
import test from 'ava';
import { DSRD } from '../../lab/binaries.ts';
import { requireRoot } from '../../lab/index.ts';
import { DirectorPair } from '../../lab/pair/director-pair.ts';
import { role } from '../../lab/pair/status.ts';

const skip = requireRoot();
if (skip) console.log(`dsrd cleanup lab test skipped: ${skip}`);

(skip ? test.skip : test.serial)(
  'kill -9 with no restart: the VIP stays until dsrd --cleanup removes it; the peer is the one owner',
  async (t) => {
    t.timeout(90_000);
    const pair = await DirectorPair.create({ realServers: 1 });
    try {
      const { a, b, lab, vip } = pair;
      await pair.startBoth();
      await pair.settled(a, b);
      await a.proc!.kill9();
      await pair.until(b, (s) => role(s) === 'master');
      t.true(await pair.holdsVip(b));
      t.true(await pair.holdsVip(a), 'killed, a still holds the VIP: two directors answer for it');

      const cleanup = (...extra: string[]) =>
        lab.exec(a.host, process.execPath, [DSRD, '--cleanup', '--config', a.configPath, ...extra], {
          timeoutMs: 20_000,
        });
      const first = await cleanup();
      t.log(first.stdout.trim());
      t.regex(first.stdout, new RegExp(`VIP group web on eth0: removed ${vip.replaceAll('.', '\\.')}/32`));
      t.false(await pair.holdsVip(a), 'the zombie owner is gone');
      t.true(await pair.holdsVip(b), 'the new master keeps the VIP');
      t.is(role((await pair.status(b))!), 'master');

      const again = JSON.parse((await cleanup('--json')).stdout) as {
        ok: boolean;
        groups: { group: string; removed: string[] }[];
      };
      t.deepEqual(again, {
        ok: true,
        groups: [{ group: 'web', interface: 'eth0', removed: [], errors: [] }],
      });
    } catch (e) {
      for (const d of pair.directors) t.log(`${d.host.name}:\n${pair.logTail(d, 15).join('\n')}`);
      throw e;
    } finally {
      await pair.destroy();
    }
  },
);
