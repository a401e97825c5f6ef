/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IP fragments (IPv4 RFC 791, IPv6 RFC 8200 section 4.5).
 *
 * Only the first fragment carries the ports, so it is placed like any other
 * packet of its flow and its choice is remembered under (src, dst, IP id,
 * proto). Later fragments with the same key follow it to the same real
 * server (counted as tx_fragment) for frag_timeout_ns. A later fragment whose
 * first fragment was not seen (reordered, or first seen by another
 * director) is passed to the kernel untouched and counted as pass_fragment.
 */
#ifndef DSR_FRAGMENT_H
#define DSR_FRAGMENT_H

#include "maps.h"
#include "parse.h"

static __always_inline void dsr_frag_key(const struct dsr_pkt *p, struct dsr_frag_key *k)
{
	__builtin_memset(k, 0, sizeof(*k));
	__builtin_memcpy(k->src, p->flow.src, sizeof(k->src));
	__builtin_memcpy(k->dst, p->flow.dst, sizeof(k->dst));
	k->id = p->frag_id;
	k->proto = p->flow.proto;
	k->family = p->flow.family;
}

static __always_inline void dsr_frag_record(const struct dsr_pkt *p, __u16 svc_id, __u16 svc_gen, __u16 real_id,
					    __u16 real_gen, __u64 now)
{
	struct dsr_frag_key k;
	struct dsr_frag v = {
		.last_seen_ns = now,
		.real_id = real_id,
		.real_gen = real_gen,
		.svc_id = svc_id,
		.svc_gen = svc_gen,
	};

	dsr_frag_key(p, &k);
	bpf_map_update_elem(&frags, &k, &v, BPF_ANY);
}

#endif /* DSR_FRAGMENT_H */
