/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Connection table rules. The director sees only the client -> server half
 * of each TCP connection (replies go straight to the client), so the state
 * is what that half shows, as IPVS does for direct routing:
 *
 *   new flow:  SYN without ACK -> TCP_SYN; FIN or RST -> TCP_CLOSING;
 *              anything else (picked up mid-stream) -> TCP_EST; UDP -> UDP
 *   TCP_SYN  + ACK without SYN -> TCP_EST
 *   any TCP  + FIN or RST      -> TCP_CLOSING
 *
 * An entry idle for longer than its state's timeout (config map; IPVS-like
 * defaults 60 s SYN, 900 s established, 120 s closing, 300 s UDP) is treated
 * as absent and the flow is chosen anew. A SYN without ACK on a closing
 * entry is a new connection reusing the ports and is chosen anew as well.
 * The LRU map evicts the coldest entries when it is full.
 */
#ifndef DSR_CONN_H
#define DSR_CONN_H

#include <linux/in.h>
#include "maps.h"
#include "parse.h"
#include "events.h"

/*
 * The clock of every timestamp in the tables: CLOCK_MONOTONIC at tick
 * resolution (bpf_ktime_get_coarse_ns). Timeouts are seconds, so a tick is
 * plenty, and it is far cheaper than bpf_ktime_get_ns() (docs/forwarder.md,
 * "The clock"). Userspace compares with clock_gettime(CLOCK_MONOTONIC[_COARSE]).
 */
static __always_inline __u64 dsr_now(void)
{
	return bpf_ktime_get_coarse_ns();
}

static __always_inline void dsr_flow4_key(const struct dsr_flow *f, struct dsr_flow4 *k)
{
	k->src = f->src[0];
	k->dst = f->dst[0];
	k->sport = f->sport;
	k->dport = f->dport;
	k->proto = f->proto;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
}

/*
 * Keeps clang from merging the two lookups into one call on a map pointer
 * chosen at run time: the verifier inlines a lookup only when it knows the
 * map (docs/forwarder.md, "Lookups the verifier can inline").
 */
#define DSR_KEEP_APART(ptr, tag) asm volatile("%0 = %0" : "+r"(ptr) : "i"(tag))

static __always_inline struct dsr_conn *dsr_conn_lookup(const struct dsr_flow *f)
{
	struct dsr_conn *c;

	if (f->family == DSR_AF_INET) {
		struct dsr_flow4 k;

		dsr_flow4_key(f, &k);
		c = bpf_map_lookup_elem(&conns4, &k);
		DSR_KEEP_APART(c, 4);
		return c;
	}
	c = bpf_map_lookup_elem(&conns6, f);
	DSR_KEEP_APART(c, 6);
	return c;
}

static __always_inline void dsr_conn_insert(const struct dsr_flow *f, const struct dsr_conn *c)
{
	if (f->family == DSR_AF_INET) {
		struct dsr_flow4 k;

		dsr_flow4_key(f, &k);
		bpf_map_update_elem(&conns4, &k, c, BPF_ANY);
		return;
	}
	bpf_map_update_elem(&conns6, f, c, BPF_ANY);
}

static __always_inline __u64 dsr_conn_timeout(const struct dsr_config *cfg, __u8 state)
{
	if (state == DSR_CONN_TCP_EST)
		return cfg->tcp_est_timeout_ns;
	if (state == DSR_CONN_TCP_SYN)
		return cfg->tcp_syn_timeout_ns;
	if (state == DSR_CONN_TCP_CLOSING)
		return cfg->tcp_fin_timeout_ns;
	return cfg->udp_timeout_ns;
}

/* Entries written by a peer may be stamped slightly ahead of our clock: not expired. */
static __always_inline int dsr_expired(__u64 now, __u64 last_seen, __u64 timeout)
{
	return (__s64)(now - last_seen) > (__s64)timeout;
}

static __always_inline __u8 dsr_conn_first_state(__u8 proto, __u8 flags)
{
	if (proto != IPPROTO_TCP)
		return DSR_CONN_UDP;
	if (flags & (DSR_TCP_FIN | DSR_TCP_RST))
		return DSR_CONN_TCP_CLOSING;
	if ((flags & (DSR_TCP_SYN | DSR_TCP_ACK)) == DSR_TCP_SYN)
		return DSR_CONN_TCP_SYN;
	return DSR_CONN_TCP_EST;
}

static __always_inline __u8 dsr_conn_next_state(__u8 state, __u8 proto, __u8 flags)
{
	if (proto != IPPROTO_TCP)
		return state;
	if (flags & (DSR_TCP_FIN | DSR_TCP_RST))
		return DSR_CONN_TCP_CLOSING;
	if (state == DSR_CONN_TCP_SYN && (flags & (DSR_TCP_SYN | DSR_TCP_ACK)) == DSR_TCP_ACK)
		return DSR_CONN_TCP_EST;
	return state;
}

/* Whether entry c may carry this packet (time and TCP state only). */
static __always_inline int dsr_conn_alive(const struct dsr_conn *c, const struct dsr_config *cfg, __u64 now,
					  const struct dsr_pkt *p)
{
	if (dsr_expired(now, c->last_seen_ns, dsr_conn_timeout(cfg, c->state)))
		return 0;
	if (c->state == DSR_CONN_TCP_CLOSING && p->flow.proto == IPPROTO_TCP &&
	    (p->tcp_flags & (DSR_TCP_SYN | DSR_TCP_ACK)) == DSR_TCP_SYN)
		return 0;
	return 1;
}

/*
 * Records this packet in a live entry. Writes only when the state changes or
 * last_seen is older than touch_ns, so a busy flow does not dirty its cache
 * line on every packet; reports state changes at once. Live flows reach the
 * standby directors again through the sync's walk of the table (its refresh),
 * not through events: a flow's packets would report it only while it has any.
 */
static __always_inline void dsr_conn_touch(struct dsr_conn *c, const struct dsr_config *cfg, __u64 now,
					   const struct dsr_pkt *p)
{
	__u8 next = dsr_conn_next_state(c->state, p->flow.proto, p->tcp_flags);

	if (next != c->state) {
		c->state = next;
		c->last_seen_ns = now;
		c->reported_ns = now;
		dsr_report(DSR_EV_CONN_UPDATE, &p->flow, c->real_id, c->svc_id, next, now);
		return;
	}
	if ((__s64)(now - c->last_seen_ns) > (__s64)cfg->touch_ns)
		c->last_seen_ns = now;
}

#endif /* DSR_CONN_H */
