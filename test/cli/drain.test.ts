/**
 * dsrctl drain / enable / weight through the real binary, against a daemon running the real
 * health part. The connection table is stood in for by a flow count the test lowers; services
 * have no health checks, so nothing is sent on the network.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import test from 'ava';
import type { DaemonStatus } from '../../admin/catalogue/status.ts';
import { callDaemon } from '../../admin/client.ts';
import { CommandRegistry } from '../../admin/registry.ts';
import { loadConfig } from '../../config/index.ts';
import { EventLoopMonitor } from '../../core/eventloop.ts';
import { LogRoot } from '../../core/log.ts';
import { NoNotifier } from '../../core/systemd/notify.ts';
import { Daemon } from '../../daemon/daemon.ts';
import { HealthPart } from '../../daemon/health/part.ts';
import { coreParts } from '../../daemon/parts.ts';
import { DSRCTL, dsrctl, NODE } from '../../lab/binaries.ts';

const RS = '198.18.0.101';

test('drain --wait counts the flows down to completion; weight and enable change the real server', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dsr-drain-'));
  const path = join(dir, 'dsrd.yaml');
  const sock = join(dir, 'dsrd.sock');
  writeFileSync(
    path,
    `node:
  id: lb1
interfaces:
  - name: eth0
vip_groups:
  - name: web
    id: 51
    vips: [198.18.0.200]
services:
  - name: web-http
    vip: 198.18.0.200
    protocol: tcp
    port: 80
    real_servers:
      - address: 198.18.0.100
      - address: ${RS}
metrics:
  enabled: false
alerts:
  queue_dir: ${join(dir, 'alerts')}
admin:
  socket: ${sock}
`,
  );
  let flows = 3;
  const registry = new CommandRegistry();
  const eventLoop = new EventLoopMonitor();
  const logRoot = new LogRoot({
    level: 'info',
    destination: new Writable({ write: (_c, _e, done) => done() }),
  });
  const notifier = new NoNotifier();
  const health = new HealthPart({
    remainingFlows: (rs) => ({ open: rs === RS ? flows : 0, closing: rs === RS ? 2 : 0 }),
    drainTickMs: 50,
  });
  const daemon = new Daemon({
    configPath: path,
    config: await loadConfig(path),
    load: (p) => loadConfig(p),
    logRoot,
    notifier,
    eventLoop,
    registry,
    parts: [...coreParts({ registry, notifier, eventLoop, logRoot }), health],
    version: 'test',
  });
  t.teardown(async () => {
    await daemon.stop('test end');
    rmSync(dir, { recursive: true, force: true });
  });
  await daemon.start();

  const weight = await dsrctl(['-s', sock, 'weight', RS, '3']);
  t.is(weight.code, 0, weight.stderr);
  let status = (await callDaemon(sock, 'status')) as DaemonStatus;
  const rs = () => status.services[0].realServers.find((r) => r.address === RS)!;
  t.is(rs().weight, 3);
  t.is(rs().configuredWeight, 1);

  // The flows go away while dsrctl waits: each count it shows lets the next one happen.
  const child = spawn(NODE, [DSRCTL, '-s', sock, 'drain', RS, '--wait', '--timeout', '60']);
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
  });
  child.stdout.on('data', (d) => {
    out += d;
    if (out.includes('3 flow(s) left')) flows = 1;
    if (out.includes('1 flow(s) left')) flows = 0;
  });
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  t.is(code, 0, err);
  // The closing flows are shown apart, and not waited for.
  t.regex(out, /^ {2}3 flow\(s\) left, 2 closing, \d+s before the timeout\n/);
  t.regex(out, / {2}1 flow\(s\) left/);
  t.regex(
    out,
    new RegExp(
      `drain of ${RS.replaceAll('.', '\\.')} \\(every service\\) complete: no flows left, 2 closing\\n$`,
    ),
  );
  status = (await callDaemon(sock, 'status')) as DaemonStatus;
  t.is(rs().state, 'draining');
  t.is(rs().weight, 0);

  const enable = await dsrctl(['-s', sock, 'enable', RS]);
  t.is(enable.code, 0, enable.stderr);
  const back = await dsrctl(['-s', sock, 'weight', RS, 'config', '--json']);
  t.deepEqual(JSON.parse(back.stdout), { rs: RS, service: null, weight: null });
  status = (await callDaemon(sock, 'status')) as DaemonStatus;
  t.is(rs().weight, 1);
  t.not(rs().state, 'draining');

  const unknown = await dsrctl(['-s', sock, 'drain', '198.18.0.99']);
  t.is(unknown.code, 1);
  t.regex(unknown.stderr, /198\.18\.0\.99/);
  const usage = await dsrctl(['-s', sock, 'weight', RS, 'heavy']);
  t.is(usage.code, 2);
});
