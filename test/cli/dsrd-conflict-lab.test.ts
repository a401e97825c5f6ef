/**
 * Lab (issue 21): a second owner of the VIP on the wire. A real server announces the pair's VIP
 * from its own MAC (what a real server set up without arp_announce does whenever it resolves its
 * gateway from the VIP): the master counts the conflict, shows it in `dsrctl status` and announces
 * the VIP again, so the client's cache comes back to the master. Once with an IPv4 pair (gratuitous
 * ARP), once with an IPv6 pair (an unsolicited Neighbor Advertisement, RFC 4861 §7.2.6, which the
 * master's filtered NA socket sees). Needs root; about 20 s each.
 */
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { dsrctl } from '../../lab/binaries.ts';
import { requireRoot } from '../../lab/index.ts';
import { DirectorPair } from '../../lab/pair/director-pair.ts';
import { sleep, until } from '../../lab/wait.ts';

const ANNOUNCER = fileURLToPath(new URL('../../failover/vip/announcer.ts', import.meta.url));
const LIBC = fileURLToPath(new URL('../../core/kernel/libc.ts', import.meta.url));

const skip = requireRoot();
if (skip) console.log(`dsrd conflict lab test skipped: ${skip}`);

/** A real server announces the pair's VIP of `family` from its own MAC; the master takes it back. */
async function secondOwner(t: ExecutionContext, family: 4 | 6): Promise<void> {
  t.timeout(90_000);
  const pair = await DirectorPair.create({ realServers: 1, family });
  try {
    const { a, b, lab, vip } = pair;
    await pair.startBoth();
    await pair.settled(a, b);
    const rs = lab.realServers[0];
    t.is(vip.includes(':'), family === 6, `an IPv${family} VIP`);
    if (family === 6) {
      // The master holds the VIP deprecated: its own traffic to the real servers (health checks)
      // is not sourced from it, or a real server, which holds the VIP too, would answer itself.
      const route = await lab.exec(a.host, 'ip', ['-6', 'route', 'get', rs.ipv6]);
      t.regex(route.stdout, new RegExp(`src ${a.host.ipv6} `));
    }
    // The client resolves the VIP (a cache entry to move).
    await lab.exec(lab.clients[0], 'ping', ['-c', '1', '-W', '2', vip], { timeoutMs: 10_000 });
    t.is(await pair.clientVipMac(), a.host.mac);

    // Past the kernel's ARP locktime (1 s: an entry younger than that is not replaced), one
    // announcement of the VIP from the real server's MAC moves the client to it (for IPv6, an NA
    // with the Override flag, RFC 4861 §7.2.5, at once).
    await sleep(1500);
    const script = `
      import { PacketAnnouncer } from ${JSON.stringify(ANNOUNCER)};
      import { interfaceIndex } from ${JSON.stringify(LIBC)};
      const p = new PacketAnnouncer({ arpForms: ['request'] });
      p.announce(interfaceIndex('eth0'), ${JSON.stringify(rs.mac)}, [${JSON.stringify(vip)}]);
      p.close();`;
    // The client's cache moves to the real server and, 200 ms later, back to the master: read from
    // the kernel's neighbour events (polling it after the script ends could miss the first move).
    const neigh = lab.spawn(lab.clients[0], 'ip', ['monitor', 'neigh']);
    await sleep(200);
    await lab.exec(rs, process.execPath, ['--input-type=module', '-e', script], { timeoutMs: 20_000 });
    const movedTo = (mac: string) => neigh.lines.some((l) => l.startsWith(`${vip} `) && l.includes(mac));
    await until('the real server took the client', () => movedTo(rs.mac), { limitMs: 5000, everyMs: 20 });

    // The master saw it, said so, and announced again: the client's cache is back on it.
    await until(
      "the conflict in the master's status",
      async () => {
        const owners = (pair.status(a) as Promise<unknown>).then(
          (s) =>
            ((s as { parts: { name: string; status?: { owners?: unknown[] } }[] }).parts.find(
              (p) => p.name === 'vip',
            )?.status?.owners ?? []) as { conflicts?: { conflicts: number } }[],
        );
        return ((await owners)[0]?.conflicts?.conflicts ?? 0) > 0;
      },
      { limitMs: 5000, everyMs: 50 },
    );
    await until('the client back on the master', async () => (await pair.clientVipMac()) === a.host.mac, {
      limitMs: 5000,
      everyMs: 50,
    });
    await neigh.kill9();
    const text = (await dsrctl(['-s', a.sock, 'status'])).stdout;
    t.regex(
      text,
      new RegExp(`VIP CONFLICTS .*web \\d+ \\(last: ${vip.replaceAll('.', '\\.')} claimed by ${rs.mac}`),
    );
    t.true(pair.logs(a).some((l) => l.includes('another MAC claims a VIP we hold')));
    t.false(
      pair.logs(b).some((l) => l.includes('another MAC claims')),
      'the backup holds nothing to defend',
    );
  } catch (e) {
    for (const d of pair.directors) t.log(`${d.host.name}:\n${pair.logTail(d, 15).join('\n')}`);
    throw e;
  } finally {
    await pair.destroy();
  }
}

const serial = skip ? test.skip : test.serial;

serial(
  'another MAC announcing an IPv4 VIP (gratuitous ARP): the master counts it, says so, and takes the caches back',
  (t) => secondOwner(t, 4),
);

serial(
  'another MAC announcing an IPv6 VIP (unsolicited NA): the master counts it, says so, and takes the caches back',
  (t) => secondOwner(t, 6),
);

serial(
  'a real server that would answer ARP for the VIP is found by the master asking, before it announces anything',
  async (t) => {
    t.timeout(90_000);
    const pair = await DirectorPair.create({ realServers: 1 });
    try {
      const { a, b, lab } = pair;
      const rs = lab.realServers[0];
      // The classic DSR misconfiguration: arp_ignore=0, so the real server answers ARP for the
      // VIP it holds on lo. It announces nothing on its own in this test.
      await lab.exec(rs, 'sysctl', [
        '-q',
        '-w',
        'net.ipv4.conf.all.arp_ignore=0',
        'net.ipv4.conf.eth0.arp_ignore=0',
      ]);
      await pair.startBoth();
      await pair.settled(a, b);
      // The master's ARP probe (RFC 5227) PROBE_FIRST_MS after its takeover draws the answer.
      await until(
        'the master finds the real server answering for its VIP',
        () =>
          pair
            .logs(a)
            .some((l) => l.includes('another MAC claims a VIP we hold') && l.includes(rs.mac.toLowerCase())),
        { limitMs: 10_000, everyMs: 100 },
      );
      const text = (await dsrctl(['-s', a.sock, 'status'])).stdout;
      t.regex(text, new RegExp(`claimed by ${rs.mac}`, 'i'));
      t.false(
        pair.logs(b).some((l) => l.includes('another MAC claims')),
        'the backup asks nothing',
      );
    } catch (e) {
      for (const d of pair.directors) t.log(`${d.host.name}:\n${pair.logTail(d, 15).join('\n')}`);
      throw e;
    } finally {
      await pair.destroy();
    }
  },
);
