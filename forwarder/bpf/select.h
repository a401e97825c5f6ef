/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Choosing a real server for a flow the connection table does not know:
 * service lookup, then persistence (client address masked by the service's
 * netmask), then the service's weighted Maglev table on the flow hash (the
 * masked client address alone for persistence services, so a client's flows
 * agree even without a persistence entry and on every director).
 */
#ifndef DSR_SELECT_H
#define DSR_SELECT_H

#include "maps.h"
#include "hash.h"
#include "conn.h"
#include "counters.h"
#include "events.h"
#include "parse.h"

/* Service by (VIP, proto, port), falling back to the VIP's port-0 service. */
static __always_inline struct dsr_svc *dsr_svc_find(const struct dsr_flow *f, __u32 *id)
{
	struct dsr_svc_key k;
	struct dsr_svc *s;
	__u32 *idp;

	__builtin_memset(&k, 0, sizeof(k));
	__builtin_memcpy(k.vip, f->dst, sizeof(k.vip));
	k.port = f->dport;
	k.proto = f->proto;
	k.family = f->family;
	idp = bpf_map_lookup_elem(&svc_ids, &k);
	if (!idp) {
		k.port = 0;
		idp = bpf_map_lookup_elem(&svc_ids, &k);
		if (!idp)
			return 0;
	}
	*id = *idp;
	s = bpf_map_lookup_elem(&services, idp);
	if (!s || !(s->flags & DSR_SVC_F_ACTIVE))
		return 0;
	return s;
}

/* Service id still names the service an entry was made for. */
static __always_inline struct dsr_svc *dsr_svc_get(__u32 id, __u16 gen)
{
	struct dsr_svc *s = bpf_map_lookup_elem(&services, &id);

	if (!s || s->gen != gen || !(s->flags & DSR_SVC_F_ACTIVE))
		return 0;
	return s;
}

/* Real id still names the real an entry was made for, and it has a MAC. */
static __always_inline struct dsr_real *dsr_real_get(__u32 id, __u16 gen)
{
	struct dsr_real *r = bpf_map_lookup_elem(&reals, &id);

	if (!r || r->gen != gen || !(r->flags & DSR_REAL_F_VALID))
		return 0;
	return r;
}

static __always_inline __u32 dsr_maglev_pick(__u32 svc_id, const struct dsr_svc *s, __u32 hash)
{
	void *table = bpf_map_lookup_elem(&maglev_tables, &svc_id);
	__u32 slot, *real_id;

	if (!table || s->maglev_size == 0)
		return DSR_NO_REAL;
	slot = hash % s->maglev_size;
	real_id = bpf_map_lookup_elem(table, &slot);
	return real_id ? *real_id : DSR_NO_REAL;
}

static __always_inline struct dsr_real *dsr_maglev_real(__u32 real_id)
{
	struct dsr_real *r;

	if (real_id == DSR_NO_REAL)
		return 0;
	r = bpf_map_lookup_elem(&reals, &real_id);
	if (!r || !(r->flags & DSR_REAL_F_VALID))
		return 0;
	return r;
}

/*
 * Persistence service: entry hit (live, same service generation, real still
 * valid and not draining) or Maglev on the masked client. With record set,
 * a hit refreshes the entry and a miss creates it and reports it.
 */
static __always_inline struct dsr_real *dsr_choose_persist(const struct dsr_pkt *p, __u32 svc_id,
							   const struct dsr_svc *s, const struct dsr_config *cfg,
							   __u64 now, int record, __u32 *real_id)
{
	struct dsr_persist_key pk;
	struct dsr_persist *pe;
	struct dsr_real *r;
	__u32 rid;

	__builtin_memset(&pk, 0, sizeof(pk));
	pk.client[0] = p->flow.src[0] & s->mask[0];
	pk.client[1] = p->flow.src[1] & s->mask[1];
	pk.client[2] = p->flow.src[2] & s->mask[2];
	pk.client[3] = p->flow.src[3] & s->mask[3];
	pk.svc_id = svc_id;
	pk.family = p->flow.family;

	pe = bpf_map_lookup_elem(&persist, &pk);
	if (pe && pe->svc_gen == s->gen && !dsr_expired(now, pe->last_seen_ns, s->persist_timeout_ns)) {
		rid = pe->real_id;
		r = bpf_map_lookup_elem(&reals, &rid);
		if (r && r->gen == pe->real_gen &&
		    (r->flags & (DSR_REAL_F_VALID | DSR_REAL_F_DRAIN)) == DSR_REAL_F_VALID) {
			if (record) {
				pe->last_seen_ns = now;
				dsr_count_reason(DSR_R_TX_PERSIST_HIT, 0);
			}
			*real_id = rid;
			return r;
		}
	}

	rid = dsr_maglev_pick(svc_id, s, dsr_hash_client(pk.client, cfg->hash_seed));
	r = dsr_maglev_real(rid);
	if (!r)
		return 0;
	if (record) {
		struct dsr_persist val = {
			.last_seen_ns = now,
			.real_id = rid,
			.real_gen = r->gen,
			.svc_gen = s->gen,
		};
		struct dsr_flow ev;

		bpf_map_update_elem(&persist, &pk, &val, BPF_ANY);
		__builtin_memset(&ev, 0, sizeof(ev));
		__builtin_memcpy(ev.src, pk.client, sizeof(ev.src));
		__builtin_memcpy(ev.dst, p->flow.dst, sizeof(ev.dst));
		ev.dport = p->flow.dport;
		ev.proto = p->flow.proto;
		ev.family = p->flow.family;
		dsr_report(DSR_EV_NEW_PERSIST, &ev, rid, svc_id, 0, now);
	}
	*real_id = rid;
	return r;
}

static __always_inline struct dsr_real *dsr_choose(const struct dsr_pkt *p, __u32 svc_id, const struct dsr_svc *s,
						   const struct dsr_config *cfg, __u64 now, int record,
						   __u32 *real_id)
{
	__u32 rid;

	if (s->flags & DSR_SVC_F_PERSIST)
		return dsr_choose_persist(p, svc_id, s, cfg, now, record, real_id);
	rid = dsr_maglev_pick(svc_id, s, dsr_hash_flow(&p->flow, cfg->hash_seed));
	*real_id = rid;
	return dsr_maglev_real(rid);
}

#endif /* DSR_SELECT_H */
