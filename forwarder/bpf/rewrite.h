/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Direct server return: only the Ethernet header changes. The destination
 * MAC becomes the real server's, the source MAC the director's; the IP
 * packet is untouched (the real server holds the VIP on its loopback).
 * An optional 802.1Q rewrite moves the frame onto the real server's VLAN.
 */
#ifndef DSR_REWRITE_H
#define DSR_REWRITE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "maps.h"
#include "counters.h"
#include "parse.h"

#define DSR_VID_MASK 0x0fff

/* Moves the frame to the real's VLAN; returns 0 or -1 (frame unusable). */
static __always_inline int dsr_retag(struct xdp_md *ctx, const struct dsr_real *r, __u8 tagged)
{
	void *data, *end;
	struct dsr_vlan_hdr *vh;

	if (r->vlan == DSR_VLAN_KEEP || (!tagged && r->vlan == DSR_VLAN_UNTAGGED))
		return 0;
	if (tagged && r->vlan == DSR_VLAN_UNTAGGED) {
		/* Dropping 4 bytes at the front lines the inner EtherType up after the MACs. */
		return bpf_xdp_adjust_head(ctx, (int)sizeof(struct dsr_vlan_hdr)) ? -1 : 0;
	}
	if (!tagged) {
		__be16 *tag;

		/* 4 bytes in front: the old EtherType lands right after the new tag. */
		if (bpf_xdp_adjust_head(ctx, -(int)sizeof(struct dsr_vlan_hdr)))
			return -1;
		data = (void *)(long)ctx->data;
		end = (void *)(long)ctx->data_end;
		tag = data + 2 * ETH_ALEN; /* TPID, then TCI */
		if ((void *)(tag + 2) > end)
			return -1;
		tag[0] = bpf_htons(ETH_P_8021Q);
		tag[1] = bpf_htons(r->vlan & DSR_VID_MASK);
		return 0;
	}
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	vh = data + sizeof(struct ethhdr);
	if ((void *)(vh + 1) > end)
		return -1;
	/* keep priority and DEI, replace the VID (IEEE 802.1Q section 9.6) */
	vh->tci = bpf_htons((bpf_ntohs(vh->tci) & ~DSR_VID_MASK) | (r->vlan & DSR_VID_MASK));
	return 0;
}

/* Rewrites the frame for real r and returns the XDP verdict. */
static __always_inline int dsr_send(struct xdp_md *ctx, const struct dsr_real *r, __u8 tagged)
{
	struct ethhdr *eth;
	void *end;

	if (dsr_retag(ctx, r, tagged)) {
		dsr_count_reason(DSR_R_DROP_ADJUST, 0);
		return XDP_DROP;
	}
	eth = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	if ((void *)(eth + 1) > end) {
		dsr_count_reason(DSR_R_DROP_ADJUST, 0);
		return XDP_DROP;
	}
	__builtin_memcpy(eth->h_dest, r->mac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, r->src_mac, ETH_ALEN);

	if (r->ifindex == 0 || r->ifindex == ctx->ingress_ifindex)
		return XDP_TX;
	if (bpf_redirect_map(&tx_devs, r->ifindex, 0) != XDP_REDIRECT) {
		dsr_count_reason(DSR_R_DROP_TX_DEVICE, (__u64)(end - (void *)eth));
		return XDP_DROP;
	}
	dsr_count_reason(DSR_R_TX_REDIRECT, (__u64)(end - (void *)eth));
	return XDP_REDIRECT;
}

#endif /* DSR_REWRITE_H */
