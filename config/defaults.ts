/**
 * Every default value of the config file, in one table.
 *
 * The schema (schema.ts) and the builder (build.ts) take their defaults from here, and
 * config/README.md documents the same values; a test compares the README table with this
 * object so the two cannot drift apart.
 */

export const DEFAULT_CONFIG_PATH = '/etc/dsr-director/dsrd.yaml';

/**
 * Advert interval of the election: 10 ms, chosen with `npm run bench -- failover` (method and figures
 * in docs/failover.md). The unplanned outage is about the master-down interval (3 × interval + skew):
 * link down p95 37.9 ms at 10 ms (20 trials), the only interval here under the 50 ms target of
 * issue 5 (20 ms gives a 68-72 ms master-down interval). The cost: a master stalled for longer than
 * that interval is taken over; 600 s soaks with both cores busy and 5% control-path loss saw 0 false
 * failovers on a quiet host and 16 while the host itself stalled by 30-65 ms. On such hosts raise it.
 */
export const DEFAULT_ADVERT_INTERVAL_MS = 10;

/** Maglev lookup table size: prime, and about 100× a large real-server set (Maglev paper §3.4). */
export const DEFAULT_MAGLEV_TABLE_SIZE = 65537;

export const DEFAULTS = {
  node: {
    priority: 100,
    role: 'director',
    address: null,
    // The session ids this director sends under (core/auth/session-store.ts); systemd's
    // StateDirectory=dsr-director.
    state_dir: '/var/lib/dsr-director',
  },
  election: {
    mode: 'vrrp',
    transport: 'unicast',
    port: 9777,
    // Quorum mode (docs/quorum.md): T = 50 ms gives a 48 ms lease (ρ = 0.005, M = 1 ms) renewed by
    // heartbeats every 10 ms, so four in a row may go missing before the lease lapses.
    raft: {
      port: 9780,
      election_timeout_ms: 50,
      election_jitter_ms: 25,
      heartbeat_interval_ms: 10,
    },
    multicast: {
      // Organization-local scope (RFC 2365 §6.2); TTL 1 because directors share one L2 segment.
      group: '239.192.77.18',
      ttl: 1,
      // null: the first entry of `interfaces`
      interface: null,
    },
  },
  peers: {
    // null: election.port
    port: null,
    witness: false,
  },
  interfaces: {
    xdp_mode: 'auto',
  },
  forwarder: {
    pin_dir: '/sys/fs/bpf/dsr-director',
    // Spoofed ACK/RST floods make no entries (docs/sync.md, "SYN-only entries").
    syn_only: true,
  },
  vip_groups: {
    // null: the first entry of `interfaces`
    interface: null,
    // null: node.priority
    priority: null,
    preempt: true,
    preempt_delay_ms: 0,
    advert_interval_ms: DEFAULT_ADVERT_INTERVAL_MS,
    garp: {
      count: 5,
      interval_ms: 50,
      // Switches age out MAC table entries (often 300 s); a refresh well inside that keeps the VIP's
      // port learned even when the VIP itself is quiet.
      refresh_s: 60,
    },
    track: {
      forwarder: true,
      interfaces: { weight: 0 },
      scripts: {
        interval_ms: 2000,
        timeout_ms: 1000,
        rise: 1,
        fall: 1,
        weight: 0,
      },
      services: { weight: 0 },
    },
  },
  services: {
    // Port 0 means every port of the VIP for this protocol.
    scheduler: {
      kind: 'maglev',
      table_size: DEFAULT_MAGLEV_TABLE_SIZE,
    },
    persistence: {
      // Same as IPVS's persistent default.
      timeout_s: 300,
      netmask_v4: 32,
      netmask_v6: 128,
    },
    min_healthy: 1,
    sorry_server: null,
    reschedule_on_down: false,
    drain: {
      keep_persistence: false,
      timeout_s: 600,
    },
    real_servers: {
      // Same as ipvsadm and keepalived; weights are relative.
      weight: 1,
    },
  },
  health_checks: {
    interval_ms: 2000,
    timeout_ms: 1000,
    rise: 2,
    fall: 3,
    // null: the service port (an error when the service port is 0 and the kind needs a port)
    port: null,
    http: {
      method: 'GET',
      path: '/',
      host: null,
      expect_status: '200-399',
      body_regex: null,
    },
    https: {
      sni: null,
      tls_verify: true,
    },
    udp: {
      send: '',
      send_hex: null,
      expect_regex: null,
    },
    dns: {
      port: 53,
      type: 'A',
      expect_rcode: 'NOERROR',
    },
  },
  timers: {
    tcp_established_s: 900,
    tcp_closing_s: 120,
    udp_s: 300,
  },
  tables: {
    conn_table_size: 1_048_576,
    persistence_table_size: 262_144,
  },
  keys: {
    // null: the only key of the ring (required when the ring holds two keys)
    send_id: null,
    // absent `keys.sync`: the election key ring
  },
  sync: {
    enabled: true,
    port: 9778,
    // Fits a 1500-byte MTU under an IPv6 + UDP header (1500 - 40 - 8 = 1452) with room to spare.
    max_datagram_bytes: 1400,
    flush_interval_ms: 2,
    // Every live entry is sent again this often; copies live this much longer than the original.
    refresh_s: 60,
    // A silent peer is out of sync after 3.5 keepalives (sync/options.ts): 350 ms.
    keepalive_ms: 100,
    lag_alert_ms: 500,
    // null: every peer, at its election address and sync.port
    peers: null,
  },
  metrics: {
    enabled: true,
    listen: '127.0.0.1:9779',
    path: '/metrics',
  },
  admin: {
    socket: '/run/dsr-director/dsrd.sock',
    // null: the socket's group stays root
    group: null,
    mode: '0660',
  },
  log: {
    level: 'info',
  },
  alerts: {
    heartbeat_s: 0,
    queue_dir: '/var/lib/dsr-director/alerts',
    queue_max_events: 10_000,
    targets: {
      // null: every event
      events: null,
      timeout_ms: 5000,
      max_attempts: 10,
      backoff_initial_ms: 1000,
      backoff_max_ms: 300_000,
    },
  },
} as const;
