/**
 * The real dsrd process, driven by the real dsrctl: start under a stand-in for systemd (a
 * NOTIFY_SOCKET receiver), status, reload good and bad (admin command and SIGHUP), a second
 * daemon refused, and a graceful SIGTERM.
 *
 * dsrd runs in a network namespace of its own (unshare; anonymous, gone with the process) whose
 * eth0 is one end of a veth pair: the forwarder attaches there, the election makes this lone
 * director master and the VIP part adds the VIP there, never on the host. Needs root.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  fstatSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import test from 'ava';
import { UnixDgramReceiver } from '../../core/systemd/unix-dgram.ts';
import { removePins } from '../../forwarder/loader.ts';
import { DSRD, dsrctl, NODE, run } from '../../lab/binaries.ts';
import { requireRoot } from '../../lab/index.ts';
import { waitFor as poll } from '../../lab/wait.ts';

/** Runs argv in a fresh network namespace whose eth0 (the config's interface) is one end of a veth pair. */
const IN_NETNS = [
  '--net',
  '--',
  'sh',
  '-c',
  'ip link add eth0 type veth peer name eth0p && ip link set eth0p up && ip link set eth0 up && ip link set lo up && exec "$0" "$@"',
];

/** Pins of this run's forwarder: on the host bpffs (unshare --net keeps /sys), under a dsrl name. */
const pinDir = (dir: string): string => `/sys/fs/bpf/dsrl-int-${basename(dir)}`;

function config(dir: string, weight: number): string {
  return `node:
  id: lb-test
interfaces:
  - name: eth0
vip_groups:
  - name: web
    id: 51
    vips: [198.18.0.200, "2001:2::200"]
services:
  - name: web-http
    vip: 198.18.0.200
    protocol: tcp
    port: 80
    persistence:
      timeout_s: 120
    real_servers:
      - address: 198.18.0.100
      - address: 198.18.0.101
        weight: ${weight}
  - name: dns6
    vip: "2001:2::200"
    protocol: udp
    port: 53
    real_servers:
      - address: "2001:2::100"
forwarder:
  pin_dir: ${pinDir(dir)}
metrics:
  enabled: false
alerts:
  queue_dir: ${join(dir, 'alerts')}
admin:
  socket: ${join(dir, 'dsrd.sock')}
log:
  level: info
`;
}

/**
 * Collects notification datagrams as systemd does, all the time (a unix datagram queue holds only
 * net.unix.max_dgram_qlen messages), and waits for one matching a pattern (bounded).
 */
class FakeSystemd {
  readonly rx: UnixDgramReceiver;
  readonly messages: string[] = [];
  readonly #timer: NodeJS.Timeout;
  constructor(path: string) {
    this.rx = new UnixDgramReceiver(path);
    this.#timer = setInterval(() => this.#drain(), 5);
  }
  #drain(): void {
    for (let m = this.rx.receive(); m !== undefined; m = this.rx.receive()) this.messages.push(m);
  }
  close(): void {
    clearInterval(this.#timer);
    this.rx.close();
  }
  waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<string> {
    return poll(
      `${pattern} from dsrd`,
      () => {
        this.#drain();
        const hit = this.messages.find((m) => pattern.test(m));
        if (hit !== undefined) this.messages.splice(this.messages.indexOf(hit), 1);
        return hit;
      },
      { limitMs: timeoutMs, everyMs: 20, detail: () => `got ${JSON.stringify(this.messages)}` },
    );
  }
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

// dsrd needs root: the forwarder loads XDP, the VIP part uses rtnetlink and AF_PACKET.
const skip = requireRoot();
const maybe = skip ? test.skip : test;
if (skip) console.log(`dsrd integration skipped: ${skip}`);

maybe(
  'dsrd under a fake systemd: master of its group, status, reloads good and bad, SIGHUP, second daemon refused, SIGTERM',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'dsr-dsrd-'));
    // A path, not an abstract name: abstract unix sockets belong to a network namespace.
    const notifyPath = join(dir, 'notify');
    const systemd = new FakeSystemd(notifyPath);
    const path = join(dir, 'dsrd.yaml');
    const sock = join(dir, 'dsrd.sock');
    writeFileSync(path, config(dir, 1));
    // stdout to a file that stands for the journal stream: JOURNAL_STREAM names its device and
    // inode, as systemd does, so each line carries its syslog priority (core/systemd/journal.ts).
    const journal = join(dir, 'journal');
    const journalFd = openSync(journal, 'w');
    const { dev, ino } = fstatSync(journalFd);
    const child = spawn('unshare', [...IN_NETNS, NODE, DSRD, '--config', path], {
      env: {
        ...process.env,
        NOTIFY_SOCKET: notifyPath,
        WATCHDOG_USEC: '2000000',
        JOURNAL_STREAM: `${dev}:${ino}`,
      },
      stdio: ['ignore', journalFd, 'pipe'],
    });
    closeSync(journalFd);
    let stderr = '';
    child.stderr?.on('data', (d) => {
      stderr += d;
    });
    t.teardown(() => {
      if (child.exitCode === null) child.kill('SIGKILL');
      systemd.close();
      removePins(pinDir(dir));
      rmSync(dir, { recursive: true, force: true });
    });

    t.regex(await systemd.waitFor(/^READY=1/), /STATUS=node lb-test: 1 VIP group\(s\), 2 service\(s\)/);
    t.is(await systemd.waitFor(/^WATCHDOG=1$/), 'WATCHDOG=1', 'pings at WATCHDOG_USEC/2');

    const st = await dsrctl(['-s', sock, 'status', '--json']);
    t.is(st.code, 0, st.stderr);
    const status = JSON.parse(st.stdout);
    t.is(status.node, 'lb-test');
    t.is(status.pid, child.pid);
    t.is(status.state, 'running');
    t.deepEqual(
      status.services.map((s: { name: string }) => s.name),
      ['web-http', 'dns6'],
    );
    t.is(status.services[0].persistenceTimeoutS, 120);
    // Alone in its namespace, the director becomes master after one master-down interval and holds the VIPs.
    // (The VIPs are added just after the transition: wait for both.)
    const held = (v: typeof status): string[] =>
      v.parts.find((p: { name: string }) => p.name === 'vip').status.owners[0].held;
    const view: typeof status = await poll(
      'master, holding both VIPs',
      async () => {
        const v = JSON.parse((await dsrctl(['-s', sock, 'status', '--json'])).stdout);
        return v.groups[0].role === 'master' && held(v).length >= 2 ? v : undefined;
      },
      { limitMs: 15_000, everyMs: 100 },
    );
    t.is(view.groups[0].role, 'master');
    t.is(view.groups[0].master, 'lb-test');
    t.deepEqual(held(view), ['198.18.0.200/32', '2001:2::200/128']);
    const text = await dsrctl(['-s', sock, 'status']);
    t.regex(text.stdout, /web\s+51\s+master\s+100\s+lb-test\s+198\.18\.0\.200 2001:2::200/);
    // No health checks configured: up; no real server answers ARP in this namespace: unresolved.
    // Flows, closing flows, persistent clients: none yet.
    t.regex(
      text.stdout,
      /TCP\s+198\.18\.0\.200:80\s+up\s+0\s+0\s+0\s+web-http maglev\/65537 persistence 120s/,
    );
    t.regex(text.stdout, /->\s+198\.18\.0\.100:80\s+up\/unresolved\s+1\s+0\s+0\s+0/);
    t.regex(text.stdout, /->\s+\[2001:2::100\]:53/);

    const alert = await dsrctl(['-s', sock, 'alerts', 'test', 'nope']);
    t.is(alert.code, 1);
    t.regex(alert.stderr, /E_ALERT_TARGET_UNKNOWN: no alert target named "nope"/);

    // A group that does not exist is a usage error (exit 2) for failover and drill alike (the
    // drill of this lone director says first that it has no peer).
    for (const [cmd, message] of [
      ['failover', /no VIP group named "nope"/],
      ['drill', /no peers/],
    ] as const) {
      const wrong = await dsrctl(['-s', sock, cmd, '--group', 'nope']);
      t.is(wrong.code, 2, `${cmd}: ${wrong.stderr}`);
      t.regex(wrong.stderr, message);
    }

    // A good reload through dsrctl.
    writeFileSync(path, config(dir, 4));
    const good = await dsrctl(['-s', sock, 'config', 'reload']);
    t.is(good.code, 0, good.stderr);
    t.regex(good.stdout, /weight of 198\.18\.0\.101 1 -> 4/);
    t.regex(await systemd.waitFor(/^RELOADING=1/), /MONOTONIC_USEC=\d+/);
    t.regex(await systemd.waitFor(/^READY=1/), /config reloaded: services/);

    // A broken file: the old config keeps running, and dsrctl says why.
    writeFileSync(path, config(dir, 4).replace('protocol: tcp', 'protocol: sctp'));
    const bad = await dsrctl(['-s', sock, 'config', 'reload']);
    t.is(bad.code, 1);
    t.regex(bad.stderr, /E_RELOAD: the new config is not valid; the old config keeps running/);
    t.regex(bad.stderr, /dsrd\.yaml:\d+:\d+: services\[0\]\.protocol: /);
    const after = JSON.parse((await dsrctl(['-s', sock, 'status', '--json'])).stdout);
    t.is(after.services[0].realServers[1].weight, 4);
    t.false(after.config.lastReload.ok);

    // SIGHUP reloads too.
    writeFileSync(path, config(dir, 7));
    child.kill('SIGHUP');
    await systemd.waitFor(/^READY=1\nSTATUS=config reloaded/);
    const hup = JSON.parse((await dsrctl(['-s', sock, 'status', '--json'])).stdout);
    t.is(hup.services[0].realServers[1].weight, 7);

    // A second daemon on the same director is refused and leaves the first alone.
    const second = await run('unshare', [...IN_NETNS, NODE, DSRD, '--config', path]);
    t.is(second.code, 1);
    t.regex(second.stderr, /another dsrd answers on/);
    t.is((await dsrctl(['-s', sock, 'status', '--json'])).code, 0);

    // Graceful stop.
    child.kill('SIGTERM');
    t.is(await exited(child), 0);
    t.regex(await systemd.waitFor(/^STOPPING=1/), /STATUS=stopping: SIGTERM/);
    t.false(existsSync(sock), 'the admin socket is removed');
    const logs = `${readFileSync(journal, 'utf8')}${stderr}`;
    t.regex(logs, /^<6>\{"level":"info"[^\n]*"msg":"dsrd stopped"/m, 'journald priorities');
    t.regex(logs, /^<[34]>\{"level":"(warn|error)"/m, 'the bad reload is not info');
    t.notRegex(logs, /^\{"level"/m, 'every line prefixed');
    t.regex(logs, /"removed":\["198\.18\.0\.200\/32","2001:2::200\/128"\][^\n]*"msg":"released VIPs"/);
    const down = await dsrctl(['-s', sock, 'status']);
    t.is(down.code, 3);
  },
);

test('dsrd with a broken config does not start: exit 1 with positioned errors', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dsr-dsrd-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'dsrd.yaml');
  writeFileSync(path, config(dir, 1).replace('id: 51', 'id: 999'));
  const r = await run(NODE, [DSRD, '--config', path]);
  t.is(r.code, 1);
  t.regex(r.stderr, /dsrd\.yaml:7:9: vip_groups\[0\]\.id: /);
  t.false(existsSync(join(dir, 'dsrd.sock')));
});
