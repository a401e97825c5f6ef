/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Reports to userspace through the ring buffer: new flows, flow updates and
 * new persistence entries. The sync sends them to the standby directors;
 * metrics count them. A full ring loses the event, never the packet.
 */
#ifndef DSR_EVENTS_H
#define DSR_EVENTS_H

#include "maps.h"
#include "counters.h"

static __always_inline void dsr_report(__u8 type, const struct dsr_flow *flow, __u16 real_id, __u16 svc_id,
				       __u8 state, __u64 now)
{
	struct dsr_event *ev = bpf_ringbuf_reserve(&events, sizeof(*ev), 0);

	if (!ev) {
		dsr_count_reason(DSR_R_EVENT_LOST, 0);
		return;
	}
	ev->ts_ns = now;
	__builtin_memcpy(&ev->flow, flow, sizeof(*flow));
	ev->real_id = real_id;
	ev->svc_id = svc_id;
	ev->type = type;
	ev->state = state;
	ev->pad = 0;
	/*
	 * No wakeup: a wakeup queues irq work on every event, and the sync's thread drains the
	 * ring on a short timer anyway, taking whatever has accumulated in one pass.
	 */
	bpf_ringbuf_submit(ev, BPF_RB_NO_WAKEUP);
}

#endif /* DSR_EVENTS_H */
