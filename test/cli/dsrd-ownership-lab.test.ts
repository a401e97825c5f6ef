/**
 * Lab (issue 21, cases 4 and 5 with real daemons): one owner per VIP under a one-way partition,
 * and no false failover under a flood of datagrams at the election port.
 *
 * - One-way: the adverts from the master a to the backup b are dropped (nftables on b's input, from
 *   a's address), b's to a still arrive. b takes over; a, hearing a master it outranks and is not
 *   heard by, yields after 3 adverts. Sampled every 20 ms, two directors hold the VIP only for a
 *   bounded time; then b alone. Healed, a takes the VIP back after its hold.
 * - Flood: the client sends 100k datagrams/s for 1 s to the master's election port; they are
 *   dropped by source before any MAC and nothing moves.
 *
 * Needs root; about 40 s.
 */
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { DEFAULTS } from '../../config/index.ts';
import { runIn } from '../../lab/exec.ts';
import { requireRoot } from '../../lab/index.ts';
import { type Director, DirectorPair } from '../../lab/pair/director-pair.ts';
import { sampleHolders } from '../../lab/pair/holders.ts';
import { role } from '../../lab/pair/status.ts';
import { sleep } from '../../lab/wait.ts';

const skip = requireRoot();
if (skip) console.log(`dsrd ownership lab test skipped: ${skip}`);

const PORT = DEFAULTS.election.port;
const FLOOD = fileURLToPath(new URL('../../lab/ownership/flood.ts', import.meta.url));

async function dropAdvertsFrom(from: Director, at: Director): Promise<void> {
  const rules = `table inet dsrl_oneway {
  chain input { type filter hook input priority 0; policy accept; ip saddr ${from.host.ipv4} udp dport ${PORT} drop; }
}
`;
  await runIn(at.host.netns, 'nft', ['-f', '-'], { input: rules });
}

(skip ? test.skip : test.serial)(
  'one owner per VIP: a one-way partition resolves to one owner, a datagram flood moves nothing',
  async (t) => {
    t.timeout(120_000);
    const pair = await DirectorPair.create({ realServers: 1, sync: { enabled: false } });
    try {
      const { a, b, lab } = pair;
      await pair.startBoth();
      await pair.settled(a, b);

      // ---- 4. one-way: a's adverts never reach b ----
      const cutAt = performance.now();
      await dropAdvertsFrom(a, b);
      const cut = await sampleHolders(pair, 3000);
      t.log(`one-way cut: both held the VIP for at most ${cut.bothMaxMs.toFixed(0)} ms; at 3 s: ${cut.last}`);
      t.deepEqual(cut.last, [b.host.name], 'b alone: it cannot hear a, and a yielded');
      // b's master-down interval (~360 ms) plus a's 3 adverts after it heard b, with polling slack.
      t.true(cut.bothMaxMs < 1000, `two owners for ${cut.bothMaxMs.toFixed(0)} ms`);
      t.true(
        pair.logs(a).some((l) => l.includes('"reason":"one-way-partition"')),
        'a says why it yielded',
      );
      await runIn(b.host.netns, 'nft', ['delete', 'table', 'inet', 'dsrl_oneway']);
      // a's hold: 10 master-down intervals; then it preempts, and b, hearing it, steps down.
      const healedAt = performance.now();
      await pair.until(a, (s) => role(s) === 'master', 15_000);
      await pair.until(b, (s) => role(s) === 'backup', 5000);
      t.log(
        `healed: a master again ${(performance.now() - healedAt).toFixed(0)} ms later (${((performance.now() - cutAt) / 1000).toFixed(1)} s after the cut)`,
      );

      // ---- 5. a flood at the master's election port from a non-peer ----
      const before = (await pair.status(a))!;
      const transitionsBefore = JSON.stringify(before.groups[0]);
      // 100k datagrams/s for 1 s (lab/ownership/flood.ts).
      const out = await lab.exec(
        lab.clients[0],
        process.execPath,
        [FLOOD, '--to', a.host.ipv4, '--port', String(PORT), '--rate', '100000', '--count', '100000'],
        { timeoutMs: 60_000 },
      );
      const { sent, ms } = JSON.parse(out.stdout.trim().split('\n').pop() ?? '{}') as {
        sent: number;
        ms: number;
      };
      await sleep(1000);
      const after = (await pair.status(a))!;
      t.log(`flood: ${sent} datagrams in ${ms.toFixed(0)} ms (${Math.round(sent / (ms / 1000))}/s)`);
      t.is(role(after), 'master', 'a still master');
      t.is(role((await pair.status(b))!), 'backup', 'b still backup');
      t.is(JSON.stringify(after.groups[0]), transitionsBefore, 'nothing moved');
      t.true(await pair.holdsVip(a));
      t.false(await pair.holdsVip(b));
    } catch (e) {
      for (const d of pair.directors) t.log(`${d.host.name}:\n${pair.logTail(d, 15).join('\n')}`);
      throw e;
    } finally {
      await pair.destroy();
    }
  },
);
