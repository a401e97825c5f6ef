/**
 * The lab demo (README quick start): the whole slice, live, in about a minute.
 *
 *   - the lab: a client, two directors, three real servers (HTTP/TCP/UDP) in namespaces;
 *   - both directors run dsrd (XDP forwarder, election, connection sync); d1 is preferred;
 *   - the client keeps long-lived TCP streams open through the VIP, plus a UDP probe every 10 ms;
 *   - `dsrctl drill --back` on the master: a verified planned handover to d2 and back;
 *   - an unplanned failover: kill -9 of the master's dsrd; then its restart, which pulls the
 *     tables back from the new master and, once in sync, takes the group back (it is preferred);
 *   - then what happened: who was master when, the outage each time (the probe's longest gap
 *     between replies), and the connections carried over (streams alive, resets).
 *
 * Everything it creates is removed at the end, or on Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { DaemonStatus } from '../admin/catalogue/status.ts';
import { DSRCTL } from '../lab/binaries.ts';
import { type LabProcess, requireRoot } from '../lab/index.ts';
import { HTTP_PERSISTENT, type PairService, TCP_ECHO } from '../lab/pair/config.ts';
import { type Director, DirectorPair } from '../lab/pair/director-pair.ts';
import { inSync, role } from '../lab/pair/status.ts';
import { type StreamsReport, streamsReport } from '../lab/pair/traffic.ts';
import { sleep, waitFor } from '../lab/wait.ts';
import {
  formatMasters,
  type MasterChange,
  masterChanges,
  type ProbeOutcome,
  probeOutcome,
} from './demo-report.ts';

const UDP_PROBE = fileURLToPath(new URL('../lab/failover/udp-probe.ts', import.meta.url));
const STREAMS = 20;
/** On the VIP: the streams' TCP echo, HTTP with persistence, and the probe's UDP echo. */
const SERVICES: PairService[] = [TCP_ECHO, HTTP_PERSISTENT, { name: 'probe', protocol: 'udp', port: 7001 }];

const reason = requireRoot();
if (reason) {
  console.error(`the demo ${reason}`);
  process.exit(1);
}

const say = (s = '') => console.log(s);
const t0 = Date.now();
const clock = () => `${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s`;
const step = (s: string) => say(`\n[${clock()}] ${s}`);

let pair: DirectorPair | undefined;
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    if (pair === undefined) return;
    await pair.destroy();
    say(`\nlab ${pair.lab.prefix} removed`);
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (cleaning === undefined) say(`\n${sig}: tearing the lab down`);
    void cleanup().finally(() => process.exit(130));
  });
}

/** Runs dsrctl against a director, printing its output indented as it comes. */
function dsrctlLive(sock: string, args: string[]): Promise<number | null> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [DSRCTL, '-s', sock, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let buf = '';
    const out = (d: Buffer) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        say(`    ${buf.slice(0, nl)}`);
        buf = buf.slice(nl + 1);
      }
    };
    p.stdout.on('data', out);
    p.stderr.on('data', out);
    p.on('close', (code) => resolve(code));
  });
}

/** The director that is master now: the same single master on three polls in a row (bounded). */
function currentMaster(p: DirectorPair): Promise<Director> {
  let last: Director | null = null;
  let seen = 0;
  return waitFor(
    'a single master, the same on three polls in a row',
    async () => {
      const [sa, sb] = await Promise.all([p.status(p.a), p.status(p.b)]);
      const ma = sa !== null && role(sa) === 'master';
      const mb = sb !== null && role(sb) === 'master';
      const m = ma === mb ? null : ma ? p.a : p.b;
      seen = m !== null && m === last ? seen + 1 : 1;
      last = m;
      return m !== null && seen >= 3 ? m : undefined;
    },
    { limitMs: 10_000, everyMs: 50 },
  );
}

/** The 10 ms UDP probe (lab/failover/udp-probe.ts) for one phase. */
async function startProbe(p: DirectorPair): Promise<LabProcess> {
  const proc = p.lab.node(p.lab.clients[0], UDP_PROBE, ['--addr', p.vip, '--interval-ms', '10']);
  await proc.waitForLine(/^READY /, 15_000);
  return proc;
}

async function stopProbe(proc: LabProcess): Promise<ProbeOutcome> {
  proc.signal('SIGTERM');
  const line = await proc.waitForLine(/^RESULT /, 10_000);
  return probeOutcome(JSON.parse(line.slice('RESULT '.length)));
}

function streamLine(r: StreamsReport): string {
  const resets = r.streams.filter((s) => s.errors.length > 0).length;
  return `${r.alive}/${r.count} TCP streams alive, ${resets} reset or broken, longest stall ${r.maxDelayMs} ms`;
}

try {
  step('building the lab: client c1, directors d1 and d2, real servers r1 r2 r3 on one bridge');
  pair = await DirectorPair.create({ services: SERVICES });
  const { a, b, lab } = pair;
  for (const h of lab.hosts)
    say(`    ${h.name.padEnd(3)} ${h.role.padEnd(10)} ${h.ipv4.padEnd(13)} ${h.mac}`);
  say(`    VIP ${pair.vip}: services echo (tcp/7000), http (tcp/80, with persistence), probe (udp/7001)`);

  step('starting dsrd on both directors (d1 priority 150, d2 priority 100, connection sync on)');
  await pair.startBoth();
  say(`    d1 is master and holds the VIP; d2 is backup, and each has the other's tables (in sync)`);

  step(`client c1 opens ${STREAMS} long-lived TCP streams through the VIP and a UDP probe every 10 ms`);
  const { proc: streams, servers } = await pair.streams(STREAMS);
  say(
    `    streams answered by ${Object.entries(servers)
      .map(([s, n]) => `${s} ×${n}`)
      .join(', ')}`,
  );
  let probe = await startProbe(pair);
  await sleep(1000);

  const first = await currentMaster(pair);
  const other = first === a ? b : a;
  // What an operator checks first: the standby is in sync (the drill's preflight checks it too).
  const standbyReady = (s: DaemonStatus) =>
    role(s) === 'backup' && inSync(s) && !(s.groups[0]?.reason ?? '').includes('not in sync');
  await pair.until(other, standbyReady, 20_000);
  step(
    `planned: \`dsrctl drill --back\` on ${first.host.name}, the master (preflight, handover to ${other.host.name}, verify, hand back, verify)`,
  );
  const drillCode = await dsrctlLive(first.sock, ['drill', '--back']);
  const drillProbe = await stopProbe(probe);
  const afterDrill = await streamsReport(streams, 'report');
  say(`    exit status ${drillCode}; ${streamLine(afterDrill)}`);
  streams.write('reset');

  const master = await currentMaster(pair);
  const survivor = master === a ? b : a;
  step(`unplanned: kill -9 of ${master.host.name}'s dsrd (the master)`);
  probe = await startProbe(pair);
  await sleep(500);
  const killedAt = Date.now();
  const killedLines = master.proc?.lines ?? [];
  await master.proc?.kill9();
  say(
    `    ${master.host.name}'s kernel keeps its VIP and XDP program: it still forwards until clients follow ${survivor.host.name}`,
  );
  const took = await pair.until(survivor, (s) => role(s) === 'master', 10_000);
  say(
    `    ${survivor.host.name} is master ${Math.round(took)} ms after the kill (seen by polling its status)`,
  );
  await sleep(3000);
  const killProbe = await stopProbe(probe);
  const afterKill = await streamsReport(streams, 'report');
  say(`    ${streamLine(afterKill)}`);
  streams.write('reset');

  // The preferred director takes the group back once in sync; the other stays backup.
  const preferred = master === a;
  step(
    `${master.host.name}'s dsrd restarted: it clears the VIP left behind and pulls ${survivor.host.name}'s tables` +
      (preferred ? ', then preempts (it is preferred)' : ''),
  );
  probe = await startProbe(pair);
  await pair.start(master);
  const back = await pair.until(
    master,
    (s) => role(s) === (preferred ? 'master' : 'backup') && inSync(s),
    30_000,
  );
  say(
    `    ${master.host.name} is ${preferred ? 'master again' : 'backup, in sync'} ${Math.round(back)} ms after its daemon started`,
  );
  await sleep(2000);
  const restartProbe = await stopProbe(probe);
  const afterRestart = await streamsReport(streams, 'final');
  say(`    ${streamLine(afterRestart)}`);

  step('what happened');
  const changes: MasterChange[] = [
    ...masterChanges(master.host.name, killedLines),
    ...masterChanges(master.host.name, master.proc?.lines ?? []),
    ...masterChanges(survivor.host.name, survivor.proc?.lines ?? []),
  ];
  changes.push({ at: killedAt, director: master.host.name, to: 'killed', reason: 'kill -9' });
  say('  who was master when');
  for (const line of formatMasters(changes, t0)) say(`    ${line}`);
  say('  outage seen by the client (longest gap between UDP probe replies, 10 ms probe)');
  say(`    drill, handover and hand back:  ${drillProbe.text}`);
  say(`    kill -9 of the master's dsrd:   ${killProbe.text}`);
  say(`    its restart and preemption:     ${restartProbe.text}`);
  say('  connections carried over');
  say(`    through the drill:  ${streamLine(afterDrill)}`);
  say(`    through the kill:   ${streamLine(afterKill)}`);
  say(`    through the return: ${streamLine(afterRestart)}`);
  say(`    drill verdict: ${drillCode === 0 ? 'PASS' : 'FAIL'} (dsrctl exit status ${drillCode})`);
} catch (err) {
  console.error(`\nthe demo stopped: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
} finally {
  await cleanup();
  say(`done in ${clock().trim()}`);
}
