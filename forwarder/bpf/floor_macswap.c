// SPDX-License-Identifier: GPL-2.0
/*
 * floor_macswap: the cheapest possible DSR forwarder, used only as the floor
 * of the forwarder benchmark (bench/forwarder.ts).
 *
 * It does the one thing every DSR director must do and nothing else: the
 * frame's destination MAC (ours) becomes its source MAC, the destination MAC
 * becomes the one real server's MAC from floor_rs_mac, and the frame leaves
 * by the interface it came in (XDP_TX). No parsing past Ethernet, no service
 * lookup, no hashing, no tables. Whatever the real forwarder costs above this
 * program is the price of choosing a real server.
 *
 * Frames shorter than an Ethernet header, or any frame before floor_rs_mac is
 * set (all-zero MAC), go to the kernel untouched.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>

struct floor_mac {
	__u8 addr[ETH_ALEN];
	__u8 pad[2];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct floor_mac);
} floor_rs_mac SEC(".maps");

SEC("xdp")
int floor_macswap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct floor_mac *rs;
	__u32 zero = 0;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	rs = bpf_map_lookup_elem(&floor_rs_mac, &zero);
	if (!rs || !(rs->addr[0] | rs->addr[1] | rs->addr[2] | rs->addr[3] | rs->addr[4] | rs->addr[5]))
		return XDP_PASS;
	__builtin_memcpy(eth->h_source, eth->h_dest, ETH_ALEN);
	__builtin_memcpy(eth->h_dest, rs->addr, ETH_ALEN);
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
