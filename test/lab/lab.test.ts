/**
 * Proves the lab topology itself: reachability of every real server, the
 * real-server side of DSR (VIP on lo, no ARP for it, replies from the VIP),
 * the fault helpers, process control, and that teardown and the sweeper leave
 * nothing behind.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import test from 'ava';
import { createLab, type Lab, listLabNamespaces, probe, requireRoot, sweepLabs } from '../../lab/index.ts';
import { REGISTRY_DIR } from '../../lab/registry.ts';
import { sleep } from '../../lab/wait.ts';

const skip = requireRoot();
const labTest = skip ? test.skip : test.serial;
if (skip) {
  test('lab tests skipped', (t) => {
    t.log(`skipped: ${skip}`);
    t.pass();
  });
}

let lab: Lab;
test.before(async () => {
  if (!skip) lab = await createLab({ clients: 1, directors: 1, realServers: 3 });
});
test.after.always(async () => {
  await lab?.destroy();
});

labTest(
  'a client reaches each real server on its own address, IPv4 and IPv6, HTTP, TCP and UDP',
  async (t) => {
    const c = lab.clients[0];
    for (const rs of lab.realServers) {
      for (const addr of [rs.ipv4, rs.ipv6]) {
        for (const kind of ['http', 'tcp', 'udp'] as const) {
          const r = await probe(c, kind, addr);
          t.true(r.ok, `${kind} to ${addr}: ${r.error ?? ''}`);
          t.is(r.answer, rs.name, `${kind} to ${addr} answered by ${rs.name}`);
        }
      }
    }
  },
);

labTest('real servers hold the VIPs on lo and do not answer ARP or ND for them', async (t) => {
  const rs = lab.realServers[0];
  const { stdout } = await lab.exec(rs, 'ip', ['-o', 'addr', 'show', 'dev', 'lo']);
  t.true(stdout.includes(`${lab.vip4}/32`));
  t.true(stdout.includes(`${lab.vip6}/128`));
  // With no director, nobody may claim the VIP: a probe to it must fail for want of a neighbour.
  const c = lab.clients[0];
  for (const vip of [lab.vip4, lab.vip6]) {
    const r = await probe(c, 'udp', vip, undefined, 1500);
    t.false(r.ok, `${vip} must not be answered without a director`);
  }
  const neigh = await lab.exec(c, 'ip', ['neigh', 'show', lab.vip4]);
  t.false(/lladdr/.test(neigh.stdout), `no MAC learnt for the VIP: ${neigh.stdout}`);
});

labTest("a real server's reply to a client leaves from the VIP address", async (t) => {
  const c = lab.clients[0];
  const rs = lab.realServers[1];
  // Stand in for a director: send VIP traffic to rs's MAC, as the forwarder does.
  await lab.exec(c, 'ip', ['route', 'add', `${lab.vip4}/32`, 'via', rs.ipv4]);
  await lab.exec(c, 'ip', ['-6', 'route', 'add', `${lab.vip6}/128`, 'via', rs.ipv6]);
  try {
    for (const vip of [lab.vip4, lab.vip6]) {
      // UDP: the client's socket is connected to the VIP, so only a reply whose source is the VIP is seen.
      const udp = await probe(c, 'udp', vip);
      t.true(udp.ok, `UDP via ${vip}: ${udp.error ?? ''}`);
      t.is(udp.answer, rs.name);
      const tcp = await probe(c, 'tcp', vip);
      t.true(tcp.ok, `TCP via ${vip}: ${tcp.error ?? ''}`);
      t.is(tcp.answer, rs.name);
    }
  } finally {
    await lab.exec(c, 'ip', ['route', 'del', `${lab.vip4}/32`], { allowFailure: true });
    await lab.exec(c, 'ip', ['-6', 'route', 'del', `${lab.vip6}/128`], { allowFailure: true });
  }
});

labTest('block/unblock partitions two hosts both ways and heals', async (t) => {
  const [c, rs] = [lab.clients[0], lab.realServers[0]];
  await lab.block(c, rs);
  t.false((await probe(c, 'udp', rs.ipv4, undefined, 800)).ok);
  t.false(
    (await probe(rs, 'udp', lab.realServers[1].ipv4, undefined, 800)).ok === false,
    'other pairs unaffected',
  );
  await lab.unblock(c, rs);
  t.true((await probe(c, 'udp', rs.ipv4)).ok);
});

labTest('loss drops a share of frames at random, then clears', async (t) => {
  const [c, rs] = [lab.clients[0], lab.realServers[2]];
  await lab.loss(c, rs, 50);
  const r = await lab.exec(c, 'ping', ['-n', '-q', '-c', '40', '-i', '0.01', '-W', '1', rs.ipv4], {
    allowFailure: true,
  });
  const received = Number(/(\d+) received/.exec(r.stdout)?.[1] ?? -1);
  // Each round trip survives with p = 0.25; 0 or 40 of 40 has probability < 1e-4.
  t.true(received > 0 && received < 40, `received ${received}/40 with 50% loss each way`);
  await lab.clearLoss(c, rs);
  const ok = await lab.exec(c, 'ping', ['-n', '-q', '-c', '5', '-i', '0.01', '-W', '1', rs.ipv4]);
  t.regex(ok.stdout, / 5 received/);
});

labTest('linkDown/linkUp take a host off the LAN and back', async (t) => {
  const [c, rs] = [lab.clients[0], lab.realServers[0]];
  await lab.linkDown(rs);
  t.false((await probe(c, 'udp', rs.ipv4, undefined, 800)).ok);
  await lab.linkUp(rs);
  t.true((await probe(c, 'udp', rs.ipv4, undefined, 3000)).ok);
});

labTest('processes in a namespace can be paused, resumed and stopped', async (t) => {
  const p = lab.spawn(lab.directors[0], 'sleep', ['30']);
  const state = () => /State:\s+(\S)/.exec(readFileSync(`/proc/${p.pid}/status`, 'utf8'))?.[1];
  await sleep(100);
  p.pause();
  await sleep(50);
  t.is(state(), 'T');
  p.resume();
  await sleep(50);
  t.is(state(), 'S');
  await p.stop();
  t.false(p.running);
});

test.serial.after.always('teardown leaves no namespace of this lab', async (t) => {
  if (skip) return t.pass();
  const prefix = lab.prefix;
  await lab.destroy();
  t.deepEqual(
    listLabNamespaces().filter((n) => n.startsWith(prefix)),
    [],
  );
});

labTest('the sweeper removes namespaces whose owner died and keeps live ones', async (t) => {
  const dead = 'dsrlzzzz';
  // A pid that cannot be alive: above pid_max.
  writeFileSync(`${REGISTRY_DIR}/${dead}.pid`, '4194305\n');
  spawnSync('ip', ['netns', 'add', `${dead}-x`]);
  try {
    const removed = sweepLabs();
    t.true(removed.includes(`${dead}-x`));
    t.true(
      lab.allNamespaces.every((n) => listLabNamespaces().includes(n)),
      'a live lab is untouched',
    );
  } finally {
    spawnSync('ip', ['netns', 'del', `${dead}-x`]);
  }
});
