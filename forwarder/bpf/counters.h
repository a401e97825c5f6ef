/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Per-CPU counters: no atomics, no shared cache lines on the fast path.
 * Userspace sums the CPUs when it reads them.
 */
#ifndef DSR_COUNTERS_H
#define DSR_COUNTERS_H

#include "maps.h"

/* new_flow is 1 on the packet that made a connection entry: the same lookup counts flows. */
static __always_inline void dsr_count(void *map, __u32 idx, __u64 bytes, __u64 new_flow)
{
	struct dsr_traffic *t = bpf_map_lookup_elem(map, &idx);

	if (t) {
		t->packets++;
		t->bytes += bytes;
		t->flows += new_flow;
	}
}

static __always_inline void dsr_count_reason(__u32 reason, __u64 bytes)
{
	dsr_count(&reason_stats, reason, bytes, 0);
}

#endif /* DSR_COUNTERS_H */
