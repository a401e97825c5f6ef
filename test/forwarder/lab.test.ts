/**
 * The forwarder in the lab: a client reaches three real servers through the
 * VIP via a director running the XDP program on its eth0, IPv4 and IPv6, TCP
 * and UDP; the replies come straight from the real servers (the client never
 * sees a VIP packet with the director's MAC).
 */
import { existsSync, mkdirSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { MAP_NAMES, removePins } from '../../forwarder/loader.ts';
import type { DesiredState } from '../../forwarder/reconciler.ts';
import { createLab, type Lab, type LabProcess, requireRoot, run } from '../../lab/index.ts';
import { sleep } from '../../lab/wait.ts';

const skip = requireRoot();
const labTest = skip ? test.skip : test.serial;
if (skip) test.skip(`forwarder lab test: ${skip}`, () => {});

const DIRECTOR = fileURLToPath(new URL('./lab/director.ts', import.meta.url));
const CLIENT = fileURLToPath(new URL('./lab/client.ts', import.meta.url));
const TCP_PORT = 7000;
const UDP_PORT = 7001;
const FLOWS = 24;

// `ip netns exec` hides /sys/fs/bpf, so the director pins on a bpffs of its own mounted outside /sys.
const bpffs = `/run/dsrl-fwd-${process.pid}`;
const pinDir = join(bpffs, 'director');
let mounted = false;

let lab: Lab;
let director: LabProcess;
/** Maps the last started forwarder took over from pins. */
let restoredMaps = 0;

function desired(weights: number[]): DesiredState {
  const reals = lab.realServers.map((rs, i) => ({ address: rs.ipv4, weight: weights[i], mac: rs.mac }));
  return {
    directorMac: lab.directors[0].mac,
    services: [lab.vip4, lab.vip6].flatMap((vip) => [
      { vip, protocol: 'tcp' as const, port: TCP_PORT, reals },
      { vip, protocol: 'udp' as const, port: UDP_PORT, reals },
    ]),
  };
}

/** Starts the forwarder on the director; keepOnExit leaves it attached and pinned when stopped (a restart). */
async function startDirector(state: DesiredState, keepOnExit: boolean): Promise<LabProcess> {
  const p = lab.node(lab.directors[0], DIRECTOR, [
    JSON.stringify({ ifname: 'eth0', pinDir, desired: state, keepOnExit }),
  ]);
  const ready = JSON.parse(await p.waitForLine(/"ready"/, 30_000)) as {
    ready: boolean;
    error?: string;
    restored: number;
  };
  if (!ready.ready) throw new Error(`forwarder did not start: ${ready.error} ${p.stderrTail.join('\n')}`);
  restoredMaps = ready.restored;
  return p;
}

test.before(async () => {
  if (skip) return;
  mkdirSync(bpffs, { recursive: true });
  await run('mount', ['-t', 'bpf', 'bpf', bpffs]);
  mounted = true;
  lab = await createLab({ clients: 1, directors: 1, realServers: 3 });
  const d = lab.directors[0];
  // The director owns the VIPs: its kernel answers ARP/ND, the forwarder carries the data.
  await lab.exec(d, 'ip', ['addr', 'add', `${lab.vip4}/32`, 'dev', 'eth0']);
  await lab.exec(d, 'ip', ['-6', 'addr', 'add', `${lab.vip6}/128`, 'dev', 'eth0', 'nodad']);
  director = await startDirector(desired([1, 1, 1]), true);
  // Count, on the client, every TCP/UDP packet from a VIP, and those that came from the director's MAC
  // (ICMPv6 from the VIP, such as the director's neighbour advertisements for it, is not service traffic).
  const c = lab.clients[0];
  const rules = [
    `add table netdev dsrfwd`,
    `add chain netdev dsrfwd in { type filter hook ingress device "eth0" priority 0; policy accept; }`,
    `add rule netdev dsrfwd in ip saddr ${lab.vip4} meta l4proto { tcp, udp } ether saddr ${d.mac} counter`,
    `add rule netdev dsrfwd in ip saddr ${lab.vip4} meta l4proto { tcp, udp } counter`,
    `add rule netdev dsrfwd in ip6 saddr ${lab.vip6} meta l4proto { tcp, udp } ether saddr ${d.mac} counter`,
    `add rule netdev dsrfwd in ip6 saddr ${lab.vip6} meta l4proto { tcp, udp } counter`,
  ];
  for (const r of rules) await lab.exec(c, 'nft', r.split(' '));
});

test.after.always(async () => {
  await director?.stop(5000);
  await lab?.destroy();
  if (mounted) {
    removePins(pinDir);
    await run('umount', [bpffs]);
  }
  if (existsSync(bpffs)) rmdirSync(bpffs);
});

async function clientRun(kind: 'tcp' | 'udp', addr: string, port: number) {
  const { stdout } = await lab.exec(
    lab.clients[0],
    process.execPath,
    [CLIENT, kind, addr, String(port), String(FLOWS)],
    {
      timeoutMs: 60_000,
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
    answers: Record<string, number>;
    errors: string[];
  };
}

async function vipCounters(): Promise<number[]> {
  const { stdout } = await lab.exec(lab.clients[0], 'nft', ['-j', 'list', 'table', 'netdev', 'dsrfwd']);
  const items = (
    JSON.parse(stdout) as { nftables: Array<{ rule?: { expr: Array<{ counter?: { packets: number } }> } }> }
  ).nftables;
  return items.filter((i) => i.rule).map((i) => i.rule!.expr.find((e) => e.counter)?.counter?.packets ?? -1);
}

for (const family of ['IPv4', 'IPv6'] as const) {
  for (const kind of ['tcp', 'udp'] as const) {
    labTest(
      `${family} ${kind.toUpperCase()}: the client reaches all three real servers through the VIP`,
      async (t) => {
        const vip = family === 'IPv4' ? lab.vip4 : lab.vip6;
        const r = await clientRun(kind, vip, kind === 'tcp' ? TCP_PORT : UDP_PORT);
        t.deepEqual(r.errors, []);
        const names = lab.realServers.map((rs) => rs.name).sort();
        t.deepEqual(Object.keys(r.answers).sort(), names, JSON.stringify(r.answers));
        t.is(
          Object.values(r.answers).reduce((a, b) => a + b, 0),
          FLOWS,
        );
      },
    );
  }
}

labTest('replies go straight from the real servers to the client, never through the director', async (t) => {
  const [v4ViaDirector, v4All, v6ViaDirector, v6All] = await vipCounters();
  t.true(v4All > 0 && v6All > 0, `replies seen: IPv4 ${v4All}, IPv6 ${v6All}`);
  t.is(v4ViaDirector, 0);
  t.is(v6ViaDirector, 0);
});

labTest(
  'a restarted director keeps an established connection on its real server, even one drained meanwhile',
  async (t) => {
    const stream = lab.node(lab.clients[0], CLIENT, ['stream', lab.vip4, String(TCP_PORT), '5']);
    const hello = JSON.parse(await stream.waitForLine(/"hello"/, 10_000)) as { hello: string };
    const serving = lab.realServers.findIndex((rs) => rs.name === hello.hello);
    t.true(serving >= 0);
    await sleep(1000);
    t.is(await director.stop(5000), 0);
    // The new configuration drains the real server of the open connection.
    const weights = [1, 1, 1];
    weights[serving] = 0;
    director = await startDirector(desired(weights), false);
    t.is(restoredMaps, MAP_NAMES.length, 'every map was restored from its pin');
    await stream.wait();
    const result = JSON.parse(stream.lines.find((l) => l.includes('"sent"')) ?? '{}') as {
      name: string;
      sent: number;
      echoed: number;
      errors: string[];
    };
    t.deepEqual(result.errors, []);
    t.is(result.name, hello.hello);
    t.true(result.sent > 40, `sent ${result.sent}`);
    t.is(result.echoed, result.sent, 'every line of the open connection was echoed across the restart');
    const fresh = await clientRun('tcp', lab.vip4, TCP_PORT);
    t.deepEqual(fresh.errors, []);
    t.false(
      hello.hello in fresh.answers,
      `no new flow to the drained ${hello.hello}: ${JSON.stringify(fresh.answers)}`,
    );
  },
);

labTest('the director counted the forwarded flows per service and real server', async (t) => {
  const code = await director.stop(5000);
  t.is(code, 0);
  const line = director.lines.find((l) => l.includes('"stats"'));
  t.truthy(line, director.stderrTail.join('\n'));
  const stats = JSON.parse(line!).stats as {
    reasons: Record<string, number>;
    services: Array<{ service: string; packets: number; reals: Array<{ packets: number }> }>;
  };
  t.is(stats.services.length, 4);
  for (const s of stats.services) {
    t.true(s.packets > 0, `${s.service} forwarded packets`);
    t.true(
      s.reals.every((r) => r.packets > 0),
      `${s.service}: every real server got traffic`,
    );
  }
  t.true(stats.reasons.tx_new_flow >= 4 * FLOWS, `new flows ${stats.reasons.tx_new_flow}`);
});
