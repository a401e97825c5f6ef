// SPDX-License-Identifier: GPL-2.0
/*
 * rxcount_xdp: the receive side of the forwarder benchmark. Attached to a
 * real server's eth0, it counts and drops the benchmark's frames (IPv4 UDP to
 * port 9, "discard", sent to this host's MAC from rx_mac) and passes
 * everything else (ARP, the lab's own traffic). Checking the MAC matters: a
 * bridge floods frames for a MAC it has not learnt, and a flooded frame must
 * not count as delivered at every real server.
 *
 * Dropping in XDP keeps the real server's kernel stack out of the figure: the
 * benchmark measures the director, not how fast a real server can answer.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define BENCH_UDP_PORT 9

struct rx_mac {
	__u8 addr[ETH_ALEN];
	__u8 pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct rx_mac);
} rx_mac SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} rx_count SEC(".maps");

SEC("xdp")
int rxcount(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	struct rx_mac *me;
	__u64 *n;
	__u32 zero = 0;

	if ((void *)(udp + 1) > data_end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 || ip->protocol != IPPROTO_UDP ||
	    udp->dest != bpf_htons(BENCH_UDP_PORT))
		return XDP_PASS;
	me = bpf_map_lookup_elem(&rx_mac, &zero);
	if (!me || eth->h_dest[0] != me->addr[0] || eth->h_dest[1] != me->addr[1] ||
	    eth->h_dest[2] != me->addr[2] || eth->h_dest[3] != me->addr[3] ||
	    eth->h_dest[4] != me->addr[4] || eth->h_dest[5] != me->addr[5])
		return XDP_PASS;
	n = bpf_map_lookup_elem(&rx_count, &zero);
	if (n)
		*n += 1;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
