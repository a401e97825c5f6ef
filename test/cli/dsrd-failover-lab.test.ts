/**
 * Lab: two directors each running the real dsrd (every part, the forwarder attached on eth0),
 * driven with the real dsrctl. The preferred
 * director becomes master and holds the VIP (a client resolves the VIP to its MAC); a planned
 * `dsrctl failover` moves the VIP make-before-break; SIGTERM of the master makes it resign and
 * the other takes over at once; no VIP is ever left on the director that is not master.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { DaemonStatus } from '../../admin/catalogue/status.ts';
import { removePins } from '../../forwarder/loader.ts';
import { DSRD, dsrctl } from '../../lab/binaries.ts';
import { createLab, type Host, type Lab, type LabProcess, requireRoot, run } from '../../lab/index.ts';

/** `ip netns exec` hides /sys/fs/bpf: the forwarders pin on a bpffs of their own, mounted outside /sys. */
const bpffs = `/run/dsrl-dsrd-${process.pid}`;

function config(dir: string, me: Host, peer: Host, priority: number, vip: string): string {
  return `node:
  id: ${me.name}
  priority: ${priority}
  address: ${me.ipv4}
peers:
  - id: ${peer.name}
    address: ${peer.ipv4}
interfaces:
  - name: eth0
forwarder:
  pin_dir: ${join(bpffs, me.name)}
vip_groups:
  - name: web
    id: 51
    vips: [${vip}]
    advert_interval_ms: 100
    track:
      forwarder: false
keys:
  election:
    keys:
      - id: 1
        file: ${join(dir, 'election.key')}
sync:
  enabled: false
metrics:
  enabled: false
alerts:
  queue_dir: ${join(dir, `alerts-${me.name}`)}
admin:
  socket: ${join(dir, `${me.name}.sock`)}
`;
}

async function status(sock: string): Promise<DaemonStatus | null> {
  const r = await dsrctl(['-s', sock, 'status', '--json']);
  return r.code === 0 ? (JSON.parse(r.stdout) as DaemonStatus) : null;
}

/** Polls until `pred` holds on the director's status (bounded); returns the ms it took. */
async function until(sock: string, pred: (s: DaemonStatus) => boolean, limitMs = 15_000): Promise<number> {
  const t0 = performance.now();
  for (;;) {
    const s = await status(sock);
    if (s !== null && pred(s)) return performance.now() - t0;
    if (performance.now() - t0 > limitMs)
      throw new Error(`condition not reached on ${sock}: ${JSON.stringify(s?.groups)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function holds(lab: Lab, host: Host, vip: string): Promise<boolean> {
  const { stdout } = await lab.exec(host, 'ip', ['-j', 'addr', 'show', 'dev', 'eth0']);
  const links = JSON.parse(stdout) as { addr_info: { local: string }[] }[];
  return links.some((l) => l.addr_info.some((a) => a.local === vip));
}

async function arpMac(lab: Lab, client: Host, vip: string): Promise<string | null> {
  await lab.exec(client, 'ip', ['neigh', 'flush', 'dev', 'eth0']);
  await lab.exec(client, 'ping', ['-c', '1', '-W', '1', vip], { allowFailure: true });
  const { stdout } = await lab.exec(client, 'ip', ['-j', 'neigh', 'show', 'to', vip, 'dev', 'eth0']);
  const e = (JSON.parse(stdout) as { lladdr?: string }[]).find((x) => x.lladdr !== undefined);
  return e?.lladdr ?? null;
}

const role = (s: DaemonStatus) => s.groups[0].role;
const skip = requireRoot();
if (skip) console.log(`dsrd failover lab test skipped: ${skip}`);

(skip ? test.skip : test)(
  'two dsrd directors: election, VIP ownership, planned failover, resign on SIGTERM',
  async (t) => {
    const lab = await createLab({ clients: 1, directors: 2, realServers: 0, startServers: false });
    const dir = mkdtempSync(join(tmpdir(), 'dsr-lab-dsrd-'));
    const procs: LabProcess[] = [];
    mkdirSync(bpffs, { recursive: true });
    await run('mount', ['-t', 'bpf', 'bpf', bpffs]);
    try {
      const [a, b] = lab.directors;
      const client = lab.clients[0];
      const vip = lab.vips4[0];
      writeFileSync(join(dir, 'election.key'), randomBytes(32), { mode: 0o600 });
      writeFileSync(join(dir, 'a.yaml'), config(dir, a, b, 150, vip));
      writeFileSync(join(dir, 'b.yaml'), config(dir, b, a, 100, vip));
      const sockA = join(dir, `${a.name}.sock`);
      const sockB = join(dir, `${b.name}.sock`);
      const start = (h: Host, file: string): LabProcess => {
        const p = lab.node(h, DSRD, ['--config', join(dir, file)]);
        procs.push(p);
        return p;
      };
      const pa = start(a, 'a.yaml');
      const pb = start(b, 'b.yaml');
      await pa.waitForLine(/"msg":"dsrd running"/, 20_000);
      await pb.waitForLine(/"msg":"dsrd running"/, 20_000);

      // The higher priority wins; both see each other with the same config fingerprint.
      await until(sockA, (s) => role(s) === 'master');
      await until(sockB, (s) => role(s) === 'backup' && s.groups[0].master === a.name);
      const sa = (await status(sockA))!;
      t.is(sa.peers[0].id, b.name);
      t.true((sa.peers[0].lastHeardMs ?? 1e9) < 1000);
      t.true(sa.peers[0].fingerprintMatch);
      t.true(await holds(lab, a, vip));
      t.false(await holds(lab, b, vip));
      t.is(await arpMac(lab, client, vip), a.mac);

      // Planned handover, make-before-break: b takes the VIP, a lets it go.
      const fo = await dsrctl(['-s', sockA, 'failover', '--json']);
      t.is(fo.code, 0, fo.stderr);
      const r = JSON.parse(fo.stdout);
      t.like(r, { group: 'web', from: a.name, to: b.name, ok: true, outcome: 'completed' });
      await until(sockB, (s) => role(s) === 'master');
      await until(sockA, (s) => role(s) === 'backup');
      t.true(await holds(lab, b, vip));
      t.false(await holds(lab, a, vip));
      t.is(await arpMac(lab, client, vip), b.mac);

      // The backup cannot hand over what it does not hold: a clear refusal, nothing changes.
      const refused = await dsrctl(['-s', sockA, 'failover']);
      t.is(refused.code, 1);
      t.regex(refused.stderr, /E_ILLEGAL_TRANSITION/);

      // SIGTERM on the master: it resigns (priority 0) and releases; a takes over at once.
      pb.signal('SIGTERM');
      const ms = await until(sockA, (s) => role(s) === 'master', 5000);
      t.log(`takeover after the master's SIGTERM seen by dsrctl polling in ${Math.round(ms)} ms`);
      t.is(await pb.wait(), 0);
      t.true(await holds(lab, a, vip));
      t.false(await holds(lab, b, vip), 'the stopped director released the VIP');
      t.true(pb.lines.some((l) => l.includes('"msg":"released VIPs"')));
    } finally {
      await Promise.all(procs.map((p) => p.stop()));
      await lab.destroy();
      for (const d of lab.directors) removePins(join(bpffs, d.name));
      await run('umount', [bpffs]);
      rmdirSync(bpffs);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
