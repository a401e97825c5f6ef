/**
 * The `dsr_*` metric families: name, type, labels, help, which provider feeds
 * each, and how a snapshot becomes samples.
 *
 * Names follow Prometheus conventions (base units: seconds, bytes; `_total` for
 * counters) and mirror node_exporter's `node_ipvs_*` and keepalived-exporter's
 * `keepalived_*` where the meaning is the same:
 *   dsr_vrrp_state                  ~ keepalived_vrrp_state (0 init, 1 backup, 2 master, 3 fault)
 *   dsr_adverts_sent/received_total ~ keepalived_advertisements_sent/received_total
 *   dsr_role_transitions_total      ~ keepalived_become_master_total, for every role
 *   dsr_forwarder_packets/bytes_total ~ node_ipvs_incoming_packets/bytes_total, per real server
 *   dsr_forwarder_flows_total       ~ node_ipvs_connections_total, per real server
 *   dsr_real_server_weight          ~ node_ipvs_backend_weight
 *   dsr_*_table_entries(_limit)     ~ node_nf_conntrack_entries(_limit)
 */
import { DIRECTOR_ROLES, type ProviderName, type Snapshots } from './snapshots.ts';

export type Labels = Record<string, string>;
export type Sample = readonly [Labels, number];

export interface FamilyDef<P extends ProviderName> {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  labelNames: readonly string[];
  provider: P;
  samples(snapshot: Snapshots[P]): Iterable<Sample>;
}

export type AnyFamily = { [P in ProviderName]: FamilyDef<P> }[ProviderName];

function family<P extends ProviderName>(d: FamilyDef<P>): AnyFamily {
  return d as unknown as AnyFamily;
}

function* byKey(
  record: Readonly<Record<string, number>>,
  label: string,
  extra: Labels = {},
): Iterable<Sample> {
  for (const [k, v] of Object.entries(record)) yield [{ ...extra, [label]: k }, v];
}

const ROLE_CODE = { init: 0, backup: 1, master: 2, fault: 3 } as const;
const rs = (r: { service: string; realServer: string }): Labels => ({
  service: r.service,
  real_server: r.realServer,
});

/** The advert keeper: one per director, absent before the election thread reports it. */
function keeperFamilies(): AnyFamily[] {
  type Keeper = NonNullable<Snapshots['election']['keeper']>;
  const one = (name: string, type: 'gauge' | 'counter', help: string, value: (k: Keeper) => number) =>
    family({
      name,
      help,
      type,
      labelNames: [],
      provider: 'election',
      samples: (s) => (s.keeper === null ? [] : [[{}, value(s.keeper)] as const]),
    });
  return [
    one('dsr_advert_keeper_running', 'gauge', '1 while the advert keeper thread runs, else 0.', (k) =>
      k.running ? 1 : 0,
    ),
    one(
      'dsr_advert_keeper_covers_total',
      'counter',
      'Silences of the election thread the keeper spoke through.',
      (k) => k.covers,
    ),
    one(
      'dsr_advert_keeper_adverts_total',
      'counter',
      "Master adverts the keeper sent in the election thread's place.",
      (k) => k.adverts,
    ),
    one(
      'dsr_advert_keeper_limit_reached_total',
      'counter',
      'Covers ended by the time limit (the backup then takes over).',
      (k) => k.limitReached,
    ),
    one(
      'dsr_advert_keeper_send_errors_total',
      'counter',
      'Keeper adverts the socket refused.',
      (k) => k.sendErrors,
    ),
    one(
      'dsr_advert_keeper_longest_silence_seconds',
      'gauge',
      'Longest election-thread silence the keeper covered since start.',
      (k) => k.longestSilenceSeconds,
    ),
  ];
}

export const FAMILIES: readonly AnyFamily[] = [
  family({
    name: 'dsr_info',
    help: 'Always 1; labels name this director, its version and its config fingerprint.',
    type: 'gauge',
    labelNames: ['node', 'version', 'config_fingerprint'],
    provider: 'info',
    samples: (s) => [[{ node: s.node, version: s.version, config_fingerprint: s.configFingerprint }, 1]],
  }),

  // quorum mode
  ...(
    [
      ['dsr_raft_term', 'Raft term this voter is in.', (s) => s.term],
      [
        'dsr_raft_leader',
        '1 while this voter leads (and may hold the VIPs under its lease).',
        (s) => s.leader,
      ],
      [
        'dsr_raft_lease_remaining_seconds',
        'Seconds left of this voter’s lease; 0 when it holds none.',
        (s) => s.leaseRemainingSeconds,
      ],
      [
        'dsr_raft_voters_reachable',
        'Voters heard from within one election timeout, this one included.',
        (s) => s.votersReachable,
      ],
      ['dsr_raft_voters', 'Voters configured, witnesses included.', (s) => s.voters],
      [
        'dsr_raft_quorum',
        '1 while a vote quorum of voters is reachable; 0: no leader can be elected or stay.',
        (s) => s.quorum,
      ],
    ] as const satisfies readonly (readonly [string, string, (s: Snapshots['quorum']) => number])[]
  ).map(([name, help, value]) =>
    family({
      name,
      help,
      type: 'gauge',
      labelNames: [],
      provider: 'quorum',
      samples: (s) => [[{}, value(s)]],
    }),
  ),
  family({
    name: 'dsr_raft_leader_changes_total',
    help: 'Changes of the known Raft leader seen by this voter.',
    type: 'counter',
    labelNames: [],
    provider: 'quorum',
    samples: (s) => [[{}, s.leaderChanges]],
  }),

  // election
  family({
    name: 'dsr_vrrp_state',
    help: 'Role of this director per VIP group: 0 init, 1 backup, 2 master, 3 fault (as keepalived_vrrp_state).',
    type: 'gauge',
    labelNames: ['group'],
    provider: 'election',
    samples: (s) => s.groups.map((g) => [{ group: g.group }, ROLE_CODE[g.role]] as const),
  }),
  family({
    name: 'dsr_role',
    help: '1 for the current role of this director per VIP group, 0 for the other roles.',
    type: 'gauge',
    labelNames: ['group', 'role'],
    provider: 'election',
    samples: (s) =>
      s.groups.flatMap((g) =>
        DIRECTOR_ROLES.map((role) => [{ group: g.group, role }, g.role === role ? 1 : 0] as const),
      ),
  }),
  family({
    name: 'dsr_role_transitions_total',
    help: 'Transitions of this director into each role, per VIP group.',
    type: 'counter',
    labelNames: ['group', 'role'],
    provider: 'election',
    samples: (s) =>
      s.groups.flatMap((g) => [
        ...byKey(g.transitions as Record<string, number>, 'role', { group: g.group }),
      ]),
  }),
  family({
    name: 'dsr_adverts_sent_total',
    help: 'Election adverts sent, per VIP group.',
    type: 'counter',
    labelNames: ['group'],
    provider: 'election',
    samples: (s) => s.groups.map((g) => [{ group: g.group }, g.advertsSent] as const),
  }),
  family({
    name: 'dsr_adverts_received_total',
    help: 'Valid election adverts received, per VIP group.',
    type: 'counter',
    labelNames: ['group'],
    provider: 'election',
    samples: (s) => s.groups.map((g) => [{ group: g.group }, g.advertsReceived] as const),
  }),
  family({
    name: 'dsr_adverts_dropped_total',
    help: 'Election adverts discarded, by reason (auth, replay, malformed, ...).',
    type: 'counter',
    labelNames: ['reason'],
    provider: 'election',
    samples: (s) => byKey(s.advertsDropped, 'reason'),
  }),
  family({
    name: 'dsr_peer_last_heard_seconds',
    help: 'Seconds since the last valid advert from each peer (absent if never heard).',
    type: 'gauge',
    labelNames: ['peer'],
    provider: 'election',
    samples: (s) =>
      s.peers.flatMap((p) =>
        p.lastHeardSeconds === null ? [] : [[{ peer: p.peer }, p.lastHeardSeconds] as const],
      ),
  }),
  family({
    name: 'dsr_election_stalls_total',
    help: 'Election thread not scheduled past the master-down interval, per VIP group: relearned (peers re-learned; a master steps down first) or covered (a master the advert keeper spoke for).',
    type: 'counter',
    labelNames: ['group', 'outcome'],
    provider: 'election',
    samples: (s) => s.groups.flatMap((g) => [...byKey(g.stalls, 'outcome', { group: g.group })]),
  }),
  ...keeperFamilies(),
  family({
    name: 'dsr_vip_owned',
    help: '1 when this director holds the VIP (answers ARP/ND for it), else 0.',
    type: 'gauge',
    labelNames: ['group', 'vip'],
    provider: 'election',
    samples: (s) =>
      s.groups.flatMap((g) => g.vips.map((v) => [{ group: g.group, vip: v.vip }, v.owned ? 1 : 0] as const)),
  }),
  family({
    name: 'dsr_vip_conflicts_total',
    help: "ARP or ND claims of the group's VIPs by other MACs while this director held them (a second owner on the wire).",
    type: 'counter',
    labelNames: ['group'],
    provider: 'election',
    samples: (s) => s.groups.map((g) => [{ group: g.group }, g.vipConflicts] as const),
  }),

  // forwarder
  family({
    name: 'dsr_forwarder_packets_total',
    help: 'Packets forwarded, per service and real server (summed over CPUs).',
    type: 'counter',
    labelNames: ['service', 'real_server'],
    provider: 'forwarder',
    samples: (s) => s.realServers.map((r) => [rs(r), r.packets] as const),
  }),
  family({
    name: 'dsr_forwarder_bytes_total',
    help: 'Bytes forwarded, per service and real server (summed over CPUs).',
    type: 'counter',
    labelNames: ['service', 'real_server'],
    provider: 'forwarder',
    samples: (s) => s.realServers.map((r) => [rs(r), r.bytes] as const),
  }),
  family({
    name: 'dsr_forwarder_flows_total',
    help: 'New flows given to each real server (as node_ipvs_connections_total).',
    type: 'counter',
    labelNames: ['service', 'real_server'],
    provider: 'forwarder',
    samples: (s) => s.realServers.flatMap((r) => (r.flows === undefined ? [] : [[rs(r), r.flows] as const])),
  }),
  family({
    name: 'dsr_real_server_weight',
    help: 'Configured Maglev weight of each real server (0 while drained or down).',
    type: 'gauge',
    labelNames: ['service', 'real_server'],
    provider: 'forwarder',
    samples: (s) =>
      s.realServers.flatMap((r) => (r.weight === undefined ? [] : [[rs(r), r.weight] as const])),
  }),
  family({
    name: 'dsr_forwarder_drops_total',
    help: 'Packets dropped by the XDP program, by reason.',
    type: 'counter',
    labelNames: ['reason'],
    provider: 'forwarder',
    samples: (s) => byKey(s.drops, 'reason'),
  }),
  family({
    name: 'dsr_forwarder_passes_total',
    help: 'Packets passed to the kernel stack by the XDP program, by reason.',
    type: 'counter',
    labelNames: ['reason'],
    provider: 'forwarder',
    samples: (s) => byKey(s.passes, 'reason'),
  }),
  family({
    name: 'dsr_forwarder_events_lost_total',
    help: 'Events the XDP program could not report because its ring buffer was full (the sync missed them).',
    type: 'counter',
    labelNames: [],
    provider: 'forwarder',
    samples: (s) => [[{}, s.eventsLost]],
  }),
  family({
    name: 'dsr_forwarder_stateless_packets_total',
    help: 'TCP packets of flows without an entry, other than a SYN, forwarded without making one (SYN-only mode).',
    type: 'counter',
    labelNames: [],
    provider: 'forwarder',
    samples: (s) => [[{}, s.stateless]],
  }),
  family({
    name: 'dsr_table_entries',
    help: 'Entries in the forwarder tables (table="conn" or "persistence").',
    type: 'gauge',
    labelNames: ['table'],
    provider: 'forwarder',
    samples: (s) => [
      [{ table: 'conn' }, s.connTable.entries],
      [{ table: 'persistence' }, s.persistenceTable.entries],
    ],
  }),
  family({
    name: 'dsr_table_entries_limit',
    help: 'Capacity of the forwarder tables (table="conn" or "persistence").',
    type: 'gauge',
    labelNames: ['table'],
    provider: 'forwarder',
    samples: (s) => [
      ...(s.connTable.capacity === undefined ? [] : [[{ table: 'conn' }, s.connTable.capacity] as const]),
      ...(s.persistenceTable.capacity === undefined
        ? []
        : [[{ table: 'persistence' }, s.persistenceTable.capacity] as const]),
    ],
  }),

  // sync
  family({
    name: 'dsr_sync_lag_seconds',
    help: 'How far the peer is behind this director in connection/persistence sync.',
    type: 'gauge',
    labelNames: ['peer'],
    provider: 'sync',
    samples: (s) => s.peers.map((p) => [{ peer: p.peer }, p.lagSeconds] as const),
  }),
  family({
    name: 'dsr_sync_pending_entries',
    help: 'Sync entries sent but not yet acknowledged, per peer.',
    type: 'gauge',
    labelNames: ['peer'],
    provider: 'sync',
    samples: (s) => s.peers.map((p) => [{ peer: p.peer }, p.pendingEntries] as const),
  }),
  family({
    name: 'dsr_sync_retransmits_total',
    help: 'Sync batches retransmitted, per peer.',
    type: 'counter',
    labelNames: ['peer'],
    provider: 'sync',
    samples: (s) => s.peers.map((p) => [{ peer: p.peer }, p.retransmits] as const),
  }),
  family({
    name: 'dsr_sync_drops_total',
    help: 'Sync datagrams dropped, by reason (bad-mac, replay, unknown-source, malformed-body, ...).',
    type: 'counter',
    labelNames: ['reason'],
    provider: 'sync',
    samples: (s) => byKey(s.drops, 'reason'),
  }),
  family({
    name: 'dsr_sync_in_sync',
    help: "1 when the peer holds this director's tables (a takeover keeps flows), else 0.",
    type: 'gauge',
    labelNames: ['peer'],
    provider: 'sync',
    samples: (s) => s.peers.map((p) => [{ peer: p.peer }, p.inSync ? 1 : 0] as const),
  }),

  // health
  family({
    name: 'dsr_health_check_up',
    help: '1 when the real server passes its health check, else 0.',
    type: 'gauge',
    labelNames: ['service', 'real_server'],
    provider: 'health',
    samples: (s) => s.checks.map((c) => [rs(c), c.up ? 1 : 0] as const),
  }),
  family({
    name: 'dsr_health_check_latency_seconds',
    help: 'Duration of the last health check of each real server.',
    type: 'gauge',
    labelNames: ['service', 'real_server'],
    provider: 'health',
    samples: (s) =>
      s.checks.flatMap((c) => (c.latencySeconds === null ? [] : [[rs(c), c.latencySeconds] as const])),
  }),
  family({
    name: 'dsr_health_checks_total',
    help: 'Health checks run, per real server and result.',
    type: 'counter',
    labelNames: ['service', 'real_server', 'result'],
    provider: 'health',
    samples: (s) => s.checks.flatMap((c) => [...byKey(c.results, 'result', rs(c))]),
  }),

  // event loop
  family({
    name: 'dsr_event_loop_delay_seconds',
    help: 'Event-loop delay over the last window: quantile 0.5, 0.99 and 1 (max).',
    type: 'gauge',
    labelNames: ['quantile'],
    provider: 'eventLoop',
    samples: (s) => [
      [{ quantile: '0.5' }, s.delay.p50Ms / 1000],
      [{ quantile: '0.99' }, s.delay.p99Ms / 1000],
      [{ quantile: '1' }, s.delay.maxMs / 1000],
    ],
  }),
  family({
    name: 'dsr_event_loop_delay_mean_seconds',
    help: 'Mean event-loop delay over the last window.',
    type: 'gauge',
    labelNames: [],
    provider: 'eventLoop',
    samples: (s) => [[{}, s.delay.meanMs / 1000]],
  }),
  family({
    name: 'dsr_event_loop_stalls_total',
    help: 'Times the process was not scheduled for longer than the stall threshold.',
    type: 'counter',
    labelNames: [],
    provider: 'eventLoop',
    samples: (s) => [[{}, s.stalls]],
  }),

  // alert webhooks
  family({
    name: 'dsr_webhook_deliveries_total',
    help: 'Alert deliveries per target by outcome (success, retry, failed, dropped).',
    type: 'counter',
    labelNames: ['target', 'outcome'],
    provider: 'alerts',
    samples: (s) => s.targets.flatMap((t) => [...byKey(t.deliveries, 'outcome', { target: t.target })]),
  }),
  family({
    name: 'dsr_webhook_queued_events',
    help: 'Alert deliveries waiting or in progress, per target.',
    type: 'gauge',
    labelNames: ['target'],
    provider: 'alerts',
    samples: (s) => s.targets.map((t) => [{ target: t.target }, t.queued + t.active] as const),
  }),
];
