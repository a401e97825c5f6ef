/**
 * The failover benchmark's lab machinery, end to end on a small lab: the
 * gated nftables DSR rule forwards only on the VIP owner and only frames
 * addressed to it, and a keepalived trial (link down, planned) is measured by
 * the probe with a takeover and a recovery. No timing is asserted here: the
 * figures belong to `npm run bench -- failover`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { isDsrError } from '../../../core/errors.ts';
import { DsrdStack } from '../../../lab/failover/dsrd-stack.ts';
import { KeepalivedStack } from '../../../lab/failover/keepalived-stack.ts';
import { installGatedDsr } from '../../../lab/failover/nft-gated-dsr.ts';
import { runTrial } from '../../../lab/failover/trial.ts';
import { createLab, type Lab, probe, requireRoot } from '../../../lab/index.ts';

const skip = requireRoot();
const labTest = skip ? test.skip : test.serial;
if (skip) {
  test('failover lab tests skipped', (t) => {
    t.log(`skipped: ${skip}`);
    t.pass();
  });
}

const PORT = 7001;

labTest('the gated DSR rule forwards only on the VIP owner, only frames sent to it', async (t) => {
  const lab: Lab = await createLab({ directors: 2, clients: 1, realServers: 1 });
  t.teardown(() => lab.destroy());
  const [d1, d2] = lab.directors;
  const c = lab.clients[0];
  for (const d of lab.directors)
    await installGatedDsr(d, { reals: lab.realServers, vip: lab.vip4, port: PORT });
  await lab.exec(d1, 'ip', ['addr', 'add', `${lab.vip4}/32`, 'dev', 'eth0']);
  const viaOwner = await probe(c, 'udp', lab.vip4, PORT);
  t.true(viaOwner.ok, viaOwner.error);
  t.is(viaOwner.answer, lab.realServers[0].name);

  // Stale client ARP pointing at the backup: the backup must not forward (IPVS would not).
  await lab.exec(c, 'ip', [
    'neigh',
    'replace',
    lab.vip4,
    'lladdr',
    d2.mac,
    'dev',
    'eth0',
    'nud',
    'permanent',
  ]);
  t.false((await probe(c, 'udp', lab.vip4, PORT, 500)).ok, 'backup forwarded a VIP frame');

  // A frame flooded by the bridge (unknown MAC) reaches the owner's ingress but is not for it.
  await lab.exec(c, 'ip', [
    'neigh',
    'replace',
    lab.vip4,
    'lladdr',
    '02:d5:00:00:0f:0f',
    'dev',
    'eth0',
    'nud',
    'permanent',
  ]);
  t.false(
    (await probe(c, 'udp', lab.vip4, PORT, 500)).ok,
    'owner forwarded a frame addressed to another MAC',
  );

  // Once the backup holds the VIP too, frames sent to it are forwarded.
  await lab.exec(d2, 'ip', ['addr', 'add', `${lab.vip4}/32`, 'dev', 'eth0']);
  await lab.exec(c, 'ip', [
    'neigh',
    'replace',
    lab.vip4,
    'lladdr',
    d2.mac,
    'dev',
    'eth0',
    'nud',
    'permanent',
  ]);
  t.true((await probe(c, 'udp', lab.vip4, PORT)).ok);
});

labTest(
  'a keepalived pair: link-down and planned trials see a takeover and the probe recovers',
  async (t) => {
    const lab = await createLab({ directors: 2, clients: 1, realServers: 2 });
    const dir = mkdtempSync(join(tmpdir(), 'dsrl-failover-test-'));
    const stack = new KeepalivedStack(100);
    t.teardown(async () => {
      await stack.stop();
      await lab.destroy();
      rmSync(dir, { recursive: true, force: true });
    });
    await stack.start(lab, { advertMs: 100, vip: lab.vip4, port: PORT, workDir: dir });
    await stack.settle(30_000);
    const env = { lab, client: lab.clients[0], vip: lab.vip4, port: PORT };

    const down = await runTrial(env, stack, 'link-down');
    t.is(down.error, null);
    t.true(down.ok);
    t.not(down.newMaster, down.oldMaster);
    t.true((down.lost ?? 0) > 0, 'a dead master loses probes until the takeover');
    t.is(down.serverBefore, down.serverAfter, 'both directors pick the same real server for the flow');
    await stack.settle(30_000);

    const planned = await runTrial(env, stack, 'planned');
    t.is(planned.error, null);
    t.true(planned.ok);
    t.not(planned.newMaster, planned.oldMaster);
    const m = await stack.settle(30_000);
    t.deepEqual(stack.holders().holders(), [m.name], 'one VIP holder after the repair');
  },
);

labTest('the dsrd stack either elects a VIP owner or names the daemon parts it lacks', async (t) => {
  const lab = await createLab({ directors: 2, clients: 1, realServers: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'dsrl-failover-test-'));
  const stack = new DsrdStack(100);
  t.teardown(async () => {
    await stack.stop();
    await lab.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  try {
    await stack.start(lab, { advertMs: 100, vip: lab.vip4, port: PORT, workDir: dir });
  } catch (e) {
    // The generated config was accepted and the daemon ran; only missing failover parts may stop it.
    t.true(isDsrError(e, 'E_BENCH'), String(e));
    t.regex(
      (e as Error).message,
      /runs without the parts a failover needs: missing (forwarder|vip|election)/,
    );
    t.log((e as Error).message);
    return;
  }
  const m = await stack.settle(30_000);
  t.deepEqual(stack.holders().holders(), [m.name]);
  // The real server takes new flows once its first health check passed (unknown = weight 0), which
  // can come after the VIP has an owner: ask a few times.
  let answered = false;
  for (let i = 0; i < 10 && !answered; i++)
    answered = (await probe(lab.clients[0], 'udp', lab.vip4, PORT)).ok;
  t.true(answered, 'the VIP answers through dsrd');
});
