/* SPDX-License-Identifier: Apache-2.0 */
/* The last step of every forwarded packet: count it, remember a first fragment, send it. */
#ifndef DSR_DELIVER_H
#define DSR_DELIVER_H

#include "maps.h"
#include "counters.h"
#include "fragment.h"
#include "rewrite.h"

static __always_inline int dsr_deliver(struct xdp_md *ctx, const struct dsr_pkt *p, __u32 svc_id, __u16 svc_gen,
				       __u32 real_id, const struct dsr_real *r, __u64 bytes, __u64 now,
				       __u64 new_flow)
{
	if (p->frag == DSR_FRAG_FIRST)
		dsr_frag_record(p, svc_id, svc_gen, real_id, r->gen, now);
	dsr_count(&svc_stats, svc_id, bytes, new_flow);
	dsr_count(&real_stats, real_id, bytes, new_flow);
	return dsr_send(ctx, r, p->tagged);
}

#endif /* DSR_DELIVER_H */
