/**
 * Lab (issue 26): what a new operator found wrong, checked on a real pair with real traffic,
 * metrics scraped over the lab network and alerts sent to a real webhook receiver.
 *
 * Both directors start at once (a start-up race is no split brain); the client makes HTTP
 * requests from its own sources to the persistent web service, each on a new connection that
 * closes: persistence entries and closing flows. Then, on the master:
 *   - `dsrctl status` shows the persistent clients and the open and closing flows within the sweep
 *     period (about a second), and its peers table says "in sync" as `status --json` does;
 *   - the documented health and forwarder metrics have samples;
 *   - `dsrctl drain --wait` completes once no open flow is left, naming the closing ones, and the
 *     pair sends one `drain_complete` (from the master) with its outcome;
 *   - 60 `dsrctl explain`s of hash-chosen flows cost no event-loop stall;
 *   - after kill -9 of the standby, `dsr_sync_in_sync` drops within a second.
 *
 * Needs root; about a minute.
 */
import { fileURLToPath } from 'node:url';
import test from 'ava';
import type { DaemonStatus } from '../../admin/catalogue/status.ts';
import { dsrctl } from '../../lab/binaries.ts';
import { type LabProcess, requireRoot } from '../../lab/index.ts';
import { HTTP_PERSISTENT, UDP_ECHO } from '../../lab/pair/config.ts';
import { DirectorPair } from '../../lab/pair/director-pair.ts';
import { sleep, until } from '../../lab/wait.ts';

const RECEIVER = fileURLToPath(new URL('../../lab/servers/webhook-receiver.ts', import.meta.url));
const HOOK_PORT = 8097;
const WAIT = { limitMs: 15_000, everyMs: 50 };

interface Alert {
  type: string;
  node?: string;
  data: Record<string, unknown>;
}

/** The samples of one metric family: labels and value. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const out: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split('\n')) {
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (m === null || m[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)) labels[l[1]] = l[2];
    out.push({ labels, value: Number(m[3]) });
  }
  return out;
}

const skip = requireRoot();
if (skip) console.log(`dsrd operator lab test skipped: ${skip}`);

(skip ? test.skip : test.serial)(
  'what a new operator found wrong: status, metrics, drains, alerts once, explain, start-up race',
  async (t) => {
    t.timeout(150_000);
    const pair = await DirectorPair.create({
      services: [
        UDP_ECHO,
        {
          ...HTTP_PERSISTENT,
          realServers: 2,
          health_check: { kind: 'http', interval_ms: 500, timeout_ms: 400 },
        },
      ],
      metrics: true,
      alertTargets: (p) => [
        {
          name: 'hook',
          kind: 'generic',
          url: `http://${p.lab.clients[0].ipv4}:${HOOK_PORT}/hook`,
          backoff_initial_ms: 200,
        },
      ],
    });
    const procs: LabProcess[] = [];
    try {
      const { a, b, lab } = pair;
      const client = lab.clients[0];
      const alerts: Alert[] = [];
      const receiver = lab.node(client, RECEIVER, ['--addr', client.ipv4, '--port', String(HOOK_PORT)], {
        onLine: (l) => {
          if (l.startsWith('{')) alerts.push(JSON.parse((JSON.parse(l) as { body: string }).body) as Alert);
        },
      });
      procs.push(receiver);
      await receiver.waitForLine(/^READY/, 15_000);
      const sources = Array.from({ length: 8 }, (_, i) => `198.18.0.${40 + i}`);
      for (const s of sources) await lab.exec(client, 'ip', ['addr', 'add', `${s}/32`, 'dev', 'eth0']);

      // ---- 4. both started at once: whoever claims first, no split brain is raised ----
      await pair.startBoth();
      await pair.settled(a, b);
      await sleep(1000); // deliveries of the start-up's alerts
      t.deepEqual(
        alerts.filter((x) => x.type.startsWith('split_brain')).map((x) => x.type),
        [],
        'a start-up race is not a split brain',
      );

      // ---- traffic: 24 closed HTTP connections from 8 pinned clients ----
      const pinned = await pair.pinnedClients(sources, 3);
      t.deepEqual(pinned.errors, []);
      const trafficEnded = performance.now();

      // ---- 5. status: persistent clients, open and closing flows, fresh ----
      const http = (s: DaemonStatus) => s.services.find((x) => x.name === 'http')!;
      const total = (s: DaemonStatus, f: 'persistentClients' | 'closingFlows' | 'activeFlows') =>
        http(s).realServers.reduce((n, r) => n + (r[f] ?? 0), 0);
      let seen: DaemonStatus | null = null;
      await until(
        'the persistent clients and the closing flows in dsrctl status',
        async () => {
          seen = await pair.ctlStatus(a);
          return seen !== null && total(seen, 'persistentClients') === 8 && total(seen, 'closingFlows') >= 24;
        },
        WAIT,
      ).catch((e) => {
        t.log(JSON.stringify(seen === null ? null : http(seen)));
        throw e;
      });
      const countedMs = performance.now() - trafficEnded;
      t.log(
        `status counted 8 persistent clients and the closing flows ${countedMs.toFixed(0)} ms after the traffic`,
      );
      t.true(countedMs < 5000, `counts ${countedMs.toFixed(0)} ms old`);
      t.is(total(seen!, 'activeFlows'), 0, 'every connection closed: none open');
      for (const d of [a, b]) {
        const text = await dsrctl(['-s', d.sock, 'status']);
        const row = text.stdout.split('\n').find((l) => l.trimStart().startsWith(pair.other(d).host.name));
        t.regex(row ?? '', /in sync/, `${d.host.name}'s peers table: ${row}`);
      }
      t.regex((await dsrctl(['-s', a.sock, 'status'])).stdout, /Closing\s+Persistent/);

      // ---- 1. metrics with samples ----
      const scraped = await pair.scrape(a);
      const up = samples(scraped, 'dsr_health_check_up').filter((s) => s.labels.service === 'http');
      t.is(up.length, 2, 'one sample per checked real server');
      t.true(
        up.every((s) => s.value === 1),
        'both up',
      );
      const latency = samples(scraped, 'dsr_health_check_latency_seconds');
      t.true(
        latency.length >= 2 && latency.every((s) => s.value > 0 && s.value < 1),
        JSON.stringify(latency),
      );
      const checks = samples(scraped, 'dsr_health_checks_total').filter((s) => s.labels.result === 'success');
      t.true(checks.length >= 2 && checks.every((s) => s.value > 0), JSON.stringify(checks));
      const newFlows = samples(scraped, 'dsr_forwarder_flows_total').filter(
        (s) => s.labels.service === 'http',
      );
      t.is(
        newFlows.reduce((n, s) => n + s.value, 0),
        24,
        `new flows counted per real server: ${JSON.stringify(newFlows)}`,
      );
      t.deepEqual(
        samples(scraped, 'dsr_sync_in_sync').map((s) => [s.labels.peer, s.value]),
        [[b.host.name, 1]],
      );

      // ---- 2 and 3. a drain completes on open flows; one drain_complete for the pair ----
      const target = http(seen!).realServers.reduce((x, y) =>
        (x.closingFlows ?? 0) >= (y.closingFlows ?? 0) ? x : y,
      );
      t.true((target.closingFlows ?? 0) > 0);
      const drainStarted = performance.now();
      const drain = await dsrctl([
        '-s',
        a.sock,
        'drain',
        target.address,
        '--service',
        'http',
        '--wait',
        '--timeout',
        '30',
      ]);
      t.is(drain.code, 0, `${drain.stdout}${drain.stderr}`);
      t.regex(drain.stdout, /complete: no flows left, \d+ closing/);
      t.log(
        `drain with closing flows: ${drain.stdout.trim().split('\n').pop()}, ${(performance.now() - drainStarted).toFixed(0)} ms`,
      );
      await until('drain_complete delivered', () => alerts.some((x) => x.type === 'drain_complete'), WAIT);
      await sleep(2000); // time for a second one, which must not come
      const completes = alerts.filter((x) => x.type === 'drain_complete');
      t.is(completes.length, 1, `one alert for the pair: ${JSON.stringify(completes)}`);
      t.like(completes[0], {
        data: { realServer: target.address, service: 'http', outcome: 'no_flows', remainingFlows: 0 },
      });
      t.is(completes[0].data.node, a.host.name, 'the master of the VIP group speaks');
      t.is((await dsrctl(['-s', a.sock, 'enable', target.address])).code, 0);

      // ---- 6. explain: hash-chosen flows, no stall ----
      const stallsBefore = (await pair.status(a))!.eventLoop.stalls;
      const explainStarted = performance.now();
      for (let i = 0; i < 60; i++) {
        const r = await pair.explain(a, `198.18.7.${i + 1}`, 80);
        t.is(r.via, 'hash');
      }
      const explainMs = performance.now() - explainStarted;
      t.log(`60 explains of hash-chosen flows in ${explainMs.toFixed(0)} ms`);
      t.is((await pair.status(a))!.eventLoop.stalls, stallsBefore, 'no event-loop stall');

      // ---- 1. in sync drops soon after the peer died ----
      const killedAt = performance.now();
      await b.proc!.kill9();
      let lostMs = 0;
      await until(
        'dsr_sync_in_sync 0 for the dead peer',
        async () => {
          const v = samples(await pair.scrape(a), 'dsr_sync_in_sync')[0]?.value;
          lostMs = performance.now() - killedAt;
          return v === 0;
        },
        { limitMs: 10_000, everyMs: 20 },
      );
      t.log(`dsr_sync_in_sync dropped to 0 ${lostMs.toFixed(0)} ms after kill -9 of the peer`);
      t.true(lostMs < 1000, `${lostMs.toFixed(0)} ms`);
    } catch (e) {
      for (const d of pair.directors) t.log(`${d.host.name}:\n${pair.logTail(d, 15).join('\n')}`);
      throw e;
    } finally {
      await Promise.all(procs.map((p) => p.stop()));
      await pair.destroy();
    }
  },
);
