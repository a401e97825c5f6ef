/**
 * The metrics endpoint over real HTTP with fake providers: every `dsr_*` family
 * comes out with the right values and labels, providers are read once per
 * scrape, a failing or slow provider only hides its own families, and the
 * server answers 404/405 outside GET /metrics.
 */
import { request } from 'node:http';
import test, { type ExecutionContext } from 'ava';
import { isDsrError } from '../../../core/errors.ts';
import { DsrMetrics, type DsrMetricsOptions } from '../../../daemon/metrics/dsr-metrics.ts';
import { FAMILIES } from '../../../daemon/metrics/families.ts';
import { startMetricsServer } from '../../../daemon/metrics/server.ts';
import type { Snapshots } from '../../../daemon/metrics/snapshots.ts';
import { type Exposition, parseExposition, sampleValue } from './exposition.ts';

const fake: Snapshots = {
  info: { node: 'dir-a', version: '0.1.0', configFingerprint: 'ab12' },
  election: {
    groups: [
      {
        group: 'g1',
        role: 'master',
        transitions: { backup: 1, master: 2 },
        advertsSent: 1234,
        advertsReceived: 17,
        stalls: { relearned: 1, covered: 6 },
        vips: [
          { vip: '198.18.0.100', owned: true },
          { vip: '2001:2::100', owned: true },
        ],
        vipConflicts: 3,
      },
      {
        group: 'g2',
        role: 'fault',
        transitions: { fault: 1 },
        advertsSent: 0,
        advertsReceived: 3,
        stalls: { relearned: 0, covered: 0 },
        vips: [],
        vipConflicts: 0,
      },
    ],
    advertsDropped: { auth: 4, replay: 2 },
    peers: [
      { peer: 'dir-b', lastHeardSeconds: 0.25 },
      { peer: 'dir-c', lastHeardSeconds: null },
    ],
    keeper: {
      running: true,
      covers: 6,
      adverts: 48,
      limitReached: 1,
      sendErrors: 0,
      longestSilenceSeconds: 0.105,
    },
  },
  quorum: {
    term: 7,
    leader: 1,
    leaseRemainingSeconds: 0.041,
    votersReachable: 2,
    voters: 3,
    quorum: 1,
    leaderChanges: 4,
  },
  forwarder: {
    realServers: [
      {
        service: 'web "tls"',
        realServer: '198.18.1.1',
        packets: 1e9,
        bytes: 6.4e11,
        flows: 5000,
        weight: 100,
      },
      { service: 'web "tls"', realServer: '198.18.1.2', packets: 7, bytes: 448 },
    ],
    drops: { no_service: 3, ttl: 1 },
    passes: { not_ip: 99 },
    eventsLost: 17,
    stateless: 4096,
    connTable: { entries: 1200, capacity: 1_000_000 },
    persistenceTable: { entries: 30 },
  },
  sync: {
    peers: [{ peer: 'dir-b', lagSeconds: 0.004, pendingEntries: 12, retransmits: 3, inSync: true }],
    drops: { 'bad-mac': 2, 'unknown-source': 5 },
  },
  health: {
    checks: [
      {
        service: 'web "tls"',
        realServer: '198.18.1.1',
        up: true,
        latencySeconds: 0.0021,
        results: { success: 40, timeout: 2 },
      },
      {
        service: 'web "tls"',
        realServer: '198.18.1.2',
        up: false,
        latencySeconds: null,
        results: { failure: 5 },
      },
    ],
  },
  eventLoop: { delay: { meanMs: 10.5, p50Ms: 10.1, p99Ms: 12, maxMs: 40 }, stalls: 1 },
  alerts: {
    targets: [
      { target: 'ops', queued: 2, active: 1, deliveries: { success: 10, retry: 3, failed: 1, dropped: 0 } },
    ],
  },
};

async function serve(t: ExecutionContext, o: DsrMetricsOptions = {}) {
  const metrics = new DsrMetrics({ defaultMetrics: false, ...o });
  const server = await startMetricsServer(metrics, { port: 0 });
  t.teardown(() => server.close());
  return { metrics, server };
}

function get(
  url: string,
  method = 'GET',
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          headers: res.headers,
          body: Buffer.concat(chunks).toString(),
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

async function scrape(url: string): Promise<Exposition> {
  const r = await get(url);
  if (r.status !== 200) throw new Error(`scrape answered ${r.status}`);
  return parseExposition(r.body);
}

test('every family is exported with the provider values, in base units', async (t) => {
  const { metrics, server } = await serve(t);
  for (const [name, snapshot] of Object.entries(fake)) {
    metrics.setProvider(name as keyof Snapshots, () => snapshot as never);
  }
  t.is(server.host, '127.0.0.1', 'loopback by default');
  const r = await get(server.url);
  t.is(r.status, 200);
  t.regex(String(r.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  const e = parseExposition(r.body);

  const svc = 'web "tls"';
  const rs1 = { service: svc, real_server: '198.18.1.1' };
  const expect: Array<[string, Record<string, string>, number]> = [
    ['dsr_info', { node: 'dir-a', version: '0.1.0', config_fingerprint: 'ab12' }, 1],
    ['dsr_vrrp_state', { group: 'g1' }, 2],
    ['dsr_vrrp_state', { group: 'g2' }, 3],
    ['dsr_role', { group: 'g1', role: 'master' }, 1],
    ['dsr_role', { group: 'g1', role: 'backup' }, 0],
    ['dsr_role_transitions_total', { group: 'g1', role: 'master' }, 2],
    ['dsr_adverts_sent_total', { group: 'g1' }, 1234],
    ['dsr_adverts_received_total', { group: 'g2' }, 3],
    ['dsr_adverts_dropped_total', { reason: 'auth' }, 4],
    ['dsr_peer_last_heard_seconds', { peer: 'dir-b' }, 0.25],
    ['dsr_vip_owned', { group: 'g1', vip: '2001:2::100' }, 1],
    ['dsr_vip_conflicts_total', { group: 'g1' }, 3],
    ['dsr_election_stalls_total', { group: 'g1', outcome: 'covered' }, 6],
    ['dsr_election_stalls_total', { group: 'g1', outcome: 'relearned' }, 1],
    ['dsr_raft_term', {}, 7],
    ['dsr_raft_leader', {}, 1],
    ['dsr_raft_lease_remaining_seconds', {}, 0.041],
    ['dsr_raft_voters_reachable', {}, 2],
    ['dsr_raft_voters', {}, 3],
    ['dsr_raft_quorum', {}, 1],
    ['dsr_raft_leader_changes_total', {}, 4],
    ['dsr_advert_keeper_running', {}, 1],
    ['dsr_advert_keeper_covers_total', {}, 6],
    ['dsr_advert_keeper_adverts_total', {}, 48],
    ['dsr_advert_keeper_limit_reached_total', {}, 1],
    ['dsr_advert_keeper_longest_silence_seconds', {}, 0.105],
    ['dsr_forwarder_packets_total', rs1, 1e9],
    ['dsr_forwarder_bytes_total', rs1, 6.4e11],
    ['dsr_forwarder_flows_total', rs1, 5000],
    ['dsr_real_server_weight', rs1, 100],
    ['dsr_forwarder_drops_total', { reason: 'no_service' }, 3],
    ['dsr_forwarder_passes_total', { reason: 'not_ip' }, 99],
    ['dsr_table_entries', { table: 'conn' }, 1200],
    ['dsr_table_entries', { table: 'persistence' }, 30],
    ['dsr_table_entries_limit', { table: 'conn' }, 1_000_000],
    ['dsr_sync_lag_seconds', { peer: 'dir-b' }, 0.004],
    ['dsr_sync_pending_entries', { peer: 'dir-b' }, 12],
    ['dsr_sync_retransmits_total', { peer: 'dir-b' }, 3],
    ['dsr_sync_in_sync', { peer: 'dir-b' }, 1],
    ['dsr_sync_drops_total', { reason: 'unknown-source' }, 5],
    ['dsr_forwarder_events_lost_total', {}, 17],
    ['dsr_forwarder_stateless_packets_total', {}, 4096],
    ['dsr_health_check_up', { service: svc, real_server: '198.18.1.2' }, 0],
    ['dsr_health_check_latency_seconds', rs1, 0.0021],
    ['dsr_health_checks_total', { ...rs1, result: 'timeout' }, 2],
    ['dsr_event_loop_delay_seconds', { quantile: '0.99' }, 0.012],
    ['dsr_event_loop_delay_seconds', { quantile: '1' }, 0.04],
    ['dsr_event_loop_delay_mean_seconds', {}, 0.0105],
    ['dsr_event_loop_stalls_total', {}, 1],
    ['dsr_webhook_deliveries_total', { target: 'ops', outcome: 'retry' }, 3],
    ['dsr_webhook_queued_events', { target: 'ops' }, 3],
  ];
  for (const [name, labels, value] of expect)
    t.is(sampleValue(e, name, labels), value, `${name} ${JSON.stringify(labels)}`);

  t.is(sampleValue(e, 'dsr_peer_last_heard_seconds', { peer: 'dir-c' }), undefined, 'never heard: no sample');
  t.is(sampleValue(e, 'dsr_forwarder_flows_total', { service: svc, real_server: '198.18.1.2' }), undefined);
  t.is(sampleValue(e, 'dsr_table_entries_limit', { table: 'persistence' }), undefined);
  for (const f of FAMILIES) {
    t.is(e.types.get(f.name), f.type, f.name);
    t.true(
      e.samples.some((s) => s.name === f.name),
      `${f.name} has samples`,
    );
  }
});

test('names follow Prometheus conventions', (t) => {
  for (const f of FAMILIES) {
    t.regex(f.name, /^dsr_[a-z0-9_]+$/);
    t.is(f.type === 'counter', f.name.endsWith('_total'), f.name);
    t.false(/_(ms|milliseconds|kb|mb)(_|$)/.test(f.name), `${f.name} uses base units`);
    for (const l of f.labelNames) t.regex(l, /^[a-z][a-z0-9_]*$/);
  }
  t.is(new Set(FAMILIES.map((f) => f.name)).size, FAMILIES.length);
});

test('each provider is read once per scrape, on scrape, and concurrent scrapes share one read', async (t) => {
  const { metrics, server } = await serve(t);
  let reads = 0;
  metrics.setProvider('forwarder', () => {
    reads++;
    return fake.forwarder;
  });
  t.is(reads, 0, 'nothing is polled before a scrape');
  await scrape(server.url);
  t.is(reads, 1, 'one read feeds all forwarder families');
  const [a, b] = await Promise.all([metrics.scrape(), metrics.scrape()]);
  t.is(a, b);
  t.is(reads, 2);
});

test('a counter provided as a growing total is exported as that total', async (t) => {
  const { metrics, server } = await serve(t);
  let total = 0;
  metrics.setProvider('sync', () => ({
    peers: [{ peer: 'p', lagSeconds: 0, pendingEntries: 0, retransmits: total, inSync: true }],
    drops: {},
  }));
  for (const step of [5, 7, 100]) {
    total += step;
    t.is(sampleValue(await scrape(server.url), 'dsr_sync_retransmits_total', { peer: 'p' }), total);
  }
});

test('a failing, slow or invalid provider hides only its own families and is counted', async (t) => {
  const warnings: object[] = [];
  const { metrics, server } = await serve(t, {
    providerTimeoutMs: 50,
    logger: { warn: (o) => warnings.push(o) },
  });
  metrics.setProvider('election', () => {
    throw new Error('boom');
  });
  metrics.setProvider('health', () => new Promise(() => {}));
  metrics.setProvider('sync', () => ({
    peers: [
      { peer: 'ok', lagSeconds: 1, pendingEntries: 0, retransmits: 1, inSync: true },
      { peer: 'bad', lagSeconds: Number.NaN, pendingEntries: 0, retransmits: -1, inSync: true },
    ],
    drops: {},
  }));
  metrics.setProvider('info', () => fake.info);
  const e = await scrape(server.url);
  t.is(sampleValue(e, 'dsr_info', { node: 'dir-a', version: '0.1.0', config_fingerprint: 'ab12' }), 1);
  t.false(e.samples.some((s) => s.name.startsWith('dsr_vrrp') || s.name.startsWith('dsr_health')));
  t.is(sampleValue(e, 'dsr_sync_lag_seconds', { peer: 'ok' }), 1);
  t.is(sampleValue(e, 'dsr_sync_lag_seconds', { peer: 'bad' }), undefined);
  t.is(sampleValue(e, 'dsr_sync_retransmits_total', { peer: 'bad' }), undefined);
  t.is(sampleValue(e, 'dsr_metrics_provider_errors_total', { provider: 'election', kind: 'error' }), 1);
  t.is(sampleValue(e, 'dsr_metrics_provider_errors_total', { provider: 'health', kind: 'timeout' }), 1);
  t.is(sampleValue(e, 'dsr_metrics_provider_errors_total', { provider: 'sync', kind: 'invalid_sample' }), 1);
  t.is(warnings.length, 3);

  metrics.setProvider('election', undefined);
  const again = await scrape(server.url);
  t.is(sampleValue(again, 'dsr_metrics_provider_errors_total', { provider: 'election', kind: 'error' }), 1);
  t.throws(() => metrics.setProvider('nope' as never, () => ({}) as never));
});

test('only GET/HEAD on the metrics path are served', async (t) => {
  const { metrics, server } = await serve(t);
  metrics.setProvider('info', () => fake.info);
  const base = server.url.replace(/\/metrics$/, '');
  t.is((await get(`${base}/`)).status, 404);
  t.is((await get(`${base}/metrics/x`)).status, 404);
  t.is((await get(`${base}/metrics?name[]=dsr_info`)).status, 200);
  const post = await get(server.url, 'POST');
  t.is(post.status, 405);
  t.is(post.headers.allow, 'GET, HEAD');
  const head = await get(server.url, 'HEAD');
  t.is(head.status, 200);
  t.is(head.body, '');
  t.true(Number(head.headers['content-length']) > 0);
});

test('a taken address is a clear E_METRICS_LISTEN error', async (t) => {
  const { server } = await serve(t);
  const e = await t.throwsAsync(
    startMetricsServer(new DsrMetrics({ defaultMetrics: false }), { port: server.port }),
  );
  t.true(isDsrError(e, 'E_METRICS_LISTEN'));
  t.regex(e.message, /127\.0\.0\.1:\d+/);
});

test('default process metrics can be included', async (t) => {
  const { server } = await serve(t, { defaultMetrics: true });
  const e = await scrape(server.url);
  t.true(e.samples.some((s) => s.name === 'process_cpu_user_seconds_total'));
});
