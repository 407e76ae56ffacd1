/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * The BPF side of the firewall that both programs (xdp_fw.bpf.c and
 * cgroup_fw.bpf.c) share: the maps both use and the rule matching.  The
 * contract with user space (structs, constants, pin names) is xdp_fw.h.
 */
#ifndef CTW_FW_SHARED_BPF_H
#define CTW_FW_SHARED_BPF_H

#include "xdp_fw.h"
/*
 * Maps shared by both programs: declared identically in each object and
 * pinned by name, so the second object to load reuses the first one's.
 */

/* key: 0; value: active slot and per-slot defaults */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct ctw_fw_cfg);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ctw_pol_cfg SEC(".maps");

/* key: slot * CTW_FW_MAX_RULES + rule id; value: compiled rule */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CTW_FW_SLOTS *CTW_FW_MAX_RULES);
	__type(key, __u32);
	__type(value, struct ctw_fw_rule);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ctw_pol_rules SEC(".maps");

/* key: slot * CTW_FW_CNT_PER_SLOT + rule id (or extra counter);
 * value: packets and bytes, per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, CTW_FW_SLOTS *CTW_FW_CNT_PER_SLOT);
	__type(key, __u32);
	__type(value, struct ctw_fw_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ctw_pol_stats SEC(".maps");

/* key: slot * CTW_FW_MAX_RULES + rule id; value: name and summary (user
 * space only) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CTW_FW_SLOTS *CTW_FW_MAX_RULES);
	__type(key, __u32);
	__type(value, struct ctw_fw_meta);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ctw_pol_meta SEC(".maps");

/* key: index; value: where an XDP or cgroup link is attached (user space
 * only) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, CTW_FW_MAX_ATTACH);
	__type(key, __u32);
	__type(value, struct ctw_fw_attach);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ctw_pol_attach SEC(".maps");

static __always_inline void ctw_fw_count(__u32 slot, __u32 idx, __u64 bytes)
{
	__u32 key = slot * CTW_FW_CNT_PER_SLOT + idx;
	struct ctw_fw_counter *c = bpf_map_lookup_elem(&ctw_pol_stats, &key);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

/* Does the rule's protocol and port list accept this packet?  `ports_known`
 * is false for non-first fragments: rules that name ports do not match them
 * (the first fragment, which carries the ports, was already judged). */
static __always_inline int ctw_fw_l4_match(const struct ctw_fw_rule *r, __u8 proto, int is_icmp,
					   __u16 sport, __u16 dport, int ports_known)
{
	int i;

	if (r->flags & CTW_FW_F_ICMP) {
		if (!is_icmp)
			return 0;
	} else if (r->proto && r->proto != proto) {
		return 0;
	}
	if (r->n_dports || r->n_sports) {
		if (!ports_known)
			return 0;
	}
	if (r->n_dports) {
		int hit = 0;
		for (i = 0; i < CTW_FW_MAX_PORTS; i++) {
			if (i >= r->n_dports)
				break;
			if (dport >= r->dport_lo[i] && dport <= r->dport_hi[i]) {
				hit = 1;
				break;
			}
		}
		if (!hit)
			return 0;
	}
	if (r->n_sports) {
		int hit = 0;
		for (i = 0; i < CTW_FW_MAX_PORTS; i++) {
			if (i >= r->n_sports)
				break;
			if (sport >= r->sport_lo[i] && sport <= r->sport_hi[i]) {
				hit = 1;
				break;
			}
		}
		if (!hit)
			return 0;
	}
	return 1;
}

#endif /* CTW_FW_SHARED_BPF_H */
