// SPDX-License-Identifier: GPL-2.0
/*
 * xdp_pass: returns XDP_PASS for every frame.
 *
 * Why it exists: on a veth pair, frames sent with XDP_TX (or redirected into
 * the pair) are only delivered when the *peer* end has an XDP program
 * attached, because veth hands XDP frames to the peer's NAPI poll, which is
 * only set up while a program is present. The lab attaches this program to
 * the bridge-side end of every host veth so the forwarder's XDP_TX reaches the
 * bridge. Never attach the forwarder itself on both ends of one veth: frames
 * would loop forever.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int xdp_pass(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
