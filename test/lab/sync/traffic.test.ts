/**
 * The sync benchmark's traffic (lab/sync/traffic-worker.ts) against a forwarder of its own: the
 * kernel-played connections (forwarder/bpf/flow_gen.c tail-calling the program) each leave the
 * entry a SYN, an ACK and a FIN make, and the SYN times it samples are the generator's own; with
 * a namespace to hold it in the XDP dispatcher as without.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import test, { type ExecutionContext } from 'ava';
import { createForwarderInstance } from '../../../forwarder/harness.ts';
import { DSR } from '../../../forwarder/layout.ts';
import { pinDirFor, removePins } from '../../../forwarder/loader.ts';
import { clientOf, flowOf } from '../../../lab/sync/flows.ts';
import { Traffic } from '../../../lab/sync/traffic.ts';
import { DIRECTOR_MAC, skipReason, standardDesired, VIP4 } from '../../forwarder/support.ts';

const CONNS = 5000;
const serial = skipReason ? test.skip : test.serial;
const sh = (cmd: string, ...args: string[]): string => execFileSync(cmd, args, { encoding: 'utf8' });

async function playAndCheck(t: ExecutionContext, pinDir: string, dispatcherNetns?: string): Promise<void> {
  t.teardown(() => removePins(pinDir));
  const fwd = createForwarderInstance({ load: { pinDir }, desired: standardDesired() });
  t.teardown(() => fwd.close());
  const traffic = await Traffic.start({
    pinDir,
    dispatcherNetns,
    directorMac: DIRECTOR_MAC,
    vip: VIP4,
    tcpPort: 80,
    udpPort: 53,
    persistPort: 443,
  });
  try {
    const before = fwd.stats.reasons().tx_new_flow.packets;
    const samples: [number, bigint][] = [];
    const t0 = process.hrtime.bigint();
    const done = await traffic.run(
      { op: 'tcp', from: 70_000, count: CONNS, rate: 50_000, sampleEvery: 100 },
      (s) => samples.push(...s),
    );
    const t1 = process.hrtime.bigint();
    t.is(done.notForwarded, 0);
    t.is(fwd.stats.reasons().tx_new_flow.packets - before, BigInt(CONNS), 'one new flow per SYN');
    const vip = Uint8Array.of(198, 18, 0, 200);
    let closing = 0;
    for (let i = 70_000; i < 70_000 + CONNS; i++)
      if (fwd.tables.getConn(flowOf(i, vip, 80, 6))?.state === DSR.CONN_TCP_CLOSING) closing++;
    t.is(closing, CONNS, 'every connection saw its FIN');
    t.is(clientOf(70_000).port, 1025, 'the generator numbers clients as flows.ts does');
    t.is(samples.length, CONNS / 100);
    t.true(
      samples.every(([, at]) => at > t0 && at < t1),
      'SYN times within the run',
    );
    t.true(
      samples.every(([i, at], n) => n === 0 || (i > samples[n - 1][0] && at >= samples[n - 1][1])),
      'later connections, later SYNs',
    );
  } finally {
    await traffic.stop();
  }
}

serial(
  'the generator plays each connection through the program: SYN, ACK and FIN, sampled SYN times',
  async (t) => {
    // Right under /sys/fs/bpf: removePins takes the directory away, no daemon root is left behind.
    await playAndCheck(t, pinDirFor(`dsrl-traffic-${process.pid}`, '/sys/fs/bpf'));
  },
);

serial(
  'held in the XDP dispatcher by an idle veth in a namespace, it plays them alike and removes the veth',
  async (t) => {
    // `ip -n` sees /run but not /sys/fs/bpf: the pins go to a bpffs of the test's own there.
    const ns = `dsrl-gen-${process.pid}`;
    const bpffs = `/run/dsrl-gen-${process.pid}`;
    sh('ip', 'netns', 'add', ns);
    t.teardown(() => sh('ip', 'netns', 'del', ns));
    mkdirSync(bpffs, { recursive: true });
    sh('mount', '-t', 'bpf', 'bpf', bpffs);
    t.teardown(() => {
      sh('umount', bpffs);
      rmSync(bpffs, { recursive: true, force: true });
    });
    await playAndCheck(t, `${bpffs}/director`, ns);
    t.notRegex(sh('ip', '-n', ns, 'link'), /dsrgen0/, 'the veth went with the traffic thread');
  },
);
