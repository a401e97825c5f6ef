/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Structs and constants shared by the XDP program and the TypeScript side.
 *
 * This header is the single definition: forwarder/layout.ts mirrors it and
 * test/forwarder/layout.test.ts checks the mirror against the BTF that clang
 * emits for these structs. Change a struct here, then in layout.ts.
 *
 * Conventions:
 * - Addresses are 16 bytes (four 32-bit words) in network byte order. IPv4
 *   uses word 0 and leaves words 1..3 zero; `family` tells them apart.
 * - Ports are in network byte order, as on the wire.
 * - Padding fields are explicit and must be zero (hash keys compare bytes).
 * - "real" means one real server of one service (IPVS calls it a
 *   destination); its id indexes the reals array and its counters.
 */
#ifndef DSR_SHARED_H
#define DSR_SHARED_H

#include <linux/types.h>

#define DSR_AF_INET 4
#define DSR_AF_INET6 6

#define DSR_MAX_SERVICES 1024
#define DSR_MAX_VIPS 1024
#define DSR_MAX_REALS 16384
#define DSR_MAGLEV_DEFAULT_SIZE 65537
#define DSR_CONN_DEFAULT_ENTRIES (1 << 20) /* each of conns4 and conns6 */
#define DSR_PERSIST_DEFAULT_ENTRIES (1 << 18)
#define DSR_FRAG_DEFAULT_ENTRIES (1 << 14)
#define DSR_EVENTS_DEFAULT_BYTES (1 << 22)

/* Maglev slot value when no real server can take new flows. */
#define DSR_NO_REAL 0xffffffffu

/* dsr_svc.flags */
#define DSR_SVC_F_ACTIVE 0x01
#define DSR_SVC_F_PERSIST 0x02

/* dsr_real.flags */
#define DSR_REAL_F_VALID 0x01 /* has a resolved MAC: may carry traffic */
#define DSR_REAL_F_DRAIN 0x02 /* weight 0: existing flows only, no persistence hits */

/* dsr_real.vlan: 0 leaves the frame's tagging as received. */
#define DSR_VLAN_KEEP 0
#define DSR_VLAN_UNTAGGED 0xffff

/* dsr_conn.state */
#define DSR_CONN_TCP_SYN 1	/* SYN seen, handshake not yet acknowledged */
#define DSR_CONN_TCP_EST 2	/* ACK seen after SYN, or picked up mid-stream */
#define DSR_CONN_TCP_CLOSING 3 /* FIN or RST seen */
#define DSR_CONN_UDP 4

/* dsr_event.type */
#define DSR_EV_NEW_CONN 1
#define DSR_EV_CONN_UPDATE 2 /* TCP state change */
#define DSR_EV_NEW_PERSIST 3

/* dsr_config.flags */
#define DSR_CFG_F_SYN_ONLY 0x01 /* only a SYN opens a TCP entry; other packets of unknown flows go statelessly */

/*
 * Per-reason counters (index into the reason_stats per-CPU array). Passes go
 * to the kernel untouched, drops are XDP_DROP, the TX_* rows count special
 * forwarding paths (plain hits are counted per service and per real).
 */
#define DSR_R_PASS_NOT_IP 0	  /* not IPv4/IPv6 after at most one 802.1Q tag (ARP, LLDP, QinQ) */
#define DSR_R_PASS_NOT_SERVICE 1 /* IP, but no service matches (ND, ICMP echo, other hosts) */
#define DSR_R_PASS_MALFORMED 2	  /* truncated or invalid L2/L3/L4 header: the kernel judges it */
#define DSR_R_PASS_FRAGMENT 3	  /* non-first fragment whose first fragment was not seen */
#define DSR_R_PASS_ICMP 4	  /* ICMP error for a VIP naming no known service flow */
#define DSR_R_DROP_NO_REAL 5	  /* service has no real server able to take the flow */
#define DSR_R_DROP_TX_DEVICE 6	  /* real server's egress device missing from the devmap */
#define DSR_R_DROP_ADJUST 7	  /* 802.1Q push/pop failed */
#define DSR_R_TX_NEW_FLOW 8	  /* new flow: a conn entry was created */
#define DSR_R_TX_PERSIST_HIT 9	  /* new flow placed by a persistence entry */
#define DSR_R_TX_ICMP 10	  /* frag-needed / packet-too-big sent to the flow's real */
#define DSR_R_TX_FRAGMENT 11	  /* non-first fragment following its first fragment */
#define DSR_R_TX_REDIRECT 12	  /* sent through the devmap to another interface */
#define DSR_R_CONN_RESELECT 13	  /* conn entry expired, closed or stale: flow chosen anew */
#define DSR_R_EVENT_LOST 14	  /* ring buffer full: an event was not reported */
#define DSR_R_PASS_OTHER_MAC 15	  /* unicast to another host's MAC (promiscuous NIC, veth, flooding switch) */
#define DSR_R_TX_STATELESS 16	  /* TCP packet of an unknown flow that is no SYN (SYN-only mode): no entry made */
#define DSR_R_DROP_LEASE 17	  /* ARP request / neighbour solicitation for a VIP whose lease has ended (lease.h) */
#define DSR_R_MAX 18

/*
 * Key of the VIP lease map (lease.h): a VIP this director may hold, 16 bytes
 * (IPv4 in addr[0], the rest zero) and its family.
 */
struct dsr_vip_key {
	__u32 addr[4];
	__u8 family;
	__u8 pad[3];
};

/* Key of the service index (hash map key -> service id). */
struct dsr_svc_key {
	__u32 vip[4];
	__u16 port; /* 0 = every port of this VIP and protocol */
	__u8 proto; /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 family;
};

/* Service, indexed by service id. */
struct dsr_svc {
	__u32 mask[4];		   /* persistence netmask applied to the client address */
	__u64 persist_timeout_ns;
	__u32 maglev_size;	   /* M: slots in this service's Maglev table (prime) */
	__u16 gen;		   /* bumped when the id is given to another service */
	__u8 flags;		   /* DSR_SVC_F_* */
	__u8 pad;
};

/* Real server of one service, indexed by real id. Hot fields first. */
struct dsr_real {
	__u8 mac[6];		   /* destination MAC written into forwarded frames */
	__u8 src_mac[6];	   /* director's MAC on the egress interface */
	__u32 ifindex;		   /* egress interface; 0 = the arrival interface (XDP_TX) */
	__u16 gen;		   /* bumped when the id is given to another real */
	__u16 vlan;		   /* DSR_VLAN_KEEP, a VID 1..4094, or DSR_VLAN_UNTAGGED */
	__u8 flags;		   /* DSR_REAL_F_* */
	__u8 family;		   /* family of addr */
	__u16 svc_id;		   /* owning service (lets userspace restore its id maps) */
	__u32 weight;		   /* Maglev weight (informational; the table is authoritative) */
	__u32 addr[4];		   /* real server address (identity) */
};

/* A flow of either family: key of the IPv6 connection table, and in events. */
struct dsr_flow {
	__u32 src[4];
	__u32 dst[4];
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 family;
	__u16 pad;
};

/*
 * IPv4 flow: key of the IPv4 connection table. A separate, 16-byte key
 * because the kernel hashes and compares hash keys byte by byte, so a short
 * key is a cheaper lookup (docs/forwarder.md, "Two connection tables").
 */
struct dsr_flow4 {
	__u32 src;
	__u32 dst;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 pad[3];
};

/* Connection table value. */
struct dsr_conn {
	__u64 last_seen_ns;	   /* dsr_now() (conn.h) of the last packet, lazily (see touch_ns) */
	__u64 reported_ns;	   /* when the flow was last reported to userspace */
	__u16 real_id;
	__u16 real_gen;
	__u16 svc_id;
	__u16 svc_gen;
	__u8 state;		   /* DSR_CONN_* */
	__u8 pad;
	__u16 sync_epoch;	   /* 0 if made here; else the sync's bulk epoch that wrote it (sync/README.md) */
	__u32 pad2;
};

/* Persistence table key: client address masked by the service netmask. */
struct dsr_persist_key {
	__u32 client[4];
	__u16 svc_id;
	__u8 family;
	__u8 pad;
};

struct dsr_persist {
	__u64 last_seen_ns;	   /* last time a new flow used or created this entry */
	__u16 real_id;
	__u16 real_gen;
	__u16 svc_gen;
	__u16 sync_epoch;	   /* as in dsr_conn */
};

/* Fragment table: first fragment's choice, for the later fragments. */
struct dsr_frag_key {
	__u32 src[4];
	__u32 dst[4];
	__u32 id;		   /* IPv4 identification (zero-extended) or IPv6 fragment id */
	__u8 proto;
	__u8 family;
	__u16 pad;
};

struct dsr_frag {
	__u64 last_seen_ns;
	__u16 real_id;
	__u16 real_gen;
	__u16 svc_id;
	__u16 svc_gen;
};

/* Global settings: one entry in the config array. */
struct dsr_config {
	__u64 tcp_syn_timeout_ns;
	__u64 tcp_est_timeout_ns;
	__u64 tcp_fin_timeout_ns;
	__u64 udp_timeout_ns;
	__u64 frag_timeout_ns;
	__u64 touch_ns;		   /* a hit rewrites last_seen only when it is older than this */
	__u32 hash_seed;	   /* flow hash seed: identical on every director */
	__u32 flags;		   /* DSR_CFG_F_* */
	__u8 local_mac[6];	   /* this director's MAC on the interface; all zeros: no check */
	__u16 pad;
};

/* Packet, byte and new-flow counters (per CPU). flows: connection entries made. */
struct dsr_traffic {
	__u64 packets;
	__u64 bytes;
	__u64 flows;
};

/* Ring buffer record. For DSR_EV_NEW_PERSIST, flow.src is the masked
 * client address, flow.dst the VIP, flow.dport the service port. */
struct dsr_event {
	__u64 ts_ns;
	struct dsr_flow flow;
	__u16 real_id;
	__u16 svc_id;
	__u8 type;		   /* DSR_EV_* */
	__u8 state;		   /* DSR_CONN_* for conn events */
	__u16 pad;
};

#endif /* DSR_SHARED_H */
