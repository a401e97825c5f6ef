// SPDX-License-Identifier: GPL-2.0
/*
 * trafficgen_xdp: the transmit side of the benchmark's live-frames traffic
 * generator (lab/dataplane/trafficgen-worker.ts).
 *
 * Userspace runs this program with BPF_PROG_TEST_RUN and
 * BPF_F_TEST_XDP_LIVE_FRAMES on the client's eth0: the kernel builds frames
 * in a page pool, runs the program on each, and really transmits every frame
 * the program returns XDP_TX for. Debian's xdp-trafficgen does the same but
 * fails on this kernel.
 *
 * Why the program rewrites all headers on every run: the kernel initialises
 * a page-pool page with the template only once. A transmitted page travels
 * through the peer veth, the bridge and the director, and whoever rewrites
 * it on the way (the director rewrites the MACs!) writes into that page;
 * when the page comes back to the pool it is sent again as it is. Without
 * the rewrite, frames would leave the client already addressed to a real
 * server and bypass the director. So the Ethernet, IPv4 and UDP headers are
 * copied from gen_cfg into each frame, and the UDP source port takes the next
 * value of a small range, so the director sees `flows` distinct flows. The
 * UDP checksum is zero ("none", allowed for IPv4 by RFC 768), so changing the
 * port needs no checksum update.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#define GEN_HDR_LEN (sizeof(struct ethhdr) + sizeof(struct iphdr) + sizeof(struct udphdr))

struct gen_cfg {
	__u8 hdr[48];	  /* Ethernet + IPv4 (no options) + UDP headers, first GEN_HDR_LEN bytes */
	__u16 base_port;  /* first UDP source port, host order */
	__u16 flows;	  /* number of source ports used, >= 1 */
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
	struct udphdr *udp = data + sizeof(struct ethhdr) + sizeof(struct iphdr);
	struct gen_cfg *cfg;
	__u64 *sent;
	__u32 zero = 0;

	if ((void *)(udp + 1) > data_end)
		return XDP_ABORTED;
	cfg = bpf_map_lookup_elem(&gen_cfg, &zero);
	sent = bpf_map_lookup_elem(&gen_sent, &zero);
	if (!cfg || !sent || cfg->flows == 0)
		return XDP_ABORTED;
	__builtin_memcpy(data, cfg->hdr, GEN_HDR_LEN);
	udp->source = bpf_htons(cfg->base_port + (__u16)(*sent % cfg->flows));
	*sent += 1;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
