/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Contract for the per-container firewall (cgroup_fw.bpf.c): cgroup_skb
 * egress and ingress programs attached to each selected container's cgroup.
 * Rules, counters, config and the slot scheme are shared with the XDP
 * firewall (xdp_fw.h).
 *
 * DNS names: a query's QNAME (wire format, lower-cased) is hashed with a
 * polynomial hash H(s) = sum s[k] * B^k mod 2^64.  Because B is odd it has
 * an inverse mod 2^64, so one forward pass over the name yields the hash of
 * every label suffix: H(s[i..]) = (G(n) - G(i)) * B^-i, with G the running
 * sum.  User space stores H of the wire form of "evil.test" once; the
 * kernel finds it for "a.evil.test", "b.c.evil.test" (wildcard) or
 * "evil.test" (exact) without any string copying.
 */
#ifndef CTW_CGROUP_FW_H
#define CTW_CGROUP_FW_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#include "xdp_fw.h"

#define CTW_DNS_HASH_B 0x100000001b3ULL
#define CTW_DNS_HASH_B_INV 0xce965057aff6957bULL /* B * B_INV == 1 mod 2^64 */
#define CTW_DNS_MAX_NAME 255
#define CTW_DNS_MAX_LABELS 64

/* cgroup LPM keys: prefixlen = 32 (slot/dir) + 64 (cgroup) + address bits */
struct ctw_cg_lpm4_key {
	__u32 prefixlen;
	__u32 slot_dir; /* big endian (slot << 1 | dir) */
	__u64 cgroup_id;
	__u8 addr[4];
	__u32 __pad; /* never inside the prefix */
};
_Static_assert(sizeof(struct ctw_cg_lpm4_key) == 24, "ABI: ctw_cg_lpm4_key");

struct ctw_cg_lpm6_key {
	__u32 prefixlen;
	__u32 slot_dir;
	__u64 cgroup_id;
	__u8 addr[16];
};
_Static_assert(sizeof(struct ctw_cg_lpm6_key) == 32, "ABI: ctw_cg_lpm6_key");

#define CTW_CG_LPM_FIXED_BITS 96

/* ctw_cg_dns key: a name (suffix) hash for one container in one slot. */
struct ctw_cg_dns_key {
	__u32 slot;
	__u32 __pad;
	__u64 cgroup_id;
	__u64 hash;
};
_Static_assert(sizeof(struct ctw_cg_dns_key) == 24, "ABI: ctw_cg_dns_key");

#define CTW_DNS_F_EXACT 0x1 /* the name itself */
#define CTW_DNS_F_WILD 0x2  /* any name strictly below it ("*.name") */

struct ctw_cg_dns_val {
	__u16 exact_rule;
	__u16 wild_rule;
	__u8 flags;
	__u8 __pad[3];
};
_Static_assert(sizeof(struct ctw_cg_dns_val) == 8, "ABI: ctw_cg_dns_val");

/*
 * DNS allow-list mode: a DNS response a container receives for a name an
 * `allow` DNS rule covers teaches the kernel its A/AAAA addresses; egress to
 * a learned address is allowed (counted under that rule) until the
 * record's TTL runs out.  Checked after the CIDR rules, before the default,
 * so with `default: {egress: deny}` a container reaches only what DNS gave
 * it for allowed names -- also while no agent runs.
 */
#define CTW_DNS_LEARN_MIN_TTL 2 /* seconds: TTL 0 answers still usable */
#define CTW_DNS_LEARN_MAX_TTL 86400
#define CTW_DNS_LEARN_MAX_ANSWERS 16

/* ctw_cg_learned key: container and address (IPv4 as ::ffff:a.b.c.d). */
struct ctw_cg_learn_key {
	__u64 cgroup_id;
	__u8 addr[16];
};
_Static_assert(sizeof(struct ctw_cg_learn_key) == 24, "ABI: ctw_cg_learn_key");

struct ctw_cg_learn_val {
	__u64 expires_ns; /* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	__u16 rule;	  /* the allow DNS rule that matched the question */
	__u16 __pad[3];
};
_Static_assert(sizeof(struct ctw_cg_learn_val) == 16, "ABI: ctw_cg_learn_val");

#endif /* CTW_CGROUP_FW_H */
