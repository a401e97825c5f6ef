/**
 * Lab (issue 4): one director runs the real dsrd from a YAML file and forwards a client's TCP
 * connections through the VIP to real servers (DSR); `dsrctl status` and `dsrctl conns` show the
 * flows; a reload that adds a real server takes effect without dropping an established
 * connection; a reload with a broken file keeps the old config and says why.
 */
import { mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import type { ConnsResult } from '../../admin/catalogue/flows.ts';
import type { DaemonStatus } from '../../admin/catalogue/status.ts';
import { type ConfigInput, serializeConfigInput } from '../../config/index.ts';
import { removePins } from '../../forwarder/loader.ts';
import { DSRD, dsrctl } from '../../lab/binaries.ts';
import { createLab, type Host, type Lab, type LabProcess, requireRoot, run } from '../../lab/index.ts';
import { until } from '../../lab/wait.ts';

const CLIENT = fileURLToPath(new URL('../forwarder/lab/client.ts', import.meta.url));
const bpffs = `/run/dsrl-dsrdfw-${process.pid}`;

function config(dir: string, director: Host, vip: string, reals: Host[]): ConfigInput {
  return {
    node: { id: director.name },
    interfaces: [{ name: 'eth0' }],
    forwarder: { pin_dir: join(bpffs, 'pins') },
    vip_groups: [{ name: 'web', id: 51, vips: [vip], advert_interval_ms: 100 }],
    services: [
      {
        name: 'echo',
        vip,
        protocol: 'tcp',
        port: 7000,
        real_servers: reals.map((r) => ({ address: r.ipv4 })),
      },
    ],
    sync: { enabled: false },
    metrics: { enabled: false },
    alerts: { queue_dir: join(dir, 'alerts') },
    admin: { socket: join(dir, 'dsrd.sock') },
  };
}

async function status(sock: string): Promise<DaemonStatus> {
  const r = await dsrctl(['-s', sock, 'status', '--json']);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as DaemonStatus;
}

/** Waits on the daemon: bounded for a busy 2-core machine; each poll runs dsrctl. */
const WAIT = { limitMs: 20_000, everyMs: 100 };

async function connections(
  lab: Lab,
  vip: string,
  n: number,
): Promise<{ answers: Record<string, number>; errors: string[] }> {
  const { stdout } = await lab.exec(
    lab.clients[0],
    process.execPath,
    [CLIENT, 'tcp', vip, '7000', String(n)],
    {
      timeoutMs: 60_000,
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
}

const skip = requireRoot();
if (skip) console.log(`dsrd forwarding lab test skipped: ${skip}`);

(skip ? test.skip : test)(
  'dsrd forwards through the VIP; status and conns show it; reloads keep flows',
  async (t) => {
    const lab = await createLab({ clients: 1, directors: 1, realServers: 3 });
    const dir = mkdtempSync(join(tmpdir(), 'dsr-lab-fwd-'));
    const procs: LabProcess[] = [];
    mkdirSync(bpffs, { recursive: true });
    await run('mount', ['-t', 'bpf', 'bpf', bpffs]);
    try {
      const director = lab.directors[0];
      const [rs0, rs1, rs2] = lab.realServers;
      const vip = lab.vips4[0];
      const path = join(dir, 'dsrd.yaml');
      const sock = join(dir, 'dsrd.sock');
      writeFileSync(path, serializeConfigInput(config(dir, director, vip, [rs0, rs1])));
      const daemon = lab.node(director, DSRD, ['--config', path]);
      procs.push(daemon);
      await daemon.waitForLine(/"msg":"dsrd running"/, 30_000);

      // Master of its group, VIP held, both real servers' MACs resolved.
      await until(
        'master with resolved real servers',
        async () => {
          const s = await status(sock);
          return (
            s.groups[0].role === 'master' && s.services[0].realServers.every((r) => r.forwarding === 'active')
          );
        },
        WAIT,
      );

      const before = await connections(lab, vip, 24);
      t.deepEqual(before.errors, []);
      t.deepEqual(Object.keys(before.answers).sort(), [rs0.name, rs1.name].sort());

      // A long-lived connection, kept busy across the reload.
      // (30 s: it must outlast the flow count, which follows the forwarder's 10 s sweep, and the reload.)
      const stream = lab.node(lab.clients[0], CLIENT, ['stream', vip, '7000', '30']);
      procs.push(stream);
      const hello = JSON.parse(await stream.waitForLine(/"hello"/, 10_000)) as { hello: string };

      // The flows show in status (counted on the forwarder's sweep) and in conns.
      await until(
        'flows in status',
        async () => {
          const s = await status(sock);
          return s.services[0].realServers.some((r) => (r.activeFlows ?? 0) > 0);
        },
        WAIT,
      );
      const conns = await dsrctl(['-s', sock, 'conns', '--client', lab.clients[0].ipv4, '--json']);
      t.is(conns.code, 0, conns.stderr);
      const listed = JSON.parse(conns.stdout) as ConnsResult;
      t.true(listed.entries.length > 0);
      t.true(listed.entries.every((e) => e.vip === vip && e.vipPort === 7000));
      t.true(
        listed.entries.some(
          (e) => e.realServer === lab.realServers.find((h) => h.name === hello.hello)?.ipv4,
        ),
      );

      // explain: the stream's connection is in the connection table; a new flow goes by the hash;
      // a port no service has goes to the director's stack.
      const streamRs = lab.realServers.find((h) => h.name === hello.hello)!.ipv4;
      const est = listed.entries.find((e) => e.realServer === streamRs && e.state === 'established')!;
      const client = lab.clients[0].ipv4;
      const ex = await dsrctl([
        '-s',
        sock,
        'explain',
        `${client}:${est.clientPort}`,
        `${vip}:7000/tcp`,
        '--json',
      ]);
      t.is(ex.code, 0, ex.stderr);
      t.like(JSON.parse(ex.stdout), { service: 'echo', realServer: streamRs, via: 'conn-table' });
      const fresh = JSON.parse(
        (await dsrctl(['-s', sock, 'explain', `${client}:1`, `${vip}:7000/tcp`, '--json'])).stdout,
      );
      t.is(fresh.via, 'hash');
      t.true([rs0.ipv4, rs1.ipv4].includes(fresh.realServer));
      const text = await dsrctl(['-s', sock, 'explain', `${client}:1`, `${vip}:7999/tcp`]);
      t.regex(text.stdout, /no real server: no service matches[\s\S]*no service is .*7999\/tcp/);

      // Reload adding rs2 while the stream runs.
      writeFileSync(path, serializeConfigInput(config(dir, director, vip, [rs0, rs1, rs2])));
      const reload = await dsrctl(['-s', sock, 'config', 'reload', '--json']);
      t.is(reload.code, 0, reload.stderr);
      t.true(JSON.parse(reload.stdout).parts.includes('forwarder'));
      t.true(stream.running, 'the stream was still open when the reload was applied');
      await until(
        'rs2 resolved',
        async () => (await status(sock)).services[0].realServers.every((r) => r.forwarding === 'active'),
        WAIT,
      );
      const after = await connections(lab, vip, 48);
      t.deepEqual(after.errors, []);
      t.true(
        (after.answers[rs2.name] ?? 0) > 0,
        `the new real server takes new flows: ${JSON.stringify(after.answers)}`,
      );

      const done = JSON.parse(await stream.waitForLine(/"sent"/, 60_000)) as {
        name: string;
        sent: number;
        echoed: number;
        errors: string[];
      };
      t.deepEqual(done.errors, [], 'the established connection survived the reload');
      t.is(done.name, hello.hello, 'and stayed on its real server');
      t.true(done.sent > 20);
      t.is(done.echoed, done.sent);

      // A broken file: refused with the reason, the old config (three real servers) keeps running.
      const broken = config(dir, director, vip, [rs0]);
      broken.services![0].port = 70000;
      writeFileSync(path, serializeConfigInput(broken));
      const bad = await dsrctl(['-s', sock, 'config', 'reload']);
      t.is(bad.code, 1);
      t.regex(bad.stderr, /the old config keeps running[\s\S]*dsrd\.yaml:\d+:\d+: services\[0\]\.port/);
      t.is((await status(sock)).services[0].realServers.length, 3);
      const still = await connections(lab, vip, 12);
      t.deepEqual(still.errors, []);
    } finally {
      await Promise.all(procs.map((p) => p.stop()));
      await lab.destroy();
      removePins(join(bpffs, 'pins'));
      await run('umount', [bpffs]);
      rmdirSync(bpffs);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
