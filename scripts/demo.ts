/**
 * The lab demo (README quick start): builds the lab — clients, two directors,
 * three real servers running real services — shows the DSR plumbing works,
 * and runs what dsr-director has built so far, live. Everything it creates is
 * removed at the end, or on Ctrl-C.
 */
import { createLab, probe, requireRoot } from '../test/lab/index.ts';

const reason = requireRoot();
if (reason) {
  console.error(`the demo ${reason}`);
  process.exit(1);
}

const say = (s: string) => console.log(s);
const lab = await createLab({ clients: 2, directors: 2, realServers: 3 });
try {
  say(`lab ${lab.prefix}: namespaces on one bridge`);
  for (const h of lab.hosts)
    say(`  ${h.name.padEnd(3)} ${h.role.padEnd(10)} ${h.ipv4.padEnd(14)} ${h.ipv6.padEnd(14)} ${h.mac}`);
  say(
    `  VIPs ${lab.vips4.join(', ')} ${lab.vips6.join(', ')} held on lo by every real server (arp_ignore=1, arp_announce=2)`,
  );
  say('\nreal servers, reached from client c1 on their own addresses:');
  for (const rs of lab.realServers) {
    const results = await Promise.all(
      (['http', 'tcp', 'udp'] as const).map((k) =>
        probe(lab.clients[0], k, rs.ipv4).then((r) => `${k} ${r.ok ? `→ ${r.answer}` : `FAILED ${r.error}`}`),
      ),
    );
    say(`  ${rs.name} ${rs.ipv4}: ${results.join(', ')}`);
  }
  const vip = await probe(lab.clients[0], 'udp', lab.vip4, undefined, 1000);
  say(
    `\nVIP ${lab.vip4} with no director running: ${vip.ok ? `answered by ${vip.answer}` : 'no answer (nobody owns it yet)'}`,
  );
  say(
    '\nnot built yet: the dsrd daemon (XDP forwarder, election, sync) that owns the VIP and forwards to real servers.',
  );
} finally {
  await lab.destroy();
  say(`\nlab ${lab.prefix} removed`);
}
