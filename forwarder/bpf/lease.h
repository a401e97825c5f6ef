/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The kernel's end of a VIP lease (quorum mode, docs/quorum.md). The leader's VIPs are addresses
 * on its interface, which the kernel answers ARP and neighbour solicitations for whatever the
 * daemon does: a stopped (SIGSTOP) or killed daemon cannot take them off when its lease ends. So
 * the daemon writes each VIP's lease end into vip_leases, and here a request for a VIP whose lease
 * has ended is dropped before the kernel sees it: clients and routers stop learning this MAC for
 * the VIP on time, whatever the process does. Frames of the VIP's flows are not touched: they are
 * still forwarded (clients whose cache names this MAC lose nothing while it moves).
 */
#ifndef DSR_LEASE_H
#define DSR_LEASE_H

#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include "dsr_shared.h"
#include "maps.h"
#include "parse.h"

#define DSR_ARP_REQUEST 1
#define DSR_ICMPV6_NEIGHBOR_SOLICIT 135

/* ARP for IPv4 over Ethernet (RFC 826): hardware type, protocol type, sizes, operation, then addresses. */
struct dsr_arp {
	__be16 htype;
	__be16 ptype;
	__u8 hlen;
	__u8 plen;
	__be16 oper;
	__u8 sha[ETH_ALEN];
	__u8 spa[4];
	__u8 tha[ETH_ALEN];
	__u8 tpa[4];
} __attribute__((packed));

static __always_inline int dsr_lease_ended(struct dsr_vip_key *key)
{
	__u64 *until = bpf_map_lookup_elem(&vip_leases, key);

	return until && bpf_ktime_get_ns() >= *until;
}

/*
 * 1: an ARP request for a VIP whose lease has ended. Called for frames dsr_parse found not to be
 * IP, so the frames of flows never come here.
 */
static __always_inline int dsr_lease_ended_arp(struct xdp_md *ctx)
{
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = (void *)(long)ctx->data;
	struct dsr_arp *arp = (void *)(eth + 1);
	struct dsr_vip_key key = {};

	if ((void *)(eth + 1) > end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_8021Q)) {
		struct dsr_vlan_hdr *vh = (void *)(eth + 1);

		if ((void *)(vh + 1) > end || vh->proto != bpf_htons(ETH_P_ARP))
			return 0;
		arp = (void *)(vh + 1);
	} else if (eth->h_proto != bpf_htons(ETH_P_ARP)) {
		return 0;
	}
	if ((void *)(arp + 1) > end || arp->oper != bpf_htons(DSR_ARP_REQUEST) ||
	    arp->ptype != bpf_htons(ETH_P_IP) || arp->plen != 4)
		return 0;
	__builtin_memcpy(&key.addr[0], arp->tpa, 4);
	key.family = DSR_AF_INET;
	return dsr_lease_ended(&key);
}

/*
 * 1: a neighbour solicitation (RFC 4861 §4.3) for a VIP whose lease has ended. Called for the
 * ICMP frames dsr_parse found, with its parse (p->l4: the ICMPv6 header).
 */
static __always_inline int dsr_lease_ended_ns(struct xdp_md *ctx, const struct dsr_pkt *p)
{
	void *end = (void *)(long)ctx->data_end;
	__u8 *icmp = p->l4;
	struct dsr_vip_key key = {};

	/* type, code, checksum, reserved (8 bytes), then the target address */
	if (p->flow.proto != IPPROTO_ICMPV6 || (void *)(icmp + 24) > end || icmp[0] != DSR_ICMPV6_NEIGHBOR_SOLICIT)
		return 0;
	__builtin_memcpy(key.addr, icmp + 8, 16);
	key.family = DSR_AF_INET6;
	return dsr_lease_ended(&key);
}

#endif /* DSR_LEASE_H */
