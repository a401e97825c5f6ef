/**
 * The election and VIP parts together in a daemon, over in-memory kernel fakes (addresses, links,
 * announcer): a lone director becomes master and takes its VIPs; its interface going down makes
 * it Fault and release them; a tracked uplink and a failing tracked script lower its priority; the forwarder detaching makes
 * it Fault; stop releases everything. Real timers (advert 50 ms), bounded waits, no root.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import type { DaemonStatus } from '../../admin/catalogue/status.ts';
import { callDaemon } from '../../admin/client.ts';
import { CommandRegistry } from '../../admin/registry.ts';
import { loadConfig } from '../../config/index.ts';
import { isDsrError } from '../../core/errors.ts';
import { EventLoopMonitor } from '../../core/eventloop.ts';
import { LogRoot } from '../../core/log.ts';
import { FakeAddressManager } from '../../core/netlink/fake-address-manager.ts';
import { FakeLinkMonitor, fakeLink } from '../../core/netlink/fake-link-monitor.ts';
import { NoNotifier } from '../../core/systemd/notify.ts';
import { Daemon } from '../../daemon/daemon.ts';
import { ElectionPart, type ForwarderAttachment } from '../../daemon/election/part.ts';
import type { DaemonPart } from '../../daemon/part.ts';
import { coreParts } from '../../daemon/parts.ts';
import { VipPart } from '../../daemon/vip/part.ts';
import { FakeAnnouncer } from '../../failover/vip/fake-announcer.ts';
import { until } from '../../lab/wait.ts';

/** The parts run in this process: poll often, bounded. */
const WAIT = { limitMs: 5000, everyMs: 10 };

const ETH0 = 2;
const ETH1 = 3;

class FakeForwarder implements ForwarderAttachment {
  #attached = true;
  readonly #listeners = new Set<(a: boolean) => void>();
  attached(): boolean {
    return this.#attached;
  }
  subscribe(l: (a: boolean) => void): () => void {
    this.#listeners.add(l);
    return () => this.#listeners.delete(l);
  }
  set(a: boolean): void {
    this.#attached = a;
    for (const l of this.#listeners) l(a);
  }
}

/** A daemon of the core parts and `parts` on the config at `path`, stopped at the test's end. */
async function daemonWith(
  t: ExecutionContext,
  path: string,
  parts: DaemonPart[],
  onLogLine: (line: string) => void = () => {},
): Promise<Daemon> {
  const registry = new CommandRegistry();
  const eventLoop = new EventLoopMonitor();
  const notifier = new NoNotifier();
  const logRoot = new LogRoot({
    level: 'info',
    destination: new Writable({
      write: (c, _e, done) => {
        onLogLine(String(c));
        done();
      },
    }),
  });
  const daemon = new Daemon({
    configPath: path,
    config: await loadConfig(path),
    load: (p) => loadConfig(p),
    logRoot,
    notifier,
    eventLoop,
    registry,
    parts: [...coreParts({ registry, notifier, eventLoop, logRoot }), ...parts],
    version: 'test',
  });
  t.teardown(() => daemon.stop('test end'));
  return daemon;
}

/**
 * A scratch directory (removed at the test's end) with the config of a lone director lb1: one VIP
 * group "web" on eth0 with `vips`, and `groupExtra` (YAML lines) added to the group.
 */
function loneDirector(
  t: ExecutionContext,
  o: { vips: string; advertMs: number; priority?: number; groupExtra?: string },
): { dir: string; path: string } {
  const dir = mkdtempSync(join(tmpdir(), 'dsr-election-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'dsrd.yaml');
  writeFileSync(
    path,
    `node:
  id: lb1
${o.priority === undefined ? '' : `  priority: ${o.priority}\n`}interfaces:
  - name: eth0
vip_groups:
  - name: web
    id: 51
    vips: ${o.vips}
    advert_interval_ms: ${o.advertMs}
${o.groupExtra ?? ''}alerts:
  queue_dir: ${join(dir, 'alerts')}
metrics:
  enabled: false
admin:
  socket: ${join(dir, 'dsrd.sock')}
`,
  );
  return { dir, path };
}

/** The VIP part over in-memory fakes of the kernel. */
function fakeVipPart(
  addresses: FakeAddressManager,
  links: FakeLinkMonitor,
  announcer = new FakeAnnouncer(),
  ifindex: (name: string) => number = () => ETH0,
): VipPart {
  return new VipPart(() => ({ addresses, links, announcer, ifindex, close: () => {} }));
}

test('election + VIP parts: master takes the VIPs, link and forwarder conditions, stop releases', async (t) => {
  const { dir, path } = loneDirector(t, {
    vips: '[198.18.0.200, "2001:2::200"]',
    advertMs: 50,
    priority: 120,
    groupExtra: `    garp:
      count: 2
      interval_ms: 10
    track:
      interfaces:
        - name: eth1
          weight: 30
      scripts:
        - name: always-fails
          command: [/bin/false]
          interval_ms: 100
          timeout_ms: 100
          fall: 1
          weight: 10
`,
  });
  const addresses = new FakeAddressManager([ETH0, ETH1]);
  addresses.preset(ETH0, '198.18.0.200', 32); // left by a crashed run
  const links = new FakeLinkMonitor([
    fakeLink(ETH0, 'eth0', '02:00:00:00:00:02'),
    fakeLink(ETH1, 'eth1', '02:00:00:00:00:03'),
  ]);
  const announcer = new FakeAnnouncer();
  const ifindexes: Record<string, number> = { eth0: ETH0, eth1: ETH1 };
  const vip = fakeVipPart(addresses, links, announcer, (name) => ifindexes[name]);
  const forwarder = new FakeForwarder();
  // Not in sync: that gates preemption and handovers, never the takeover of a group with no master.
  const sync = { ready: () => false, onReadyChange: () => () => {} };
  const election = new ElectionPart({ vip, forwarder, sync });
  const mastered: string[][] = [];
  election.onMastership(() => mastered.push(election.masterGroups()));
  const daemon = await daemonWith(t, path, [vip, election]);

  await daemon.start();
  t.deepEqual(addresses.current(ETH0), [], 'the leftover VIP was removed before the election ran');

  const group = (): DaemonStatus['groups'][number] => daemon.status().groups[0];
  const vips = (): string[] => addresses.current(ETH0).sort();
  await until('master with its VIPs', () => group().role === 'master' && vips().length === 2, WAIT);
  t.deepEqual(vips(), ['198.18.0.200/32', '2001:2::200/128']);
  await until('announcements', () => announcer.rounds.length >= 2, WAIT);
  t.is(announcer.rounds[0].mac, '02:00:00:00:00:02');
  t.is(group().master, 'lb1');
  // The tracked script fails at once (fall 1): 10 points off.
  await until('script condition', () => group().effectivePriority === 110, WAIT);
  t.regex(group().reason ?? '', /script:always-fails failing/);
  t.true(election.isMasterOfAny());
  t.regex(group().reason ?? '', /not in sync/);

  // The tracked uplink lowers the priority (alone, it stays master).
  links.setCarrier(ETH1, false);
  await until('lower priority', () => group().effectivePriority === 80, WAIT);
  t.is(group().role, 'master');
  t.regex(group().reason ?? '', /link:eth1 failing/);
  links.setCarrier(ETH1, true);
  await until('priority back', () => group().effectivePriority === 110, WAIT);

  // Its own interface down: Fault, VIPs released.
  links.setCarrier(ETH0, false);
  await until('fault without VIPs', () => group().role === 'fault' && vips().length === 0, WAIT);
  t.deepEqual(mastered.at(-1), [], 'the sync hears that the groups we master changed');
  t.deepEqual(election.masterGroups(), []);
  t.false(election.isMasterOfAny());
  links.setCarrier(ETH0, true);
  await until('master again', () => group().role === 'master' && vips().length === 2, WAIT);

  // The forwarder detached: Fault too.
  forwarder.set(false);
  await until('fault (forwarder)', () => group().role === 'fault' && vips().length === 0, WAIT);
  t.regex(group().reason ?? '', /forwarder failing/);
  forwarder.set(true);
  await until('master once more', () => group().role === 'master' && vips().length === 2, WAIT);

  // A planned handover needs a peer: a clear refusal.
  const err = await t.throwsAsync(callDaemon(join(dir, 'dsrd.sock'), 'failover', {}));
  t.true(isDsrError(err, 'E_ADMIN_REQUEST'));
  t.regex(err.message, /no peer to hand over to/);

  await daemon.stop('SIGTERM');
  t.deepEqual(vips(), [], 'stop released the VIPs');
});

test('the election follows a sync readiness that changed before it subscribed (no gating left stuck)', async (t) => {
  const { path } = loneDirector(t, { vips: '[198.18.0.200]', advertMs: 50 });
  const addresses = new FakeAddressManager([ETH0]);
  const links = new FakeLinkMonitor([fakeLink(ETH0, 'eth0', '02:00:00:00:00:02')]);
  const vip = fakeVipPart(addresses, links);
  // Not ready when the groups are created; ready by the time the election subscribes, and the
  // change was announced before anyone listened (the sync runs while the election starts).
  let calls = 0;
  const sync = { ready: () => calls++ > 0, onReadyChange: () => () => {} };
  const election = new ElectionPart({ vip, sync });
  const daemon = await daemonWith(t, path, [vip, election]);
  await daemon.start();
  t.true(calls >= 2, 'readiness read again after subscribing');
  t.not(daemon.status().groups[0].reason, 'not in sync');
});

test('a group whose interface is down at start starts in Fault: no takeover timer on an unknown link', async (t) => {
  const { path } = loneDirector(t, { vips: '[198.18.0.200]', advertMs: 20 });
  const addresses = new FakeAddressManager([ETH0]);
  const links = new FakeLinkMonitor([{ ...fakeLink(ETH0, 'eth0', '02:00:00:00:00:02'), lowerUp: false }]);
  const vip = fakeVipPart(addresses, links);
  const election = new ElectionPart({ vip, forwarder: new FakeForwarder() });
  const lines: string[] = [];
  const daemon = await daemonWith(t, path, [vip, election], (line) => lines.push(line));
  await daemon.start();
  await until('fault', () => daemon.status().groups[0].role === 'fault', WAIT);
  // Past a master-down interval (3 × 20 ms + skew): still Fault, never Backup or Master first.
  await new Promise((r) => setTimeout(r, 200));
  t.is(daemon.status().groups[0].role, 'fault');
  const transitions = lines.filter((l) => l.includes('VIP group web:')).map((l) => JSON.parse(l).msg);
  t.deepEqual(transitions, ['VIP group web: initialize -> fault']);
  t.deepEqual(addresses.current(ETH0), []);
});
