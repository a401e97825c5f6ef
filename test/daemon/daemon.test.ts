import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import test from 'ava';
import { callDaemon } from '../../admin/client.ts';
import { CommandRegistry } from '../../admin/registry.ts';
import { loadConfig } from '../../config/index.ts';
import { isDsrError } from '../../core/errors.ts';
import { EventLoopMonitor } from '../../core/eventloop.ts';
import { LogRoot } from '../../core/log.ts';
import type { Notifier } from '../../core/systemd/notify.ts';
import { AlertsPart } from '../../daemon/alerts/part.ts';
import { type ConfigChange, touches } from '../../daemon/change.ts';
import { Daemon } from '../../daemon/daemon.ts';
import { MetricsPart } from '../../daemon/metrics/part.ts';
import type { DaemonPart } from '../../daemon/part.ts';
import { coreParts } from '../../daemon/parts.ts';
import { sleep, until } from '../../lab/wait.ts';

function yaml(
  dir: string,
  opts: { weight?: number; tables?: boolean; level?: string; metricsPort?: number; queue?: string } = {},
): string {
  return `node:
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
      - address: 198.18.0.101
        weight: ${opts.weight ?? 1}
${opts.tables ? 'tables:\n  conn_table_size: 2048\n' : ''}metrics:
  ${opts.metricsPort === undefined ? 'enabled: false' : `listen: 127.0.0.1:${opts.metricsPort}`}
alerts:
  queue_dir: ${join(dir, opts.queue ?? 'alerts')}
admin:
  socket: ${join(dir, 'dsrd.sock')}
log:
  level: ${opts.level ?? 'info'}
`;
}

class RecordingNotifier implements Notifier {
  readonly enabled = true;
  readonly watchdogIntervalMs = undefined;
  readonly sent: string[] = [];
  ready(): void {
    this.sent.push('READY');
  }
  reloading(): void {
    this.sent.push('RELOADING');
  }
  stopping(): void {
    this.sent.push('STOPPING');
  }
  status(): void {}
  watchdog(): void {}
  close(): void {}
}

/** A domain part that records what happens to it and cares about some config sections. */
function fake(name: string, journal: string[], sections: Parameters<typeof touches>[1][]): DaemonPart {
  return {
    name,
    start: () => {
      journal.push(`start ${name}`);
    },
    stop: () => {
      journal.push(`stop ${name}`);
    },
    affectedBy: (c: ConfigChange) => touches(c, ...sections),
    reload: (c: ConfigChange) => {
      journal.push(`reload ${name} ${c.diff.services.changed.map((s) => s.name).join(',')}`);
    },
    status: () =>
      name === 'election'
        ? { groups: [{ name: 'web', role: 'master', master: 'lb1', effectivePriority: 100 }] }
        : name === 'forwarder'
          ? { services: [{ name: 'web-http', realServers: [{ address: '198.18.0.100', activeFlows: 7 }] }] }
          : {},
  };
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function setup(t: { teardown: (f: () => void | Promise<void>) => void }, metricsPort?: number) {
  const dir = mkdtempSync(join(tmpdir(), 'dsr-daemon-'));
  const path = join(dir, 'dsrd.yaml');
  writeFileSync(path, yaml(dir, { metricsPort }));
  const journal: string[] = [];
  const notifier = new RecordingNotifier();
  const logRoot = new LogRoot({
    level: 'info',
    destination: new Writable({ write: (_c, _e, done) => done() }),
  });
  const registry = new CommandRegistry();
  const eventLoop = new EventLoopMonitor();
  const metrics = new MetricsPart('test');
  const parts = [
    ...coreParts({ registry, notifier, eventLoop, logRoot }),
    metrics,
    new AlertsPart(metrics.metrics),
    fake('forwarder', journal, ['services', 'interfaces']),
    fake('health', journal, ['services', 'healthChecks']),
    fake('election', journal, ['vipGroups', 'peers', 'election', 'keys']),
  ];
  const daemon = new Daemon({
    configPath: path,
    config: await loadConfig(path),
    load: (p) => loadConfig(p),
    logRoot,
    notifier,
    eventLoop,
    registry,
    parts,
    version: 'test',
  });
  t.teardown(async () => {
    await daemon.stop('test end');
    rmSync(dir, { recursive: true, force: true });
  });
  await daemon.start();
  return { dir, path, journal, notifier, daemon, socket: join(dir, 'dsrd.sock'), logRoot, metricsPort };
}

test('a service change is applied by the parts it concerns only: the election is not touched', async (t) => {
  const { dir, path, journal, daemon, notifier } = await setup(t);
  journal.length = 0;
  writeFileSync(path, yaml(dir, { weight: 5 }));
  const summary = await daemon.reload('test');
  t.deepEqual(journal, ['reload forwarder web-http', 'reload health web-http']);
  t.true(summary.changed);
  t.deepEqual(summary.sections, ['services']);
  t.deepEqual(summary.parts, ['forwarder', 'health']);
  t.false(summary.fingerprintSame, 'a weight is part of the fingerprint');
  t.is(daemon.config.services[0].realServers[1].weight, 5);
  t.deepEqual(notifier.sent, ['READY', 'RELOADING', 'READY']);
  t.true(daemon.status().config.lastReload?.ok);
});

test('a broken config on reload keeps the old config, touches no part, and says why with positions', async (t) => {
  const { path, journal, daemon, notifier } = await setup(t);
  journal.length = 0;
  writeFileSync(path, 'node:\n  id: lb1\n  priority: 999\ninterfaces: []\n');
  const err = await t.throwsAsync(daemon.reload('SIGHUP'));
  t.true(isDsrError(err, 'E_RELOAD'));
  t.regex(err.message, /the new config is not valid; the old config keeps running/);
  t.regex(err.message, /dsrd\.yaml:3:13: node\.priority/);
  t.deepEqual(journal, []);
  t.is(daemon.config.services[0].realServers[1].weight, 1);
  const last = daemon.status().config.lastReload;
  t.false(last?.ok);
  t.deepEqual(
    notifier.sent.slice(-2),
    ['RELOADING', 'READY'],
    'a failed reload still ends the reload for systemd',
  );
});

test('a change that needs a restart (BPF map sizes) is refused and nothing is applied', async (t) => {
  const { dir, path, journal, daemon } = await setup(t);
  journal.length = 0;
  writeFileSync(path, yaml(dir, { tables: true, weight: 4 }));
  const err = await t.throwsAsync(daemon.reload('admin'));
  t.regex(err.message, /needs a restart of dsrd \(tables\.connTableSize/);
  t.deepEqual(journal, []);
  t.is(daemon.config.services[0].realServers[1].weight, 1);
});

test('reload of an identical file is a no-op', async (t) => {
  const { journal, daemon } = await setup(t);
  journal.length = 0;
  const summary = await daemon.reload('admin');
  t.false(summary.changed);
  t.deepEqual(journal, []);
});

test('the log level follows config on reload, and dsrctl log level at runtime', async (t) => {
  const { dir, path, daemon, socket, logRoot } = await setup(t);
  t.deepEqual(await callDaemon(socket, 'log.level', { level: 'debug' }), {
    level: 'debug',
    previous: 'info',
  });
  t.is(logRoot.level, 'debug');
  const bad = await t.throwsAsync(callDaemon(socket, 'log.level', { level: 'loud' }));
  t.regex(bad.message, /unknown log level "loud"/);
  writeFileSync(path, yaml(dir, { level: 'warn' }));
  await daemon.reload('admin');
  t.is(logRoot.level, 'warn');
});

test('status merges the config view with what the parts report', async (t) => {
  const { socket } = await setup(t);
  const s = (await callDaemon(socket, 'status')) as ReturnType<Daemon['status']>;
  t.is(s.node, 'lb1');
  t.is(s.state, 'running');
  t.deepEqual(
    s.parts.map((p) => `${p.name}:${p.state}`),
    [
      'admin:running',
      'log:running',
      'eventloop:running',
      'watchdog:running',
      'metrics:running',
      'alerts:running',
      'forwarder:running',
      'health:running',
      'election:running',
    ],
  );
  t.is(s.groups[0].role, 'master');
  t.deepEqual(s.groups[0].vips, ['198.18.0.200']);
  const rs = s.services[0].realServers;
  t.is(rs[0].activeFlows, 7);
  t.is(rs[1].activeFlows, null, 'not reported by any part');
  t.is(rs[1].state, 'unknown');
  t.is(typeof s.eventLoop.delayP99Ms, 'number');
  t.is(s.config.fingerprint?.length, 64);
});

test('config.diff previews a candidate without applying it', async (t) => {
  const { dir, socket, journal, daemon } = await setup(t);
  journal.length = 0;
  const r = (await callDaemon(socket, 'config.diff', {
    text: yaml(dir, { weight: 9 }),
    file: join(dir, 'cand.yaml'),
  })) as {
    changed: boolean;
    parts: string[];
    changes: string[];
  };
  t.true(r.changed);
  t.deepEqual(r.parts, ['forwarder', 'health']);
  t.true(r.changes.some((c) => c.includes('weight of 198.18.0.101 1 -> 9')));
  t.deepEqual(journal, []);
  t.is(daemon.config.services[0].realServers[1].weight, 1);
  const bad = await t.throwsAsync(
    callDaemon(socket, 'config.diff', { text: 'node: [', file: join(dir, 'b.yaml') }),
  );
  t.true(isDsrError(bad, 'E_CONFIG_PARSE'));
  t.regex(bad.message, /b\.yaml:1:\d+/);
});

test('stop runs the parts in reverse: the election first, the admin socket last', async (t) => {
  const { journal, daemon, notifier } = await setup(t);
  journal.length = 0;
  await daemon.stop('SIGTERM');
  t.deepEqual(journal, ['stop election', 'stop health', 'stop forwarder']);
  t.is(await daemon.done, 0);
  t.is(notifier.sent.at(-1), 'STOPPING');
});

test('metrics endpoint and alerts part: /metrics serves dsr_* families, alerts.test names unknown targets', async (t) => {
  const port = await freePort();
  const { dir, path, socket, daemon } = await setup(t, port);
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  t.is(res.status, 200);
  const body = await res.text();
  t.regex(body, /dsr_info\{[^}]*node="lb1"/);
  t.regex(body, /dsr_event_loop/);
  const err = await t.throwsAsync(callDaemon(socket, 'alerts.test', { target: 'nope' }));
  t.true(isDsrError(err, 'E_ALERT_TARGET_UNKNOWN'));
  // Moving the alert queue needs a restart: refused up front, with the reason.
  writeFileSync(path, yaml(dir, { metricsPort: port, queue: 'alerts2' }));
  const refused = await t.throwsAsync(daemon.reload('admin'));
  t.regex(refused.message, /alerts \(alerts\.queueDir fixed while running\)/);
});

test('alerts heartbeat: a "still master" event reaches a generic webhook target every heartbeat_s', async (t) => {
  const received: { type: string; data: { groups?: string[]; node: string } }[] = [];
  const server = createHttpServer((req, res) => {
    let body = '';
    req.on('data', (d) => {
      body += d;
    });
    req.on('end', () => {
      received.push(JSON.parse(body) as { type: string; data: { groups?: string[]; node: string } });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.address() as AddressInfo).port;
  const dir = mkdtempSync(join(tmpdir(), 'dsr-heartbeat-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'dsrd.yaml');
  writeFileSync(
    path,
    yaml(dir).replace(
      /alerts:\n {2}queue_dir: (.*)\n/,
      `alerts:\n  queue_dir: $1\n  heartbeat_s: 1\n  targets:\n    - name: hook\n      kind: generic\n      url: http://127.0.0.1:${port}/hook\n`,
    ),
  );
  const registry = new CommandRegistry();
  const eventLoop = new EventLoopMonitor();
  const logRoot = new LogRoot({
    level: 'info',
    destination: new Writable({ write: (_c, _e, done) => done() }),
  });
  const notifier = new RecordingNotifier();
  const alerts = new AlertsPart();
  let master: string[] = [];
  alerts.setMasterGroups(() => master);
  const daemon = new Daemon({
    configPath: path,
    config: await loadConfig(path),
    load: (p) => loadConfig(p),
    logRoot,
    notifier,
    eventLoop,
    registry,
    parts: [...coreParts({ registry, notifier, eventLoop, logRoot }), alerts],
    version: 'test',
  });
  t.teardown(() => daemon.stop('test end'));
  await daemon.start();
  await sleep(1300);
  t.deepEqual(received, [], 'no heartbeat while master of nothing');
  master = ['web'];
  await until('a heartbeat', () => received.length > 0, { limitMs: 5000, everyMs: 50 });
  t.like(received[0], { type: 'heartbeat', data: { groups: ['web'], node: 'lb1' } });
});
