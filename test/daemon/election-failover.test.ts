/**
 * failover_completed (issue 8): the pure mapping (duration from the last word of the old master to
 * the VIPs announced, the sync lag at that moment), and two election parts in one process over
 * loopback UDP with in-memory kernel fakes and fake alert/sync sinks: a first election raises no
 * failover; a planned handover and a resign on stop each raise one on the new master, naming the
 * old one, the reason and the sync lag. Bounded waits, no root, no timed assertions.
 */
import { randomBytes } from 'node:crypto';
import { createSocket, type Socket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import test from 'ava';
import { callDaemon } from '../../admin/client.ts';
import { CommandRegistry } from '../../admin/registry.ts';
import type { AlertEventFields, AlertEventType } from '../../alerts/index.ts';
import { type Config, loadConfig } from '../../config/index.ts';
import { EventLoopMonitor } from '../../core/eventloop.ts';
import { LogRoot } from '../../core/log.ts';
import { FakeAddressManager } from '../../core/netlink/fake-address-manager.ts';
import { FakeLinkMonitor, fakeLink } from '../../core/netlink/fake-link-monitor.ts';
import { NoNotifier } from '../../core/systemd/notify.ts';
import { Daemon } from '../../daemon/daemon.ts';
import { failoverCompleted, takeoverStart } from '../../daemon/election/failover.ts';
import { type AlertSink, ElectionPart, type SyncLag } from '../../daemon/election/part.ts';
import { coreParts } from '../../daemon/parts.ts';
import { VipPart } from '../../daemon/vip/part.ts';
import { FakeAnnouncer } from '../../failover/vip/fake-announcer.ts';
import { until } from '../../lab/wait.ts';

/** Both daemons run in this process: poll often, bounded. */
const WAIT = { limitMs: 8000, everyMs: 10 };

const names = (id: number) => (id === 7 ? 'lb1' : `node-${id}`);

test('a first election is not a failover', (t) => {
  t.is(
    takeoverStart('web', { type: 'become-master', reason: 'master-down', inSync: true }, names, undefined),
    null,
  );
});

test('failover_completed: duration from the last word of the old master to the announcement, sync lag', (t) => {
  const lag: SyncLag = { inSync: false, behindMessages: 12, lagSeconds: 0.2504 };
  const asked: string[] = [];
  const start = takeoverStart(
    'web',
    { type: 'become-master', reason: 'master-down', inSync: false, takeover: { from: 7, lastHeardAt: 1000 } },
    names,
    {
      takeoverLag: (peer) => {
        asked.push(peer);
        return lag;
      },
    },
  );
  t.deepEqual(asked, ['lb1'], 'the lag is read for the old master, when the election decides');
  t.truthy(start);
  t.deepEqual(failoverCompleted(start!, 1345.6789), {
    group: 'web',
    previousMaster: 'lb1',
    reason: 'master-down',
    durationSeconds: 0.346,
    syncLagSeconds: 0.25,
    syncInSync: false,
    syncBehindMessages: 12,
  });
  // Sync off: the lag reads 0 and the in-sync fields are left out. A clock that did not move reads 0.
  const off = takeoverStart(
    'web',
    { type: 'become-master', reason: 'handover', inSync: true, takeover: { from: 9, lastHeardAt: 50 } },
    names,
    { takeoverLag: () => undefined },
  );
  t.deepEqual(failoverCompleted(off!, 50), {
    group: 'web',
    previousMaster: 'node-9',
    reason: 'handover',
    durationSeconds: 0,
    syncLagSeconds: 0,
  });
});

interface Raised {
  type: AlertEventType;
  fields: Record<string, unknown>;
}

function configText(dir: string, me: string, port: number, peer: string, peerPort: number, prio: number) {
  return `node:
  id: ${me}
  priority: ${prio}
  address: 198.18.0.1
  state_dir: ${join(dir, `state-${me}`)}
peers:
  - id: ${peer}
    address: 198.18.0.2
    port: ${peerPort}
election:
  port: ${port}
interfaces:
  - name: eth0
vip_groups:
  - name: web
    id: 51
    vips: [198.18.0.200]
    advert_interval_ms: 50
    garp:
      count: 1
      interval_ms: 10
keys:
  election:
    keys:
      - id: 1
        file: ${join(dir, 'election.key')}
sync:
  enabled: false
alerts:
  queue_dir: ${join(dir, `alerts-${me}`)}
metrics:
  enabled: false
admin:
  socket: ${join(dir, `${me}.sock`)}
`;
}

/**
 * The config refuses loopback addresses (a director must be reachable by its peer); this unprivileged
 * test runs both directors in one network namespace, so it re-points the validated config there.
 */
function onLoopback(c: Config): Config {
  return {
    ...c,
    node: { ...c.node, address: '127.0.0.1' },
    peers: c.peers.map((p) => ({ ...p, address: '127.0.0.1' })),
  };
}

async function director(dir: string, me: string, port: number, peer: string, peerPort: number, prio: number) {
  const path = join(dir, `${me}.yaml`);
  writeFileSync(path, configText(dir, me, port, peer, peerPort, prio));
  const addresses = new FakeAddressManager([2]);
  const vip = new VipPart(() => ({
    addresses,
    links: new FakeLinkMonitor([fakeLink(2, 'eth0', '02:00:00:00:00:02')]),
    announcer: new FakeAnnouncer(),
    ifindex: () => 2,
    close: () => {},
  }));
  const raised: Raised[] = [];
  const alerts: AlertSink = {
    emit<T extends AlertEventType>(type: T, fields: AlertEventFields<T>) {
      raised.push({ type, fields: fields as Record<string, unknown> });
    },
  };
  const lagAsked: string[] = [];
  const syncLag = {
    takeoverLag: (p: string): SyncLag => {
      lagAsked.push(p);
      return { inSync: true, behindMessages: 0, lagSeconds: 0 };
    },
  };
  const election = new ElectionPart({ vip, alerts, syncLag });
  const registry = new CommandRegistry();
  const eventLoop = new EventLoopMonitor();
  const notifier = new NoNotifier();
  const logRoot = new LogRoot({
    level: 'info',
    destination: new Writable({ write: (_c, _e, done) => done() }),
  });
  const daemon = new Daemon({
    configPath: path,
    config: onLoopback(await loadConfig(path)),
    load: (p) => loadConfig(p),
    logRoot,
    notifier,
    eventLoop,
    registry,
    parts: [...coreParts({ registry, notifier, eventLoop, logRoot }), vip, election],
    version: 'test',
  });
  await daemon.start();
  const role = () => daemon.status().groups[0]?.role;
  const held = () => addresses.current(2).length > 0;
  const failovers = () => raised.filter((r) => r.type === 'failover_completed');
  return { daemon, raised, failovers, role, held, lagAsked, sock: join(dir, `${me}.sock`) };
}

async function freeUdpPorts(n: number): Promise<number[]> {
  const sockets = await Promise.all(
    Array.from({ length: n }, () => {
      const s = createSocket('udp4');
      return new Promise<Socket>((resolve) => s.bind(0, '127.0.0.1', () => resolve(s)));
    }),
  );
  const ports = sockets.map((s) => s.address().port);
  for (const s of sockets) s.close();
  return ports;
}

test('two election parts: handover and resign each raise failover_completed on the new master', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'dsr-failover-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'election.key'), randomBytes(32), { mode: 0o600 });
  // Two ports the kernel just gave out (test files run side by side in one process: no pid scheme).
  const [pa, pb] = await freeUdpPorts(2);
  const a = await director(dir, 'lb1', pa, 'lb2', pb, 150);
  t.teardown(() => a.daemon.stop('test end'));
  const b = await director(dir, 'lb2', pb, 'lb1', pa, 100);
  t.teardown(() => b.daemon.stop('test end'));

  // lb2 must follow lb1 (have heard its advert) before it accepts a handover from it: a backup that
  // has only just started, or re-learns after a stall, refuses with not-from-master.
  const follows = () => b.daemon.status().groups[0]?.master === 'lb1';
  await until(
    'lb1 master, lb2 backup',
    () => a.role() === 'master' && a.held() && b.role() === 'backup' && follows(),
    WAIT,
  );
  t.deepEqual(a.failovers(), [], 'winning the first election replaces nobody');
  t.true(a.raised.some((r) => r.type === 'became_master'));

  // Planned handover: lb2 takes over from lb1 and reports it once its VIP is announced.
  const r = (await callDaemon(a.sock, 'failover', { to: 'lb2' })) as { ok: boolean };
  t.true(r.ok, JSON.stringify(r));
  await until('lb2 failover_completed', () => b.failovers().length === 1, WAIT);
  t.true(b.held(), 'reported only with the VIP in place');
  const handover = b.failovers()[0].fields;
  t.like(handover, {
    group: 'web',
    previousMaster: 'lb1',
    reason: 'handover',
    syncLagSeconds: 0,
    syncInSync: true,
    syncBehindMessages: 0,
  });
  t.true(Number.isFinite(handover.durationSeconds) && (handover.durationSeconds as number) >= 0);
  t.deepEqual(b.lagAsked, ['lb1']);
  const order = b.raised
    .map((x) => x.type)
    .filter((x) => x === 'became_master' || x === 'failover_completed');
  t.deepEqual(order, ['became_master', 'failover_completed'], 'became_master first, then the completion');

  // lb2 stops: it resigns (priority 0); lb1 takes over and reports a master-resigned failover.
  await until('lb1 backup', () => a.role() === 'backup', WAIT);
  await b.daemon.stop('SIGTERM');
  await until('lb1 failover_completed', () => a.failovers().length === 1, WAIT);
  t.like(a.failovers()[0].fields, { group: 'web', previousMaster: 'lb2', reason: 'master-resigned' });
  t.true(a.held());

  // What must survive a restart is in lb2's state directory: its session id, and what it heard.
  const state = (name: string) => JSON.parse(readFileSync(join(dir, 'state-lb2', name), 'utf8'));
  t.regex(state('sessions.json').election, /^[0-9a-f]+$/);
  const heard = state('replay-election.json').peers;
  t.is(heard.length, 1);
  t.true(BigInt(heard[0].highestSeq) > 0n, 'the highest advert number it accepted from lb1');
});
