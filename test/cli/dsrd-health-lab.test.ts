/**
 * Lab (issue 7): health checks and drains end to end, through the real dsrd and dsrctl.
 *
 * One director forwards three services to three real servers, each service with its own check
 * (TCP connect for the echo service, a UDP reply for the datagram service, HTTP for the web
 * service, which needs two healthy real servers and has a sorry server).
 *
 * 1. The service on one real server is killed under traffic: it is marked down within
 *    fall × interval (plus slack), new TCP and UDP flows avoid it, long-lived connections to the
 *    other real servers carry on with no error, and the web service falls below its quorum (status
 *    says down, new flows go to the sorry server, the VIP group tracking it loses priority).
 *    Restarted, it is back after rise × interval and takes new flows again. Each transition reaches
 *    a webhook as an alert event.
 * 2. `dsrctl drain RS --wait` under long-lived connections: new flows avoid RS, the old ones keep
 *    flowing, the countdown starts from a count that holds them (not from the last sweep's), the
 *    drain completes (exit 0, drain_complete alert) once they close; a drain with a short timeout
 *    and connections still open reports the timeout (exit 1).
 *
 * 3. Two directors: both check every real server (the standby reports their health too); a drain
 *    made on the active is held by the standby within a second (carried by the sync), so after a
 *    failover the new active keeps the real server out; a director restarted afterwards takes the
 *    drains from its peer, and an enable on one reaches the other.
 *
 * Needs root; about a minute.
 */
import { mkdirSync, mkdtempSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import type { DaemonStatus, ServiceStatus } from '../../admin/catalogue/status.ts';
import { type ConfigInput, serializeConfigInput } from '../../config/index.ts';
import { removePins } from '../../forwarder/loader.ts';
import { DSRCTL, DSRD, NODE, run as runCmd } from '../../lab/binaries.ts';
import {
  createLab,
  type Host,
  type Lab,
  type LabProcess,
  requireRoot,
  run,
  startRealServerServices,
} from '../../lab/index.ts';
import { UDP_ECHO } from '../../lab/pair/config.ts';
import { DirectorPair } from '../../lab/pair/director-pair.ts';
import { role } from '../../lab/pair/status.ts';
import { sleep, until, waitFor } from '../../lab/wait.ts';

const CLIENT = fileURLToPath(new URL('../forwarder/lab/client.ts', import.meta.url));
const STREAMS = fileURLToPath(new URL('../../lab/servers/streams.ts', import.meta.url));
const PINNED = fileURLToPath(new URL('../../lab/servers/pinned-clients.ts', import.meta.url));
const SINK = fileURLToPath(new URL('../../lab/servers/webhook-receiver.ts', import.meta.url));
const bpffs = `/run/dsrl-dsrdhl-${process.pid}`;

const INTERVAL_MS = 200;
const RISE = 2;
const FALL = 2;
/** A busy 2-core machine: one extra interval for the check's phase, plus this much scheduling slack. */
const SLACK_MS = 1000;
const SINK_PORT = 8099;
/** Waits on the daemon or the webhook: bounded for a busy 2-core machine, polled every 50 ms. */
const WAIT = { limitMs: 20_000, everyMs: 50 };

/** Each service's check: every 200 ms, down after 2 failures, up after 2 successes. */
const TIMING = { interval_ms: INTERVAL_MS, timeout_ms: 190, rise: RISE, fall: FALL };

function config(dir: string, director: Host, vip: string, reals: Host[], sink: string): ConfigInput {
  const list = (hosts: Host[]) => hosts.map((r) => ({ address: r.ipv4 }));
  return {
    node: { id: director.name },
    interfaces: [{ name: 'eth0' }],
    forwarder: { pin_dir: join(bpffs, 'pins') },
    vip_groups: [
      {
        name: 'web',
        id: 52,
        vips: [vip],
        advert_interval_ms: 100,
        track: { services: [{ name: 'web', weight: 50 }] },
      },
    ],
    timers: { tcp_closing_s: 2, udp_s: 5 },
    services: [
      {
        name: 'echo',
        vip,
        protocol: 'tcp',
        port: 7000,
        drain: { timeout_s: 60 },
        health_check: { kind: 'tcp', ...TIMING },
        real_servers: list(reals),
      },
      {
        name: 'dgram',
        vip,
        protocol: 'udp',
        port: 7001,
        health_check: { kind: 'udp', ...TIMING, send: 'ping', expect_regex: ' ping$' },
        real_servers: list(reals),
      },
      {
        name: 'web',
        vip,
        protocol: 'tcp',
        port: 80,
        min_healthy: 2,
        sorry_server: reals[2].ipv4,
        health_check: { kind: 'http', ...TIMING },
        real_servers: list(reals.slice(0, 2)),
      },
    ],
    sync: { enabled: false },
    metrics: { enabled: false },
    alerts: {
      queue_dir: join(dir, 'alerts'),
      heartbeat_s: 0,
      targets: [
        { name: 'sink', kind: 'generic', url: `http://${sink}:${SINK_PORT}/hook`, backoff_initial_ms: 200 },
      ],
    },
    admin: { socket: join(dir, 'dsrd.sock') },
  };
}

function dsrctl(sock: string, args: readonly string[], timeoutMs = 20_000) {
  return runCmd(NODE, [DSRCTL, '-s', sock, ...args], { timeoutMs });
}

async function status(sock: string): Promise<DaemonStatus> {
  const r = await dsrctl(sock, ['status', '--json']);
  if (r.code !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as DaemonStatus;
}

function service(s: DaemonStatus, name: string): ServiceStatus {
  const svc = s.services.find((x) => x.name === name);
  if (!svc) throw new Error(`no service ${name} in status`);
  return svc;
}

function rsState(s: DaemonStatus, svc: string, address: string): string | undefined {
  return service(s, svc).realServers.find((r) => r.address === address)?.state;
}

/** Many new flows from one process, each from a fresh source port. */
async function flows(
  lab: Lab,
  kind: 'tcp' | 'udp',
  vip: string,
  port: number,
  n: number,
): Promise<{ answers: Record<string, number>; errors: string[] }> {
  const { stdout } = await lab.exec(
    lab.clients[0],
    process.execPath,
    [CLIENT, kind, vip, String(port), String(n)],
    {
      timeoutMs: 60_000,
    },
  );
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}');
}

/** New HTTP requests, each on a new connection: which real server answered each. */
async function httpAnswers(lab: Lab, vip: string, n: number): Promise<{ names: string[]; errors: string[] }> {
  const c = lab.clients[0];
  const { stdout } = await lab.exec(
    c,
    process.execPath,
    [PINNED, '--addr', vip, '--port', '80', '--count', String(n), '--from', c.ipv4],
    { timeoutMs: 60_000 },
  );
  const r = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
    byClient: Record<string, string[]>;
    errors: string[];
  };
  return { names: r.byClient[c.ipv4] ?? [], errors: r.errors };
}

interface StreamFigures {
  id: number;
  server: string;
  sent: number;
  echoed: number;
  errors: string[];
}
interface StreamsReport {
  count: number;
  alive: number;
  servers: Record<string, number>;
  streams: StreamFigures[];
}

/** Long-lived TCP connections through the VIP (lab/servers/streams.ts), driven over stdin. */
class Streams {
  readonly proc: LabProcess;
  servers: Record<string, number> = {};

  constructor(lab: Lab, vip: string, count: number) {
    this.proc = lab.node(
      lab.clients[0],
      STREAMS,
      ['--addr', vip, '--port', '7000', '--count', String(count)],
      {
        stdin: true,
      },
    );
  }

  async ready(): Promise<Record<string, number>> {
    const line = await this.proc.waitForLine(/"ready"/, 15_000);
    this.servers = (JSON.parse(line) as { ready: { servers: Record<string, number> } }).ready.servers;
    return this.servers;
  }

  async #ask(cmd: string, key: 'report' | 'final'): Promise<StreamsReport> {
    const from = this.proc.lines.length;
    this.proc.write(cmd);
    const line = await waitFor(
      `streams ${key}`,
      () => this.proc.lines.slice(from).find((l) => l.startsWith(`{"${key}"`)),
      WAIT,
    );
    return (JSON.parse(line) as Record<string, StreamsReport>)[key];
  }

  report(): Promise<StreamsReport> {
    return this.#ask('report', 'report');
  }

  /** Closes every connection and gives the final figures. */
  stop(): Promise<StreamsReport> {
    return this.#ask('stop', 'final');
  }
}

interface LogLine {
  at: number;
  msg: string;
  service?: string;
  rs?: string;
}

const skip = requireRoot();
if (skip) console.log(`dsrd health lab test skipped: ${skip}`);

(skip ? test.skip : test.serial)(
  'dsrd health checks: a stopped real server leaves and comes back; drains complete or time out',
  async (t) => {
    t.timeout(170_000);
    const lab = await createLab({ clients: 1, directors: 1, realServers: 3, startServers: false });
    const dir = mkdtempSync(join(tmpdir(), 'dsr-lab-health-'));
    const procs: LabProcess[] = [];
    const services = new Map<string, LabProcess>();
    mkdirSync(bpffs, { recursive: true });
    await run('mount', ['-t', 'bpf', 'bpf', bpffs]);
    try {
      const director = lab.directors[0];
      const client = lab.clients[0];
      const [r1, r2] = lab.realServers;
      const vip = lab.vip4;
      for (const rs of lab.realServers) services.set(rs.name, await startRealServerServices(lab, rs));

      const alerts: { type: string; data: Record<string, unknown> }[] = [];
      const sink = lab.node(client, SINK, ['--addr', client.ipv4, '--port', String(SINK_PORT)], {
        onLine: (l) => {
          if (l.startsWith('{')) alerts.push(JSON.parse((JSON.parse(l) as { body: string }).body));
        },
      });
      procs.push(sink);
      await sink.waitForLine(/^READY/);

      const path = join(dir, 'dsrd.yaml');
      const sock = join(dir, 'dsrd.sock');
      writeFileSync(path, serializeConfigInput(config(dir, director, vip, lab.realServers, client.ipv4)));
      const logs: LogLine[] = [];
      const daemon = lab.node(director, DSRD, ['--config', path], {
        onLine: (l) => {
          if (!l.startsWith('{')) return;
          const j = JSON.parse(l) as LogLine;
          logs.push({ at: performance.now(), msg: j.msg, service: j.service, rs: j.rs });
        },
      });
      procs.push(daemon);
      await daemon.waitForLine(/"msg":"dsrd running"/, 30_000);
      const logged = (msg: string, svc: string, rs: string | undefined, after: number) =>
        logs.find((l) => l.msg === msg && l.service === svc && l.rs === rs && l.at >= after);

      let last: DaemonStatus | undefined;
      await until(
        'master, every service up, every real server resolved',
        async () => {
          const s = await status(sock);
          last = s;
          return (
            s.groups[0].role === 'master' &&
            s.services.every((svc) => svc.state === 'up') &&
            s.services.every((svc) =>
              // (the sorry server is listed too: idle while web is up)
              svc.realServers.every((r) =>
                r.sorry === true ? r.state === 'disabled' : r.state === 'up' && r.forwarding === 'active',
              ),
            )
          );
        },
        WAIT,
      ).catch((e) => {
        t.log(JSON.stringify(last?.services, null, 1));
        t.log(daemon.lines.slice(-30).join('\n'));
        throw e;
      });
      const spread = await flows(lab, 'tcp', vip, 7000, 30);
      t.deepEqual(spread.errors, []);
      t.deepEqual(Object.keys(spread.answers).sort(), ['r1', 'r2', 'r3'], 'every real server takes flows');

      // ---- 1. the service on r1 stops under traffic ----
      const streams = new Streams(lab, vip, 12);
      procs.push(streams.proc);
      await streams.ready();
      const killedAt = performance.now();
      await services.get(r1.name)!.kill9();
      await until(
        'r1 down in every service',
        () => ['echo', 'dgram', 'web'].every((svc) => logged('real server down', svc, r1.ipv4, killedAt)),
        WAIT,
      );
      const downMs = logged('real server down', 'echo', r1.ipv4, killedAt)!.at - killedAt;
      t.log(
        `r1 marked down ${downMs.toFixed(0)} ms after its service stopped (fall ${FALL} × ${INTERVAL_MS} ms)`,
      );
      t.true(downMs <= FALL * INTERVAL_MS + INTERVAL_MS + SLACK_MS, `down after ${downMs} ms`);
      for (const svc of ['dgram', 'web']) {
        const ms = logged('real server down', svc, r1.ipv4, killedAt)!.at - killedAt;
        t.true(ms <= FALL * INTERVAL_MS + INTERVAL_MS + SLACK_MS, `${svc}: down after ${ms} ms`);
      }

      const tcpAfter = await flows(lab, 'tcp', vip, 7000, 45);
      t.deepEqual(tcpAfter.errors, [], 'no new TCP flow fails');
      t.deepEqual(Object.keys(tcpAfter.answers).sort(), ['r2', 'r3'], 'new TCP flows avoid r1');
      const udpAfter = await flows(lab, 'udp', vip, 7001, 45);
      t.deepEqual(udpAfter.errors, [], 'no new UDP flow fails');
      t.deepEqual(Object.keys(udpAfter.answers).sort(), ['r2', 'r3'], 'new UDP flows avoid r1');

      // Quorum: web needs two healthy real servers; with r1 gone it is down and r3 (sorry) answers.
      const quorum = await status(sock);
      t.is(rsState(quorum, 'echo', r1.ipv4), 'down');
      t.is(rsState(quorum, 'echo', r2.ipv4), 'up');
      t.is(service(quorum, 'echo').state, 'up');
      t.is(service(quorum, 'web').state, 'down', 'web is below min_healthy');
      t.like(
        service(quorum, 'web').realServers.find((r) => r.sorry === true),
        { address: lab.realServers[2].ipv4, state: 'up', forwarding: 'active' },
        'status shows the sorry server taking the new flows',
      );
      t.like(
        quorum.groups[0],
        { role: 'master', priority: 100, effectivePriority: 50 },
        'a tracked condition',
      );
      const sorry = await httpAnswers(lab, vip, 8);
      t.deepEqual(sorry.errors, []);
      t.deepEqual([...new Set(sorry.names)], ['r3'], 'new web flows go to the sorry server');

      // Connections to r2 and r3 were never disturbed.
      const during = await streams.report();
      for (const s of during.streams.filter((x) => x.server !== r1.name)) {
        t.deepEqual(s.errors, [], `stream ${s.id} on ${s.server}`);
        t.true(s.echoed > 10, `stream ${s.id} on ${s.server} keeps flowing`);
      }

      // ---- r1 comes back ----
      services.set(r1.name, await startRealServerServices(lab, r1));
      const backAt = performance.now();
      await until(
        'r1 up in every service',
        () => ['echo', 'dgram', 'web'].every((svc) => logged('real server up', svc, r1.ipv4, backAt)),
        WAIT,
      );
      const upMs = logged('real server up', 'echo', r1.ipv4, backAt)!.at - backAt;
      t.log(`r1 back ${upMs.toFixed(0)} ms after its service restarted (rise ${RISE} × ${INTERVAL_MS} ms)`);
      t.true(upMs <= RISE * INTERVAL_MS + INTERVAL_MS + SLACK_MS, `up after ${upMs} ms`);
      await until(
        'web up again, priority back',
        async () => {
          const s = await status(sock);
          return service(s, 'web').state === 'up' && s.groups[0].effectivePriority === 100;
        },
        WAIT,
      );
      const tcpBack = await flows(lab, 'tcp', vip, 7000, 45);
      t.deepEqual(tcpBack.errors, []);
      t.true((tcpBack.answers.r1 ?? 0) > 0, `r1 takes new flows again: ${JSON.stringify(tcpBack.answers)}`);
      const webBack = await httpAnswers(lab, vip, 12);
      t.deepEqual(webBack.errors, []);
      t.false(webBack.names.includes('r3'), 'the sorry server gets no new flows once web is up');

      const final = await streams.stop();
      for (const s of final.streams) {
        if (s.server === r1.name) continue; // its service was killed: those connections were reset
        t.deepEqual(s.errors, [], `stream ${s.id} on ${s.server} ended clean`);
        t.is(s.echoed, s.sent, `stream ${s.id} on ${s.server}: every line echoed`);
      }

      // Every transition reached the webhook.
      await until(
        'alerts delivered',
        () =>
          [
            ['real_server_down', 'echo'],
            ['real_server_up', 'echo'],
            ['service_down', 'web'],
            ['service_up', 'web'],
          ].every(([type, svc]) => alerts.some((a) => a.type === type && a.data.service === svc)),
        WAIT,
      );
      t.like(
        alerts.find((a) => a.type === 'real_server_down' && a.data.service === 'echo'),
        { data: { realServer: r1.ipv4, node: director.name } },
      );

      // ---- 2. drain with --wait under long-lived connections ----
      const held = new Streams(lab, vip, 12);
      procs.push(held.proc);
      const on = await held.ready();
      const target = lab.realServers.reduce((a, b) => ((on[a.name] ?? 0) >= (on[b.name] ?? 0) ? a : b));
      t.log(`streams per real server ${JSON.stringify(on)}; draining ${target.name}`);
      const drainStarted = performance.now();
      const drain = dsrctl(
        sock,
        ['drain', target.ipv4, '--service', 'echo', '--wait', '--timeout', '60'],
        90_000,
      );
      let drainDone = false;
      void drain.then(() => {
        drainDone = true;
      });
      await until(
        'target draining',
        async () => rsState(await status(sock), 'echo', target.ipv4) === 'draining',
        WAIT,
      );
      const avoid = await flows(lab, 'tcp', vip, 7000, 30);
      t.deepEqual(avoid.errors, []);
      t.false(target.name in avoid.answers, `new flows avoid the draining ${target.name}`);
      // Every connection, the draining real server's included, keeps echoing (at least 20 more lines
      // each, a line every 20 ms) while the drain waits; a stall or a reset fails the test.
      const before = await held.report();
      let still = before;
      const advanced = (r: StreamsReport) =>
        r.streams.every((s) => s.echoed >= before.streams.find((x) => x.id === s.id)!.echoed + 20);
      await until(
        'every held connection flowing',
        async () => {
          still = await held.report();
          return advanced(still);
        },
        { ...WAIT, limitMs: 15_000 },
      ).catch((e) => {
        t.log(JSON.stringify({ before: before.streams, still: still.streams }));
        throw e;
      });
      await sleep(1500); // past the drain's first ticks, which now have a fresh count
      t.false(drainDone, 'the drain waits while its connections are open');
      for (const s of (await held.report()).streams)
        t.deepEqual(s.errors, [], `stream ${s.id} on ${s.server}`);
      const closedAt = performance.now();
      const heldFinal = await held.stop();
      t.is(heldFinal.streams.filter((s) => s.errors.length > 0).length, 0);
      const result = await drain;
      const completeMs = performance.now() - closedAt;
      t.log(
        `drain of ${target.name} completed ${completeMs.toFixed(0)} ms after its connections closed ` +
          `(${(performance.now() - drainStarted).toFixed(0)} ms in all)`,
      );
      t.is(result.code, 0, result.stderr);
      t.regex(result.stdout, /complete: no flows left/);
      // The countdown: the first count (fresh, taken after the drain began) holds every connection.
      const counts = [...result.stdout.matchAll(/^ {2}(\d+) flow\(s\) left/gm)].map((m) => Number(m[1]));
      t.true(counts.length > 0 && counts[0] >= (on[target.name] ?? 0), `countdown ${JSON.stringify(counts)}`);
      await until(
        'drain_complete alert',
        () => alerts.some((a) => a.type === 'drain_complete' && a.data.realServer === target.ipv4),
        WAIT,
      );
      t.like(
        alerts.find((a) => a.type === 'drain_complete'),
        { data: { service: 'echo', realServer: target.ipv4, remainingFlows: 0 } },
      );
      // A finished drain keeps the real server out until enabled.
      t.is(rsState(await status(sock), 'echo', target.ipv4), 'draining');
      const enable = await dsrctl(sock, ['enable', target.ipv4, '--service', 'echo']);
      t.is(enable.code, 0, enable.stderr);
      await until(
        'target up again',
        async () => rsState(await status(sock), 'echo', target.ipv4) === 'up',
        WAIT,
      );
      const again = await flows(lab, 'tcp', vip, 7000, 30);
      t.true((again.answers[target.name] ?? 0) > 0, `${target.name} takes new flows after enable`);

      // ---- a drain whose connections stay open times out ----
      const stuck = new Streams(lab, vip, 9);
      procs.push(stuck.proc);
      const onStuck = await stuck.ready();
      const busy = lab.realServers.reduce((a, b) =>
        (onStuck[a.name] ?? 0) >= (onStuck[b.name] ?? 0) ? a : b,
      );
      const timedOut = await dsrctl(sock, [
        'drain',
        busy.ipv4,
        '--service',
        'echo',
        '--wait',
        '--timeout',
        '2',
      ]);
      t.is(timedOut.code, 1, `a timed-out drain exits 1: ${timedOut.stdout}`);
      t.regex(timedOut.stdout, /TIMED OUT with [1-9]\d* flow\(s\) left/);
      const stuckFinal = await stuck.stop();
      t.is(stuckFinal.streams.filter((s) => s.errors.length > 0).length, 0, 'the timeout closed nothing');
      t.is((await dsrctl(sock, ['enable', busy.ipv4])).code, 0);
      // The timeout is reported as an alert too, with the flows it left.
      await until(
        'drain_complete alert for the timeout',
        () =>
          alerts.some(
            (a) =>
              a.type === 'drain_complete' &&
              a.data.realServer === busy.ipv4 &&
              Number(a.data.remainingFlows) > 0,
          ),
        WAIT,
      );
    } finally {
      await Promise.all([...procs, ...services.values()].map((p) => p.stop()));
      await lab.destroy();
      removePins(join(bpffs, 'pins'));
      await run('umount', [bpffs]);
      rmdirSync(bpffs);
      rmSync(dir, { recursive: true, force: true });
    }
  },
);

(skip ? test.skip : test.serial)(
  'dsrd drains survive a failover: the standby holds them, a restarted director takes them',
  async (t) => {
    t.timeout(120_000);
    const pair = await DirectorPair.create({ noUnicastFlood: true });
    const { a, b, lab, vip } = pair;
    const [r1, r2, r3] = lab.realServers;
    const svc = 'echo-udp';
    const stateOf = (s: DaemonStatus, rs: string) =>
      s.services[0].realServers.find((r) => r.address === rs)?.state;
    // Each measurement from source ports no earlier one used: a flow the director already holds
    // stays where it went, drained or not.
    const udpFlows = async (n: number, firstSourcePort: number) => {
      const { stdout } = await lab.exec(
        lab.clients[0],
        process.execPath,
        [CLIENT, 'udp', vip, String(UDP_ECHO.port), String(n), String(firstSourcePort)],
        {
          timeoutMs: 60_000,
        },
      );
      return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
        answers: Record<string, number>;
        errors: string[];
      };
    };
    try {
      await pair.startBoth();
      // Every director checks every real server: the standby has its own verdicts.
      await pair.until(b, (s) => lab.realServers.every((r) => stateOf(s, r.ipv4) === 'up'), 15_000);
      t.true(
        pair.logs(b).some((l) => l.includes('"msg":"real server up"')),
        'the standby logs its own health verdicts',
      );

      const drain = await dsrctl(a.sock, ['drain', r2.ipv4, '--service', svc]);
      t.is(drain.code, 0, drain.stderr);
      const carriedMs = await pair.until(b, (s) => stateOf(s, r2.ipv4) === 'draining', 5000);
      t.log(`the standby held the drain ${carriedMs.toFixed(0)} ms after dsrctl drain on the active`);

      // Failover: the active stops (resigns); the standby takes over and keeps r2 out.
      await a.proc!.stop();
      await pair.until(b, (s) => role(s) === 'master', 10_000);
      const afterFailover = await udpFlows(40, 20_000);
      t.deepEqual(afterFailover.errors, []);
      t.false(
        r2.name in afterFailover.answers,
        `new flows avoid r2 after the failover: ${JSON.stringify(afterFailover.answers)}`,
      );
      t.true((afterFailover.answers[r1.name] ?? 0) + (afterFailover.answers[r3.name] ?? 0) === 40);

      // On the new active the operator also drains r3; the old active restarts with nothing and
      // takes both drains from its peer, then preempts back (priority 150) with them.
      t.is((await dsrctl(b.sock, ['drain', r3.ipv4, '--service', svc])).code, 0);
      await pair.start(a);
      const takenMs = await pair.until(
        a,
        (s) => stateOf(s, r2.ipv4) === 'draining' && stateOf(s, r3.ipv4) === 'draining',
        10_000,
      );
      t.log(`the restarted director held both drains ${takenMs.toFixed(0)} ms after it started`);
      await pair.until(a, (s) => role(s) === 'master', 20_000);
      const back = await udpFlows(30, 21_000);
      t.deepEqual(back.errors, []);
      t.deepEqual(
        Object.keys(back.answers),
        [r1.name],
        'only r1 takes new flows: both drains hold on the old active',
      );

      // An enable on one director reaches the other.
      t.is((await dsrctl(a.sock, ['enable', r2.ipv4, '--service', svc])).code, 0);
      await pair.until(b, (s) => stateOf(s, r2.ipv4) === 'up' && stateOf(s, r3.ipv4) === 'draining', 5000);
    } catch (e) {
      for (const d of pair.directors) t.log(`${d.host.name}:\n${pair.logTail(d, 15).join('\n')}`);
      throw e;
    } finally {
      await pair.destroy();
    }
  },
);
