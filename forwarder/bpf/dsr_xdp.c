/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dsr-director XDP forwarder: layer-4 direct server return by MAC rewrite.
 *
 * Per frame:
 *   0. a frame for another host's MAC -> XDP_PASS (the kernel drops it);
 *   1. parse Ethernet (one optional 802.1Q tag), IPv4/IPv6, TCP/UDP;
 *      not IP -> XDP_PASS (ARP included, but an ARP request for a VIP whose
 *      lease has ended -> XDP_DROP: lease.h, quorum mode); unparseable ->
 *      XDP_PASS, counted;
 *   2. ICMP frag-needed / packet-too-big for a service flow -> that flow's
 *      real server (icmp.h); a neighbour solicitation for a VIP whose lease
 *      has ended -> XDP_DROP; other ICMP/ICMPv6 (ND included) -> XDP_PASS;
 *   3. later IP fragments follow their first fragment (fragment.h);
 *   4. connection table hit (conn.h) -> same real server (a TCP SYN skips
 *      the lookup: it opens a connection);
 *   5. else service lookup (VIP, proto, port; then port 0) -> miss: XDP_PASS;
 *      persistence, then weighted Maglev (select.h); the choice is recorded
 *      in the connection table and reported through the ring buffer (in
 *      SYN-only mode, a TCP packet other than a SYN is sent statelessly);
 *   6. rewrite MACs (and VLAN) and XDP_TX, or XDP_REDIRECT through the
 *      devmap when the real server sits behind another interface.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "dsr_shared.h"
#include "maps.h"
#include "parse.h"
#include "counters.h"
#include "conn.h"
#include "select.h"
#include "fragment.h"
#include "deliver.h"
#include "icmp.h"
#include "lease.h"

static __always_inline int dsr_pass(__u32 reason, __u64 bytes)
{
	dsr_count_reason(reason, bytes);
	return XDP_PASS;
}

/* ARP / ND for a VIP whose lease has ended (lease.h): the kernel must not answer it. */
static __always_inline int dsr_drop_lease(__u64 bytes)
{
	dsr_count_reason(DSR_R_DROP_LEASE, bytes);
	return XDP_DROP;
}

static __always_inline struct dsr_config *dsr_config_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&config, &zero);
}

/* A TCP SYN without ACK: the first packet of a connection. */
static __always_inline int dsr_is_syn(const struct dsr_pkt *p)
{
	return p->flow.proto == IPPROTO_TCP && (p->tcp_flags & (DSR_TCP_SYN | DSR_TCP_ACK)) == DSR_TCP_SYN;
}

static __always_inline int dsr_handle_flow(struct xdp_md *ctx, const struct dsr_pkt *p, __u64 bytes)
{
	struct dsr_config *cfg = dsr_config_get();
	struct dsr_conn *c;
	struct dsr_svc *s;
	struct dsr_real *r;
	__u32 svc_id, real_id;
	int syn;
	__u64 now;

	if (!cfg)
		return dsr_pass(DSR_R_PASS_NOT_SERVICE, bytes);
	now = dsr_now();

	/*
	 * A SYN opens a connection whatever the table holds (a port reused while an old entry lives,
	 * a retransmitted SYN): it is chosen afresh without a lookup, as Katran does. Selection is
	 * deterministic, so a retransmitted SYN lands where the first one did.
	 */
	syn = dsr_is_syn(p);
	if (!syn) {
		c = dsr_conn_lookup(&p->flow);
		if (c) {
			/* No service check: removing a service frees its reals, which fails this one. */
			r = dsr_real_get(c->real_id, c->real_gen);
			if (r && dsr_conn_alive(c, cfg, now, p)) {
				dsr_conn_touch(c, cfg, now, p);
				return dsr_deliver(ctx, p, c->svc_id, c->svc_gen, c->real_id, r, bytes, now, 0);
			}
			dsr_count_reason(DSR_R_CONN_RESELECT, 0);
		}
	}

	s = dsr_svc_find(&p->flow, &svc_id);
	if (!s)
		return dsr_pass(DSR_R_PASS_NOT_SERVICE, bytes);

	/*
	 * SYN-only mode: a TCP packet of a flow we hold no entry for, other than a SYN, is sent
	 * where selection puts it (the same real server as for an entry made now, and as on every
	 * director), but makes no entry and no event. A spoofed ACK or RST flood from random sources
	 * then cannot evict live flows from the LRU table nor flood the ring and the sync.
	 */
	if (!syn && p->flow.proto == IPPROTO_TCP && (cfg->flags & DSR_CFG_F_SYN_ONLY)) {
		r = dsr_choose(p, svc_id, s, cfg, now, 0, &real_id);
		if (!r) {
			dsr_count_reason(DSR_R_DROP_NO_REAL, bytes);
			return XDP_DROP;
		}
		dsr_count_reason(DSR_R_TX_STATELESS, 0);
		return dsr_deliver(ctx, p, svc_id, s->gen, real_id, r, bytes, now, 0);
	}

	r = dsr_choose(p, svc_id, s, cfg, now, 1, &real_id);
	if (!r) {
		dsr_count_reason(DSR_R_DROP_NO_REAL, bytes);
		return XDP_DROP;
	}

	{
		struct dsr_conn val = {
			.last_seen_ns = now,
			.reported_ns = now,
			.real_id = real_id,
			.real_gen = r->gen,
			.svc_id = svc_id,
			.svc_gen = s->gen,
			.state = dsr_conn_first_state(p->flow.proto, p->tcp_flags),
		};

		dsr_conn_insert(&p->flow, &val);
		dsr_report(DSR_EV_NEW_CONN, &p->flow, real_id, svc_id, val.state, now);
	}
	dsr_count_reason(DSR_R_TX_NEW_FLOW, 0);
	return dsr_deliver(ctx, p, svc_id, s->gen, real_id, r, bytes, now, 1);
}

static __always_inline int dsr_handle_later_fragment(struct xdp_md *ctx, const struct dsr_pkt *p, __u64 bytes)
{
	struct dsr_config *cfg = dsr_config_get();
	struct dsr_frag_key k;
	struct dsr_frag *f;
	struct dsr_real *r;
	__u64 now;

	if (!cfg)
		return dsr_pass(DSR_R_PASS_FRAGMENT, bytes);
	dsr_frag_key(p, &k);
	f = bpf_map_lookup_elem(&frags, &k);
	if (!f)
		return dsr_pass(DSR_R_PASS_FRAGMENT, bytes);
	now = dsr_now();
	if (dsr_expired(now, f->last_seen_ns, cfg->frag_timeout_ns) || !dsr_svc_get(f->svc_id, f->svc_gen))
		return dsr_pass(DSR_R_PASS_FRAGMENT, bytes);
	r = dsr_real_get(f->real_id, f->real_gen);
	if (!r)
		return dsr_pass(DSR_R_PASS_FRAGMENT, bytes);
	dsr_count_reason(DSR_R_TX_FRAGMENT, 0);
	return dsr_deliver(ctx, p, f->svc_id, f->svc_gen, f->real_id, r, bytes, now, 0);
}

static __always_inline int dsr_handle_icmp(struct xdp_md *ctx, const struct dsr_pkt *p, __u64 bytes)
{
	struct dsr_config *cfg;
	struct dsr_pkt q;
	struct dsr_conn *c;
	struct dsr_svc *s;
	struct dsr_real *r;
	__u32 svc_id, real_id;
	__u64 now;

	__builtin_memset(&q, 0, sizeof(q));
	if (dsr_icmp_flow(ctx, p, &q))
		return dsr_pass(DSR_R_PASS_NOT_SERVICE, bytes);
	cfg = dsr_config_get();
	if (!cfg)
		return dsr_pass(DSR_R_PASS_ICMP, bytes);
	now = dsr_now();

	c = dsr_conn_lookup(&q.flow);
	if (c) {
		s = dsr_svc_get(c->svc_id, c->svc_gen);
		r = s ? dsr_real_get(c->real_id, c->real_gen) : 0;
		if (r) {
			dsr_count_reason(DSR_R_TX_ICMP, 0);
			return dsr_deliver(ctx, &q, c->svc_id, c->svc_gen, c->real_id, r, bytes, now, 0);
		}
	}
	/* A flow this director has not seen (e.g. placed by a peer): hashing gives its real. */
	s = dsr_svc_find(&q.flow, &svc_id);
	if (!s)
		return dsr_pass(DSR_R_PASS_ICMP, bytes);
	r = dsr_choose(&q, svc_id, s, cfg, now, 0, &real_id);
	if (!r)
		return dsr_pass(DSR_R_PASS_ICMP, bytes);
	dsr_count_reason(DSR_R_TX_ICMP, 0);
	return dsr_deliver(ctx, &q, svc_id, s->gen, real_id, r, bytes, now, 0);
}

/*
 * Whether the frame is unicast to another host's MAC (the kernel's
 * PACKET_OTHERHOST; broadcast and multicast are for us too). A NIC drops
 * those in hardware, but not in promiscuous mode (tcpdump, a bridge port),
 * and a veth never does; a switch floods frames for a MAC it lost (a port
 * went down, an entry aged out). Forwarding them would make a standby
 * duplicate the active's traffic and, before its tables are in sync, send
 * established flows to another real server, whose reset ends the connection.
 * Passed, the kernel drops them as it would without XDP.
 */
static __always_inline int dsr_other_mac(struct xdp_md *ctx)
{
	struct ethhdr *eth = (void *)(long)ctx->data;
	struct dsr_config *cfg = dsr_config_get();
	__u8 set = 0, differ = 0;
	int i;

	if (!cfg || (void *)(eth + 1) > (void *)(long)ctx->data_end)
		return 0;
#pragma unroll
	for (i = 0; i < ETH_ALEN; i++) {
		set |= cfg->local_mac[i];
		differ |= cfg->local_mac[i] ^ eth->h_dest[i];
	}
	return set && differ && !(eth->h_dest[0] & 1);
}

SEC("xdp")
int dsr_xdp(struct xdp_md *ctx)
{
	__u64 bytes = ctx->data_end - ctx->data;
	struct dsr_pkt p;

	if (dsr_other_mac(ctx))
		return dsr_pass(DSR_R_PASS_OTHER_MAC, bytes);
	__builtin_memset(&p, 0, sizeof(p));
	switch (dsr_parse(ctx, &p)) {
	case DSR_P_L4:
		return dsr_handle_flow(ctx, &p, bytes);
	case DSR_P_NOT_IP:
		if (dsr_lease_ended_arp(ctx))
			return dsr_drop_lease(bytes);
		return dsr_pass(DSR_R_PASS_NOT_IP, bytes);
	case DSR_P_ICMP:
		if (dsr_lease_ended_ns(ctx, &p))
			return dsr_drop_lease(bytes);
		return dsr_handle_icmp(ctx, &p, bytes);
	case DSR_P_FRAG_LATER:
		return dsr_handle_later_fragment(ctx, &p, bytes);
	case DSR_P_OTHER:
		return dsr_pass(DSR_R_PASS_NOT_SERVICE, bytes);
	default:
		return dsr_pass(DSR_R_PASS_MALFORMED, bytes);
	}
}

char _license[] SEC("license") = "Apache-2.0";
