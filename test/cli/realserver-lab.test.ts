/**
 * Lab: `dsrctl realserver check` inside real-server namespaces. A correctly set up real server
 * passes; one with arp_ignore=0 is flagged, and the test shows the flag is real: that host then
 * answers a client's ARP request for the VIP. `realserver setup` repairs it and the answers stop.
 */
import test from 'ava';
import { DSRCTL, NODE } from '../../lab/binaries.ts';
import { createLab, type Host, type Lab, requireRoot } from '../../lab/index.ts';

async function dsrctlIn(lab: Lab, host: Host, args: string[]) {
  const r = await lab.exec(host, NODE, [DSRCTL, ...args], { allowFailure: true, timeoutMs: 30_000 });
  return { ...r, json: r.stdout.startsWith('{') ? JSON.parse(r.stdout) : null };
}

/** MAC the client learns for the VIP by ARP (null: nobody answered). */
async function arpAnswer(lab: Lab, client: Host, vip: string): Promise<string | null> {
  await lab.exec(client, 'ip', ['neigh', 'flush', 'dev', 'eth0']);
  // One echo request makes the client resolve the VIP; the reply itself does not matter.
  await lab.exec(client, 'ping', ['-c', '1', '-W', '1', vip], { allowFailure: true });
  const { stdout } = await lab.exec(client, 'ip', ['-j', 'neigh', 'show', 'to', vip, 'dev', 'eth0']);
  const entries = JSON.parse(stdout) as { lladdr?: string; state?: string[] }[];
  const hit = entries.find((e) => e.lladdr !== undefined && !(e.state ?? []).includes('FAILED'));
  return hit?.lladdr ?? null;
}

const skip = requireRoot();
if (skip) console.log(`realserver lab test skipped: ${skip}`);

(skip ? test.skip : test)('realserver check flags a real server that answers ARP for the VIP', async (t) => {
  const lab = await createLab({ clients: 1, directors: 1, realServers: 2, startServers: false });
  try {
    const [good, bad] = lab.realServers;
    const client = lab.clients[0];
    const vips = [...lab.vips4, ...lab.vips6].flatMap((v) => ['--vip', v]);

    const ok = await dsrctlIn(lab, good, ['realserver', 'check', ...vips, '--json']);
    t.is(ok.code, 0, ok.stderr);
    t.true(ok.json.ok);
    t.is(
      await arpAnswer(lab, client, lab.vips4[0]),
      null,
      'set up correctly, nobody answers ARP for the VIP',
    );

    // Break one real server the classic way.
    await lab.exec(bad, 'sysctl', [
      '-q',
      '-w',
      'net.ipv4.conf.all.arp_ignore=0',
      'net.ipv4.conf.eth0.arp_ignore=0',
    ]);
    const flagged = await dsrctlIn(lab, bad, ['realserver', 'check', ...vips, '--json']);
    t.is(flagged.code, 1);
    t.false(flagged.json.ok);
    const finding = flagged.json.findings.find(
      (f: { check: string; level: string }) => f.check === 'arp-ignore',
    );
    t.is(finding.level, 'error');
    t.is(finding.subject, 'eth0');
    t.regex(finding.message, /answers ARP for addresses held on other interfaces/);
    const text = await dsrctlIn(lab, bad, ['realserver', 'check', ...vips]);
    t.regex(
      text.stdout,
      /FAIL {2}eth0 answers ARP .*\n {6}fix: sysctl -w net\.ipv4\.conf\.all\.arp_ignore=1/,
    );
    t.regex(text.stdout, /1 problem\(s\): this host is not ready/);

    // The flag is real: the broken host answers the client's ARP for the VIP with its own MAC.
    t.is(await arpAnswer(lab, client, lab.vips4[0]), bad.mac);

    // setup repairs it (and says what it ran); the ARP answers stop.
    const fixed = await dsrctlIn(lab, bad, ['realserver', 'setup', ...vips, '--json']);
    t.is(fixed.code, 0, fixed.stderr);
    t.deepEqual(fixed.json.actions, ['sysctl -w net.ipv4.conf.all.arp_ignore=1']);
    t.true(fixed.json.ok);
    t.is(await arpAnswer(lab, client, lab.vips4[0]), null);

    // A VIP missing from lo: flagged, and setup adds it as a host route.
    await lab.exec(bad, 'ip', ['addr', 'del', `${lab.vips4[0]}/32`, 'dev', 'lo']);
    const missing = await dsrctlIn(lab, bad, ['realserver', 'check', ...vips, '--json']);
    t.is(missing.code, 1);
    t.true(missing.json.findings.some((f: { check: string }) => f.check === 'vip-on-lo'));
    const added = await dsrctlIn(lab, bad, ['realserver', 'setup', ...vips, '--json']);
    t.deepEqual(added.json.actions, [`ip addr add ${lab.vips4[0]}/32 dev lo`]);
    t.is(added.code, 0);
  } finally {
    await lab.destroy();
  }
});
