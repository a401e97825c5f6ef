// SPDX-License-Identifier: GPL-2.0
/*
 * flow_gen: new TCP connections for the sync benchmark (lab/sync/traffic-worker.ts), made by the
 * kernel rather than one BPF_PROG_TEST_RUN syscall per packet (several µs each, which made the
 * generator the busiest thread of the benchmark).
 *
 * One test run with `repeat` = 3 × n plays n connections: repetition k patches the frame for
 * connection base + k / 3 (client address 198.19.x.y and source port as lab/sync/flows.ts
 * numbers them) and its packet k % 3 (SYN, ACK, FIN|ACK), puts the director's MAC back as the
 * destination (the forwarder rewrote it the repetition before: a test run feeds the program its
 * own output), and tail-calls the forwarder. The forwarder then does all it does for a packet:
 * entries, events, counters. The time of each SYN (CLOCK_MONOTONIC) goes to flow_gen_syn_ns, for
 * the benchmark's lag samples: a test run with repeat > 1 waits for the kernel to switch the XDP
 * dispatcher on its way in and out (milliseconds, asleep), so its start says little of when a
 * given connection was played.
 *
 * The frame is an untagged IPv4 TCP frame without IP options; anything else is aborted.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct flow_gen_state {
	__u64 next;	   /* repetitions played since the state was written */
	__u32 base;	   /* the first connection's index */
	__u8 director_mac[ETH_ALEN];
	__u8 pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct flow_gen_state);
} flow_gen_state SEC(".maps");

/* Connections per test run at most: the SYN times are kept by index in the run. */
#define FLOW_GEN_MAX_CHUNK 4096

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, FLOW_GEN_MAX_CHUNK);
	__type(key, __u32);
	__type(value, __u64);
} flow_gen_syn_ns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} flow_gen_target SEC(".maps");

SEC("xdp")
int flow_gen(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct tcphdr *tcp = (void *)(ip + 1);
	struct flow_gen_state *st;
	__u32 zero = 0, conn, phase, slot;
	__u64 k, *syn_ns;

	if ((void *)(tcp + 1) > data_end || ip->ihl != 5 || ip->protocol != IPPROTO_TCP)
		return XDP_ABORTED;
	st = bpf_map_lookup_elem(&flow_gen_state, &zero);
	if (!st)
		return XDP_ABORTED;
	k = st->next++;
	conn = st->base + (__u32)(k / 3);
	phase = (__u32)(k % 3);
	if (phase == 0) {
		slot = (__u32)(k / 3) & (FLOW_GEN_MAX_CHUNK - 1);
		syn_ns = bpf_map_lookup_elem(&flow_gen_syn_ns, &slot);
		if (syn_ns)
			*syn_ns = bpf_ktime_get_ns();
	}
	__builtin_memcpy(eth->h_dest, st->director_mac, ETH_ALEN);
	ip->saddr = bpf_htonl((198u << 24) | (19u << 16) | (conn & 0xffff));
	tcp->source = bpf_htons(1024 + (conn >> 16));
	tcp->syn = phase == 0;
	tcp->ack = phase != 0;
	tcp->fin = phase == 2;
	bpf_tail_call(ctx, &flow_gen_target, 0);
	return XDP_ABORTED; /* no forwarder in flow_gen_target */
}

char LICENSE[] SEC("license") = "GPL";
