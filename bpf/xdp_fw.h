/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Contract between the policy firewall programs (xdp_fw.bpf.c,
 * cgroup_fw.bpf.c) and policy/ in user space.
 *
 * A compiled policy lives in one of two slots.  Every map that holds policy
 * is indexed (array maps) or keyed (LPM tries, hash) by slot, and the shared
 * config map names the active slot.  Applying a policy fills the inactive
 * slot completely, then flips `active` with one map update: a packet sees
 * either the old policy or the new one, never a mix.
 *
 * Lookup: an LPM trie maps a source prefix (XDP) or (cgroup, direction,
 * remote prefix) to the list of rules whose CIDRs cover that prefix, in file
 * order.  The program walks that list and the first rule whose protocol,
 * ports (and interface) match decides.  No match: the scope's default.
 */
#ifndef CTW_XDP_FW_H
#define CTW_XDP_FW_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define CTW_FW_SLOTS 2
#define CTW_FW_MAX_RULES 256 /* rules per policy */
#define CTW_FW_MAX_MATCH 15  /* rules that may cover one prefix */
#define CTW_FW_MAX_PORTS 8   /* port ranges per rule and side */
#define CTW_FW_MAX_IFS 8     /* interfaces named by one XDP rule */

/* Counter index past the rules, per slot: what no rule decided. */
enum ctw_fw_extra_counter {
	CTW_FW_CNT_XDP_DEFAULT = 0, /* XDP: IP packet no rule matched */
	CTW_FW_CNT_EGRESS_DEFAULT,  /* containers, egress, no rule matched */
	CTW_FW_CNT_INGRESS_DEFAULT, /* containers, ingress, no rule matched */
	CTW_FW_CNT_XDP_NON_IP,	    /* XDP: ARP, LLDP, ... always passed */
	CTW_FW_CNT_XDP_FRAGMENT,    /* XDP: non-first fragments seen */
	CTW_FW_CNT_XDP_MALFORMED,   /* XDP: truncated headers, passed */
	CTW_FW_CNT_EXTRA = 8,
};
#define CTW_FW_CNT_PER_SLOT (CTW_FW_MAX_RULES + CTW_FW_CNT_EXTRA)

enum ctw_fw_action {
	CTW_FW_ALLOW = 0,
	CTW_FW_DENY = 1,
};

enum ctw_fw_scope {
	CTW_FW_SCOPE_XDP = 0,
	CTW_FW_SCOPE_CONTAINER = 1,
};

enum ctw_fw_dir {
	CTW_FW_INGRESS = 0,
	CTW_FW_EGRESS = 1,
};

/* Rule flags. */
#define CTW_FW_F_ICMP 0x01 /* proto "icmp": ICMP on IPv4, ICMPv6 on IPv6 */
#define CTW_FW_F_DNS 0x02  /* a DNS-name rule (cgroup egress only) */

/* ctw_pol_rules value: one compiled rule.  Ports are host byte order,
 * inclusive ranges; n_dports == 0 means any destination port. */
struct ctw_fw_rule {
	__u16 dport_lo[CTW_FW_MAX_PORTS];
	__u16 dport_hi[CTW_FW_MAX_PORTS];
	__u16 sport_lo[CTW_FW_MAX_PORTS];
	__u16 sport_hi[CTW_FW_MAX_PORTS];
	__u32 ifindex[CTW_FW_MAX_IFS]; /* XDP: n_ifs == 0 means every interface */
	__u8 action;		       /* enum ctw_fw_action */
	__u8 proto;		       /* IPPROTO_*, 0 = any */
	__u8 n_dports;
	__u8 n_sports;
	__u8 n_ifs;
	__u8 scope; /* enum ctw_fw_scope */
	__u8 flags; /* CTW_FW_F_* */
	__u8 valid; /* 1 when the slot holds this rule */
};
_Static_assert(sizeof(struct ctw_fw_rule) == 104, "ABI: ctw_fw_rule");

/* LPM value: the rules covering a prefix, in file (priority) order. */
struct ctw_fw_match {
	__u16 n;
	__u16 ids[CTW_FW_MAX_MATCH];
};
_Static_assert(sizeof(struct ctw_fw_match) == 32, "ABI: ctw_fw_match");

/* XDP LPM keys: prefixlen counts the 32 slot bits plus the address bits. */
struct ctw_xdp_lpm4_key {
	__u32 prefixlen;
	__u32 slot; /* big endian, so the slot is the top of the prefix */
	__u8 addr[4];
};
_Static_assert(sizeof(struct ctw_xdp_lpm4_key) == 12, "ABI: ctw_xdp_lpm4_key");

struct ctw_xdp_lpm6_key {
	__u32 prefixlen;
	__u32 slot;
	__u8 addr[16];
};
_Static_assert(sizeof(struct ctw_xdp_lpm6_key) == 24, "ABI: ctw_xdp_lpm6_key");

#define CTW_FW_LPM_SLOT_BITS 32

/* ctw_pol_stats value (per CPU). */
struct ctw_fw_counter {
	__u64 packets;
	__u64 bytes;
};
_Static_assert(sizeof(struct ctw_fw_counter) == 16, "ABI: ctw_fw_counter");

/* Defaults and bookkeeping of one slot. */
struct ctw_fw_slot_cfg {
	__u8 xdp_default; /* enum ctw_fw_action */
	__u8 egress_default;
	__u8 ingress_default;
	__u8 dns_default; /* reserved: allow-list mode */
	__u32 n_rules;
	__u64 generation;  /* counts applies since the maps were made */
	__u64 applied_ns;  /* CLOCK_REALTIME of the apply */
	__u64 source_hash; /* FNV-1a of the policy text */
	char source[256];  /* path of the policy file */
};
_Static_assert(sizeof(struct ctw_fw_slot_cfg) == 288, "ABI: ctw_fw_slot_cfg");

/* ctw_pol_cfg value (one entry). */
struct ctw_fw_cfg {
	__u32 active; /* slot the programs use */
	__u32 __pad;
	struct ctw_fw_slot_cfg slot[CTW_FW_SLOTS];
};
_Static_assert(sizeof(struct ctw_fw_cfg) == 584, "ABI: ctw_fw_cfg");

/* Where an XDP link sits, recorded at attach time for `policy show`. */
#define CTW_FW_MAX_ATTACH 64
struct ctw_fw_attach {
	char ifname[16];
	__u32 ifindex;
	__u32 mode;	 /* XDP_ATTACHED_DRV / _SKB */
	__u64 cgroup_id; /* cgroup attachments: the cgroup, else 0 */
};
_Static_assert(sizeof(struct ctw_fw_attach) == 32, "ABI: ctw_fw_attach");

/* ctw_pol_meta value: what `policy show` prints for one rule (user space
 * only; kept in a pinned map so it outlives the process that applied). */
struct ctw_fw_meta {
	char name[64];
	char desc[184]; /* compact match summary */
	__u32 line;
	__u8 action;
	__u8 scope;
	__u8 dir;
	__u8 __pad;
};
_Static_assert(sizeof(struct ctw_fw_meta) == 256, "ABI: ctw_fw_meta");

/* Pin names (directory: ctw_pin_dir()/policy). */
#define CTW_FW_PIN_SUBDIR "policy"

#endif /* CTW_XDP_FW_H */
