/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Frame parsing: Ethernet with at most one 802.1Q tag, IPv4 (with options),
 * IPv6 (with up to DSR_IPV6_MAX_EXT extension headers), then TCP/UDP ports.
 * Nothing here writes to the packet.
 */
#ifndef DSR_PARSE_H
#define DSR_PARSE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <bpf/bpf_endian.h>
#include "dsr_shared.h"

#define DSR_IPV6_MAX_EXT 4

#define DSR_FRAG_NONE 0
#define DSR_FRAG_FIRST 1 /* offset 0, more fragments follow: carries the L4 header */
#define DSR_FRAG_LATER 2 /* offset > 0: no L4 header */

#define DSR_TCP_FIN 0x01
#define DSR_TCP_SYN 0x02
#define DSR_TCP_RST 0x04
#define DSR_TCP_ACK 0x10

/* IPv4 frag_off bits (RFC 791 section 3.1) */
#define DSR_IP_MF 0x2000
#define DSR_IP_OFFSET 0x1fff

enum dsr_parse {
	DSR_P_L4,	  /* TCP or UDP with ports parsed */
	DSR_P_NOT_IP,	  /* not IPv4/IPv6 */
	DSR_P_MALFORMED,  /* a header is truncated or invalid */
	DSR_P_ICMP,	  /* ICMP/ICMPv6: p->l4 points at the ICMP header */
	DSR_P_OTHER,	  /* another L4 protocol, or an IPv6 header chain we do not follow */
	DSR_P_FRAG_LATER, /* non-first fragment of TCP/UDP */
};

struct dsr_vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct dsr_ipv6_ext {
	__u8 nexthdr;
	__u8 hdrlen; /* in 8-octet units, not counting the first 8 (RFC 8200 section 4.3) */
};

struct dsr_ipv6_frag {
	__u8 nexthdr;
	__u8 reserved;
	__be16 frag_off; /* offset << 3 | M flag (RFC 8200 section 4.5) */
	__be32 id;
};

struct dsr_pkt {
	struct dsr_flow flow;
	void *l4;	   /* L4 header (packet pointer) */
	__u32 frag_id;
	__u8 frag;	   /* DSR_FRAG_* */
	__u8 tcp_flags;
	__u8 tagged;	   /* the frame carries an 802.1Q tag */
	__u8 pad;
};

static __always_inline int dsr_parse_ipv4(void *l3, void *end, struct dsr_pkt *p)
{
	struct iphdr *ip = l3;
	__u32 hlen;
	__u16 frag_off;

	if ((void *)(ip + 1) > end)
		return DSR_P_MALFORMED;
	hlen = ip->ihl * 4;
	if (ip->version != 4 || hlen < sizeof(*ip))
		return DSR_P_MALFORMED;
	p->flow.family = DSR_AF_INET;
	p->flow.proto = ip->protocol;
	p->flow.src[0] = ip->saddr;
	p->flow.dst[0] = ip->daddr;
	frag_off = bpf_ntohs(ip->frag_off);
	if (frag_off & (DSR_IP_MF | DSR_IP_OFFSET)) {
		p->frag = (frag_off & DSR_IP_OFFSET) ? DSR_FRAG_LATER : DSR_FRAG_FIRST;
		p->frag_id = ip->id;
	}
	p->l4 = l3 + hlen;
	return DSR_P_L4;
}

static __always_inline int dsr_parse_ipv6(void *l3, void *end, struct dsr_pkt *p)
{
	struct ipv6hdr *ip6 = l3;
	void *cur;
	__u8 next;

	if ((void *)(ip6 + 1) > end)
		return DSR_P_MALFORMED;
	if (ip6->version != 6)
		return DSR_P_MALFORMED;
	p->flow.family = DSR_AF_INET6;
	__builtin_memcpy(p->flow.src, &ip6->saddr, 16);
	__builtin_memcpy(p->flow.dst, &ip6->daddr, 16);
	next = ip6->nexthdr;
	cur = ip6 + 1;

#pragma unroll
	for (int i = 0; i < DSR_IPV6_MAX_EXT; i++) {
		if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS) {
			struct dsr_ipv6_ext *ext = cur;

			if ((void *)(ext + 1) > end)
				return DSR_P_MALFORMED;
			next = ext->nexthdr;
			cur += (ext->hdrlen + 1) * 8;
		} else if (next == IPPROTO_FRAGMENT) {
			struct dsr_ipv6_frag *fh = cur;
			__u16 off;

			if ((void *)(fh + 1) > end)
				return DSR_P_MALFORMED;
			next = fh->nexthdr;
			off = bpf_ntohs(fh->frag_off);
			/* offset 0 with M clear is an atomic fragment: a whole packet (RFC 6946) */
			if (off & 0xfff9) {
				p->frag = (off & 0xfff8) ? DSR_FRAG_LATER : DSR_FRAG_FIRST;
				p->frag_id = fh->id;
			}
			cur = fh + 1;
		} else {
			break;
		}
	}
	if (next == IPPROTO_HOPOPTS || next == IPPROTO_ROUTING || next == IPPROTO_DSTOPTS ||
	    next == IPPROTO_FRAGMENT)
		return DSR_P_OTHER;
	p->flow.proto = next;
	p->l4 = cur;
	return DSR_P_L4;
}

/* Fills p; returns enum dsr_parse. */
static __always_inline int dsr_parse(struct xdp_md *ctx, struct dsr_pkt *p)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	void *l3 = eth + 1;
	__be16 proto;
	int rc;

	if ((void *)(eth + 1) > end)
		return DSR_P_MALFORMED;
	proto = eth->h_proto;
	if (proto == bpf_htons(ETH_P_8021Q)) {
		struct dsr_vlan_hdr *vh = l3;

		if ((void *)(vh + 1) > end)
			return DSR_P_MALFORMED;
		proto = vh->proto;
		l3 = vh + 1;
		p->tagged = 1;
	}
	if (proto == bpf_htons(ETH_P_IP))
		rc = dsr_parse_ipv4(l3, end, p);
	else if (proto == bpf_htons(ETH_P_IPV6))
		rc = dsr_parse_ipv6(l3, end, p);
	else
		return DSR_P_NOT_IP;
	if (rc != DSR_P_L4)
		return rc;

	if (p->flow.proto == IPPROTO_ICMP || p->flow.proto == IPPROTO_ICMPV6)
		return DSR_P_ICMP;
	if (p->flow.proto != IPPROTO_TCP && p->flow.proto != IPPROTO_UDP)
		return DSR_P_OTHER;
	if (p->frag == DSR_FRAG_LATER)
		return DSR_P_FRAG_LATER;

	if (p->flow.proto == IPPROTO_TCP) {
		/* ports (4 bytes), seq, ack, data offset, flags: 14 bytes reach the flags */
		__u8 *tcp = p->l4;

		if ((void *)(tcp + 20) > end)
			return DSR_P_MALFORMED;
		p->flow.sport = *(__u16 *)tcp;
		p->flow.dport = *(__u16 *)(tcp + 2);
		p->tcp_flags = tcp[13];
	} else {
		__u8 *udp = p->l4;

		if ((void *)(udp + 8) > end)
			return DSR_P_MALFORMED;
		p->flow.sport = *(__u16 *)udp;
		p->flow.dport = *(__u16 *)(udp + 2);
	}
	return DSR_P_L4;
}

#endif /* DSR_PARSE_H */
