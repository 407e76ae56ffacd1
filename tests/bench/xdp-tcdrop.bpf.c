// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * The "tc" contender of tests/bench/xdp-bench.sh: a tc (clsact ingress,
 * direct-action) BPF program dropping IPv4 packets whose source is in an
 * LPM trie -- the same lookup as ctrwatch's XDP firewall, one hook later
 * (after the skb is built).  This kernel has no tc flower/u32/gact, so a
 * BPF classifier is the tc filter there is.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct lpm_key {
	__u32 prefixlen;
	__u8 addr[4];
};

/* key: IPv4 source prefix; value: unused */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1 << 18);
	__type(key, struct lpm_key);
	__type(value, __u32);
	__uint(map_flags, BPF_F_NO_PREALLOC);
} deny SEC(".maps");

/* key: 0; value: packets dropped (per CPU) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

SEC("tc")
int tcdrop(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	struct lpm_key k = {.prefixlen = 32};
	__u32 zero = 0;

	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(0x0800))
		return 0; /* TC_ACT_OK */
	__builtin_memcpy(k.addr, &ip->saddr, 4);
	if (!bpf_map_lookup_elem(&deny, &k))
		return 0;
	__u64 *c = bpf_map_lookup_elem(&drops, &zero);
	if (c)
		(*c)++;
	return 2; /* TC_ACT_SHOT */
}
