/**
 * Lab: an election key rotation on a running pair with `dsrctl keys rotate`, no restart. Each step
 * a peer is not ready for is refused; through the whole rotation the active stays master, no advert
 * or sync datagram is refused, the standby pulls no second bulk, live TCP streams through the VIP
 * carry on, and the old key's file is gone at the end.
 *
 * The lab pair's two configs name one key file in one directory (a real pair has a copy on each
 * director): `add` on d1 writes election-2.key beside it, and `add --key` on d2 names that very file.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import type { DaemonStatus } from '../../admin/catalogue/status.ts';
import { dsrctl } from '../../lab/binaries.ts';
import { requireRoot } from '../../lab/index.ts';
import { TCP_ECHO } from '../../lab/pair/config.ts';
import { type Director, DirectorPair } from '../../lab/pair/director-pair.ts';
import { electionDrops, role, syncPeer, syncStatus } from '../../lab/pair/status.ts';
import { streamsReport } from '../../lab/pair/traffic.ts';

const skip = requireRoot();
if (skip) console.log(`keys lab test skipped: ${skip}`);

const peerKeys = (s: DaemonStatus) => s.peers[0]?.keys ?? null;
const authDrops = (s: DaemonStatus): number => {
  const e = electionDrops(s);
  const sync = (syncStatus(s) as { drops?: Record<string, number> } | null)?.drops ?? {};
  return (e['unknown-key'] ?? 0) + (e['bad-mac'] ?? 0) + (sync['unknown-key'] ?? 0) + (sync['bad-mac'] ?? 0);
};

(skip ? test.skip : test)(
  'keys rotate add, switch and finish on both directors: refused out of order, nothing dropped, no restart',
  async (t) => {
    const pair = await DirectorPair.create({ services: [TCP_ECHO] });
    try {
      const { a, b } = pair;
      await pair.startBoth();
      const { proc: streams } = await pair.streams(5);
      const pids = [a.proc!.pid, b.proc!.pid];
      const bulks = syncPeer((await pair.status(b))!)!.bulksCompleted;
      const rotate = async (d: Director, ...args: string[]) => {
        const r = await dsrctl(['-s', d.sock, 'keys', 'rotate', ...args]);
        t.log(`${d.host.name}: keys rotate ${args.join(' ')} -> ${r.code}: ${(r.stdout + r.stderr).trim()}`);
        return r;
      };
      const sees = (d: Director, keys: { sendsWith: number; accepts: number[] }) =>
        pair.until(d, (s) => JSON.stringify(peerKeys(s)) === JSON.stringify(keys));

      t.is((await rotate(a, 'switch')).code, 1, 'switch with one key: refused');
      const added = await rotate(a, 'add');
      t.is(added.code, 0);
      const newKey = join(pair.dir, 'election-2.key');
      t.true(existsSync(newKey), 'the new key written beside the old one');
      await sees(b, { sendsWith: 1, accepts: [1, 2] });
      const early = await rotate(a, 'switch');
      t.is(early.code, 1, 'switch before the peer holds the new key: refused');
      t.regex(early.stderr, /does not accept key 2/);

      t.is((await rotate(b, 'add', '--key', newKey)).code, 0);
      await sees(a, { sendsWith: 1, accepts: [1, 2] });
      t.is((await rotate(a, 'switch')).code, 0);
      await sees(b, { sendsWith: 2, accepts: [1, 2] });
      const finishEarly = await rotate(a, 'finish');
      t.is(finishEarly.code, 1, 'finish while the peer still signs with the old key: refused');
      t.regex(finishEarly.stderr, /still signs with key 1/);

      t.is((await rotate(b, 'switch')).code, 0);
      await sees(a, { sendsWith: 2, accepts: [1, 2] });
      t.is((await rotate(a, 'finish')).code, 0);
      t.is((await rotate(b, 'finish')).code, 0);
      await sees(a, { sendsWith: 2, accepts: [2] });
      await sees(b, { sendsWith: 2, accepts: [2] });
      t.false(existsSync(join(pair.dir, 'election.key')), 'the old key file removed');

      const sa = (await pair.status(a))!;
      const sb = (await pair.status(b))!;
      t.deepEqual([a.proc!.pid, b.proc!.pid], pids, 'no restart');
      t.is(role(sa), 'master', 'the active stayed master');
      t.is(role(sb), 'backup');
      t.is(authDrops(sa) + authDrops(sb), 0, 'no advert or sync datagram refused for its key');
      t.is(syncPeer(sb)!.bulksCompleted, bulks, 'the standby pulled no second bulk');
      t.true(syncPeer(sb)!.inSync);
      const r = await streamsReport(streams, 'final');
      t.is(r.alive, r.count, 'every stream alive');
      t.is(r.withErrors, 0);
      const keysOut = await dsrctl(['-s', a.sock, 'keys', 'status']);
      t.regex(keysOut.stdout, /one key \(id 2\)/);
    } finally {
      await pair.destroy();
    }
  },
);
