import test from 'ava';
import { BENCH_UDP_PORT, measurePps, RxCounters } from '../../../lab/dataplane/lab-pps.ts';
import { liveFramesRefusal } from '../../../lab/dataplane/live-frames-probe.ts';
import { installNftDsr } from '../../../lab/dataplane/nft-dsr.ts';
import { createLab } from '../../../lab/index.ts';
import { requireRoot } from '../../../lab/require-root.ts';

// A kernel that refuses live frames is a host limit, reported as a skip with the kernel's answer.
const skip = requireRoot() ?? (await liveFramesRefusal());
const rootTest = skip ? test.skip : test;
if (skip) console.log(`traffic generator lab test skipped: ${skip}`);

// The nftables peer rewrites the MACs in place, in the very page the generator sent, and that page comes
// back to the generator's pool: the path on which a generator that did not rewrite its headers on every
// run sent frames straight to a real server, bypassing the director.
rootTest('live-frames generator: frames reach the real servers through the director only', async (t) => {
  const lab = await createLab({ clients: 1, directors: 1, realServers: 2, startServers: false });
  t.teardown(() => lab.destroy());
  const [director] = lab.directors;
  const [client] = lab.clients;
  const reals = lab.realServers;
  await Promise.all(reals.map((r) => lab.exec(r, 'ping', ['-c', '1', '-W', '1', director.ipv4])));
  const counters = await RxCounters.start(lab, reals, 60);
  t.teardown(() => counters.stop());
  const removeNft = await installNftDsr({ director, reals, vip: lab.vip4, port: BENCH_UDP_PORT });
  t.teardown(removeNft);
  // measurePps throws when frames with the director's MAC entered the bridge anywhere but the
  // director's port, i.e. when frames went from the client straight to a real server.
  const run = await measurePps(lab, counters, {
    client,
    director,
    vip: lab.vip4,
    seconds: 0.5,
    warmupSeconds: 0.2,
    flows: 16,
  });
  t.true(run.pps > 1000, `pps ${run.pps}`);
  for (const r of reals) t.true((run.perHost.get(r.name) ?? 0) > 0, `${r.name} gets its jhash share`);
  t.true(run.offeredPps > 0);
});
