/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Flow hash for Maglev slot choice. forwarder/flow-hash.ts computes the same
 * numbers; every director must agree, so this definition is part of the
 * cluster protocol:
 *
 *   words  = the values below, each a 32-bit number read big-endian (network
 *            order) from the packet, so the result does not depend on the
 *            host's byte order;
 *   hash   = jhash2(words, n, seed)  -- Bob Jenkins' lookup3 hashword(), as
 *            the Linux kernel's jhash2(), initval = config.hash_seed;
 *   slot   = hash % M.
 *
 * Flow hash (n = 10): src[0..3], dst[0..3], (sport << 16) | dport, proto.
 * IPv4 addresses fill word 0 and leave words 1..3 zero.
 * Client hash (n = 4, persistence services): the masked client address.
 *
 * Only new flows are hashed, so the cost is off the established path.
 */
#ifndef DSR_HASH_H
#define DSR_HASH_H

#include <linux/types.h>
#include <bpf/bpf_endian.h>
#include "dsr_shared.h"

static __always_inline __u32 dsr_rol32(__u32 w, unsigned int s)
{
	return (w << s) | (w >> (32 - s));
}

#define DSR_JHASH_MIX(a, b, c)                                                                     \
	do {                                                                                       \
		a -= c; a ^= dsr_rol32(c, 4);  c += b;                                             \
		b -= a; b ^= dsr_rol32(a, 6);  a += c;                                             \
		c -= b; c ^= dsr_rol32(b, 8);  b += a;                                             \
		a -= c; a ^= dsr_rol32(c, 16); c += b;                                             \
		b -= a; b ^= dsr_rol32(a, 19); a += c;                                             \
		c -= b; c ^= dsr_rol32(b, 4);  b += a;                                             \
	} while (0)

#define DSR_JHASH_FINAL(a, b, c)                                                                   \
	do {                                                                                       \
		c ^= b; c -= dsr_rol32(b, 14);                                                     \
		a ^= c; a -= dsr_rol32(c, 11);                                                     \
		b ^= a; b -= dsr_rol32(a, 25);                                                     \
		c ^= b; c -= dsr_rol32(b, 16);                                                     \
		a ^= c; a -= dsr_rol32(c, 4);                                                      \
		b ^= a; b -= dsr_rol32(a, 14);                                                     \
		c ^= b; c -= dsr_rol32(b, 24);                                                     \
	} while (0)

#define DSR_JHASH_INITVAL 0xdeadbeefu

static __always_inline __u32 dsr_hash_flow(const struct dsr_flow *f, __u32 seed)
{
	__u32 a, b, c;

	a = b = c = DSR_JHASH_INITVAL + (10u << 2) + seed;
	a += bpf_ntohl(f->src[0]);
	b += bpf_ntohl(f->src[1]);
	c += bpf_ntohl(f->src[2]);
	DSR_JHASH_MIX(a, b, c);
	a += bpf_ntohl(f->src[3]);
	b += bpf_ntohl(f->dst[0]);
	c += bpf_ntohl(f->dst[1]);
	DSR_JHASH_MIX(a, b, c);
	a += bpf_ntohl(f->dst[2]);
	b += bpf_ntohl(f->dst[3]);
	c += ((__u32)bpf_ntohs(f->sport) << 16) | bpf_ntohs(f->dport);
	DSR_JHASH_MIX(a, b, c);
	a += f->proto;
	DSR_JHASH_FINAL(a, b, c);
	return c;
}

static __always_inline __u32 dsr_hash_client(const __u32 *addr, __u32 seed)
{
	__u32 a, b, c;

	a = b = c = DSR_JHASH_INITVAL + (4u << 2) + seed;
	a += bpf_ntohl(addr[0]);
	b += bpf_ntohl(addr[1]);
	c += bpf_ntohl(addr[2]);
	DSR_JHASH_MIX(a, b, c);
	a += bpf_ntohl(addr[3]);
	DSR_JHASH_FINAL(a, b, c);
	return c;
}

#endif /* DSR_HASH_H */
