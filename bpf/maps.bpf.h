/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Map helpers every program uses (BPF side only), as libbpf-tools'
 * maps.bpf.h: written once here instead of once per program.
 */
#ifndef CTW_MAPS_BPF_H
#define CTW_MAPS_BPF_H

#include <bpf/bpf_helpers.h>

/* The value at key in a hash map, created from init when absent.  Another
 * CPU may create it between the lookup and the update: BPF_NOEXIST then
 * fails and the second lookup finds theirs.  NULL only when the map is full. */
static __always_inline void *ctw_map_lookup_or_init(void *map, const void *key, const void *init)
{
	void *v = bpf_map_lookup_elem(map, key);

	if (v)
		return v;
	bpf_map_update_elem(map, key, init, BPF_NOEXIST);
	return bpf_map_lookup_elem(map, key);
}

/* One more at idx of a per-CPU array of __u64 counters (events lost,
 * records that did not fit): no atomics needed, each CPU has its own. */
static __always_inline void ctw_count_percpu(void *map, __u32 idx)
{
	__u64 *n = bpf_map_lookup_elem(map, &idx);

	if (n)
		(*n)++;
}

#endif /* CTW_MAPS_BPF_H */
