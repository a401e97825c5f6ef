// SPDX-License-Identifier: GPL-2.0
/*
 * trafficgen_xdp: the transmit side of the benchmark's live-frames traffic
 * generator (bench/lib/trafficgen-worker.ts).
 *
 * Userspace runs this program with BPF_PROG_TEST_RUN and
 * BPF_F_TEST_XDP_LIVE_FRAMES on the client's eth0: the kernel builds one
 * frame per repetition from the template it was given, runs the program, and
 * really transmits every frame the program returns XDP_TX for. Debian's
 * xdp-trafficgen does the same but fails on this kernel.
 *
 * Each frame gets the next UDP source port of a small range, so the director
 * sees `gen_cfg.flows` distinct flows (spread over real servers by Maglev,
 * jhash or whatever the program under test uses) rather than one. The template
 * is IPv4/UDP with a zero UDP checksum (allowed for IPv4, RFC 768), so
 * changing the port needs no checksum update. The port is written on every
 * run, so it does not matter whether the kernel resets recycled frames.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

struct gen_cfg {
	__u16 base_port; /* first UDP source port, host order */
	__u16 flows;     /* number of source ports used, >= 1 */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct gen_cfg);
} gen_cfg SEC(".maps");

/* Frames handed to XDP_TX, per CPU (the live-frames run stays on one CPU). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} gen_sent SEC(".maps");

SEC("xdp")
int trafficgen_tx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct udphdr *udp = (void *)(ip + 1);
	struct gen_cfg *cfg;
	__u64 *sent;
	__u32 zero = 0;

	if ((void *)(udp + 1) > data_end)
		return XDP_ABORTED;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
		return XDP_ABORTED;
	cfg = bpf_map_lookup_elem(&gen_cfg, &zero);
	sent = bpf_map_lookup_elem(&gen_sent, &zero);
	if (!cfg || !sent || cfg->flows == 0)
		return XDP_ABORTED;
	udp->source = bpf_htons(cfg->base_port + (__u16)(*sent % cfg->flows));
	udp->check = 0;
	*sent += 1;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
