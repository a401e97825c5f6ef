/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Every map of the forwarder. Names are part of the userspace contract
 * (forwarder/loader.ts finds them and pins them by name: MAP_NAMES).
 * Sizes marked "loader" are defaults the loader may change before load.
 */
#ifndef DSR_MAPS_H
#define DSR_MAPS_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include "dsr_shared.h"

/*
 * VIP -> the end of this director's lease on it, bpf_ktime_get_ns() (CLOCK_MONOTONIC). Quorum mode
 * writes it (docs/quorum.md); a VIP not in the map is not guarded (VRRP mode).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DSR_MAX_VIPS);
	__type(key, struct dsr_vip_key);
	__type(value, __u64);
} vip_leases SEC(".maps");

/* (VIP, proto, port) -> service id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, DSR_MAX_SERVICES);
	__type(key, struct dsr_svc_key);
	__type(value, __u32);
} svc_ids SEC(".maps");

/* service id -> service. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DSR_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct dsr_svc);
} services SEC(".maps");

/* real id -> real server. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DSR_MAX_REALS);
	__type(key, __u32);
	__type(value, struct dsr_real);
} reals SEC(".maps");

/*
 * Maglev tables: service id -> inner array of M real ids. Userspace fills a
 * fresh inner map and swaps the outer slot, so a packet sees either the whole
 * old table or the whole new one. BPF_F_INNER_MAP lets each service have its
 * own M; the template size below is only the default.
 */
struct maglev_inner {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, DSR_MAGLEV_DEFAULT_SIZE);
	__uint(map_flags, BPF_F_INNER_MAP);
	__type(key, __u32);
	__type(value, __u32);
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, DSR_MAX_SERVICES);
	__type(key, __u32);
	__array(values, struct maglev_inner);
} maglev_tables SEC(".maps");

/* Connection tables, IPv4 and IPv6 (loader: max entries). LRU evicts the coldest when full. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, DSR_CONN_DEFAULT_ENTRIES);
	__type(key, struct dsr_flow4);
	__type(value, struct dsr_conn);
} conns4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, DSR_CONN_DEFAULT_ENTRIES);
	__type(key, struct dsr_flow);
	__type(value, struct dsr_conn);
} conns6 SEC(".maps");

/* (masked client, service) -> persistence entry (loader: max entries). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, DSR_PERSIST_DEFAULT_ENTRIES);
	__type(key, struct dsr_persist_key);
	__type(value, struct dsr_persist);
} persist SEC(".maps");

/* (src, dst, IP id, proto) -> the first fragment's real (loader: max entries). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, DSR_FRAG_DEFAULT_ENTRIES);
	__type(key, struct dsr_frag_key);
	__type(value, struct dsr_frag);
} frags SEC(".maps");

/* Egress devices for real servers behind another interface: ifindex -> ifindex. */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} tx_devs SEC(".maps");

/* Global settings, one entry. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dsr_config);
} config SEC(".maps");

/* New flows, flow updates and persistence entries (loader: size). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, DSR_EVENTS_DEFAULT_BYTES);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DSR_MAX_SERVICES);
	__type(key, __u32);
	__type(value, struct dsr_traffic);
} svc_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DSR_MAX_REALS);
	__type(key, __u32);
	__type(value, struct dsr_traffic);
} real_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, DSR_R_MAX);
	__type(key, __u32);
	__type(value, struct dsr_traffic);
} reason_stats SEC(".maps");

#endif /* DSR_MAPS_H */
