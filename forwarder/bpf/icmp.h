/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Path MTU discovery through the director. A router between a real server
 * and the client answers a too-big reply (source VIP) with ICMP
 * "fragmentation needed" (RFC 792 type 3 code 4, RFC 1191) or ICMPv6
 * "packet too big" (RFC 4443 section 3.2, RFC 8201) addressed to the VIP, so
 * it reaches the director. The quoted header names the flow from the real
 * server's side (VIP -> client); reversed, it is the client's flow, and the
 * error goes to that flow's real server.
 */
#ifndef DSR_ICMP_H
#define DSR_ICMP_H

#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include "parse.h"

#define DSR_ICMP_DEST_UNREACH 3
#define DSR_ICMP_FRAG_NEEDED 4
#define DSR_ICMPV6_PKT_TOOBIG 2
#define DSR_ICMP_HDR_LEN 8

/* Fills q with the client's flow named by a too-big error; 0 on success. */
static __always_inline int dsr_icmp_flow(struct xdp_md *ctx, const struct dsr_pkt *p, struct dsr_pkt *q)
{
	void *end = (void *)(long)ctx->data_end;
	__u8 *icmp = p->l4;
	__u16 *ports;
	__u8 proto;

	if (p->frag != DSR_FRAG_NONE || (void *)(icmp + DSR_ICMP_HDR_LEN) > end)
		return -1;
	if (p->flow.family == DSR_AF_INET) {
		struct iphdr *ip = (void *)(icmp + DSR_ICMP_HDR_LEN);
		__u32 hlen;

		if (p->flow.proto != IPPROTO_ICMP || icmp[0] != DSR_ICMP_DEST_UNREACH ||
		    icmp[1] != DSR_ICMP_FRAG_NEEDED)
			return -1;
		if ((void *)(ip + 1) > end)
			return -1;
		hlen = ip->ihl * 4;
		/* the quote must be a VIP-sourced packet that still shows its ports */
		if (ip->version != 4 || hlen < sizeof(*ip) || ip->saddr != p->flow.dst[0] ||
		    (bpf_ntohs(ip->frag_off) & DSR_IP_OFFSET))
			return -1;
		proto = ip->protocol;
		ports = (void *)ip + hlen;
		q->flow.family = DSR_AF_INET;
		q->flow.src[0] = ip->daddr;
		q->flow.dst[0] = ip->saddr;
	} else {
		struct ipv6hdr *ip6 = (void *)(icmp + DSR_ICMP_HDR_LEN);
		__u32 *qsrc;

		if (p->flow.proto != IPPROTO_ICMPV6 || icmp[0] != DSR_ICMPV6_PKT_TOOBIG)
			return -1;
		if ((void *)(ip6 + 1) > end)
			return -1;
		qsrc = (__u32 *)&ip6->saddr;
		if (qsrc[0] != p->flow.dst[0] || qsrc[1] != p->flow.dst[1] || qsrc[2] != p->flow.dst[2] ||
		    qsrc[3] != p->flow.dst[3])
			return -1;
		proto = ip6->nexthdr;
		ports = (void *)(ip6 + 1);
		q->flow.family = DSR_AF_INET6;
		__builtin_memcpy(q->flow.src, &ip6->daddr, 16);
		__builtin_memcpy(q->flow.dst, &ip6->saddr, 16);
	}
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP)
		return -1;
	if ((void *)(ports + 2) > end)
		return -1;
	q->flow.proto = proto;
	q->flow.sport = ports[1];
	q->flow.dport = ports[0];
	q->tagged = p->tagged;
	return 0;
}

#endif /* DSR_ICMP_H */
