// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * XDP firewall: the policy's `interfaces:` rules, ingress on host (or test)
 * interfaces.  See xdp_fw.h for the slot scheme and rule semantics.
 *
 * Documented handling of odd traffic:
 *  - non-IP frames (ARP, LLDP, ...): always passed, counted in
 *    CTW_FW_CNT_XDP_NON_IP; the firewall is an IP filter.
 *  - VLAN: up to two 802.1Q / 802.1ad tags are skipped and the inner
 *    packet is judged like an untagged one.
 *  - IPv4 fragments (and IPv6 fragment headers): the first fragment carries
 *    the L4 header and is judged in full.  Later fragments have no ports:
 *    they are judged by source prefix and protocol only, so a rule that
 *    names ports does not match them (they cannot be reassembled once the
 *    first fragment is dropped).  Counted in CTW_FW_CNT_XDP_FRAGMENT too.
 *  - truncated headers: passed (the stack drops them), counted as
 *    CTW_FW_CNT_XDP_MALFORMED.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#include "fw_shared.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define ETH_P_8021Q 0x8100
#define ETH_P_8021AD 0x88A8
#define IPPROTO_ICMPV6_ 58
#define IP_MF_OFFSET 0x3fff
#define IP_OFFSET 0x1fff

struct ctw_vlan_hdr {
	__be16 tci;
	__be16 encap_proto;
};

/* key: {prefixlen = 32 + n, slot (be32), IPv4 source prefix};
 * value: rules covering that prefix, in file order */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1 << 20);
	__type(key, struct ctw_xdp_lpm4_key);
	__type(value, struct ctw_fw_match);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ctw_xdp_lpm4 SEC(".maps");

/* key: {prefixlen = 32 + n, slot (be32), IPv6 source prefix};
 * value: rules covering that prefix, in file order */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1 << 18);
	__type(key, struct ctw_xdp_lpm6_key);
	__type(value, struct ctw_fw_match);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ctw_xdp_lpm6 SEC(".maps");

struct pkt {
	__u32 ifindex;
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 is_icmp;
	__u8 ports_known;
};

static __always_inline int judge(const struct ctw_fw_match *m, __u32 slot, const struct pkt *p,
				 __u64 bytes)
{
	int i, j;

	for (i = 0; i < CTW_FW_MAX_MATCH; i++) {
		if (i >= m->n)
			break;
		__u32 id = m->ids[i];
		if (id >= CTW_FW_MAX_RULES)
			break;
		__u32 key = slot * CTW_FW_MAX_RULES + id;
		struct ctw_fw_rule *r = bpf_map_lookup_elem(&ctw_pol_rules, &key);
		if (!r || !r->valid || r->scope != CTW_FW_SCOPE_XDP)
			continue;
		if (r->n_ifs) {
			int hit = 0;
			for (j = 0; j < CTW_FW_MAX_IFS; j++) {
				if (j >= r->n_ifs)
					break;
				if (r->ifindex[j] == p->ifindex) {
					hit = 1;
					break;
				}
			}
			if (!hit)
				continue;
		}
		if (!ctw_fw_l4_match(r, p->proto, p->is_icmp, p->sport, p->dport, p->ports_known))
			continue;
		ctw_fw_count(slot, id, bytes);
		return r->action == CTW_FW_DENY ? XDP_DROP : XDP_PASS;
	}
	return -1;
}

/* Read the L4 ports at `l4` when the protocol has them. */
static __always_inline int read_ports(void *l4, void *end, struct pkt *p)
{
	if (p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP) {
		p->ports_known = 0;
		return 0;
	}
	if (!p->ports_known)
		return 0;
	__be16 *ports = l4;
	if ((void *)(ports + 2) > end)
		return -1;
	p->sport = bpf_ntohs(ports[0]);
	p->dport = bpf_ntohs(ports[1]);
	return 0;
}

SEC("xdp")
int ctw_xdp_fw(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u64 bytes = end - data;
	struct pkt p = {.ifindex = ctx->ingress_ifindex, .ports_known = 1};
	const struct ctw_fw_match *m = NULL;
	__u32 zero = 0, slot;
	__u16 h_proto;
	__u32 off;
	int i, verdict;

	struct ctw_fw_cfg *cfg = bpf_map_lookup_elem(&ctw_pol_cfg, &zero);
	if (!cfg)
		return XDP_PASS;
	slot = cfg->active & 1;

	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > end)
		goto malformed;
	h_proto = eth->h_proto;
	off = sizeof(*eth);
	for (i = 0; i < 2; i++) {
		if (h_proto != bpf_htons(ETH_P_8021Q) && h_proto != bpf_htons(ETH_P_8021AD))
			break;
		struct ctw_vlan_hdr *vh = data + off;
		if ((void *)(vh + 1) > end)
			goto malformed;
		h_proto = vh->encap_proto;
		off += sizeof(*vh);
	}

	if (h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *iph = data + off;
		if ((void *)(iph + 1) > end)
			goto malformed;
		__u32 ihl = iph->ihl * 4;
		if (ihl < sizeof(*iph))
			goto malformed;
		p.proto = iph->protocol;
		p.is_icmp = p.proto == IPPROTO_ICMP;
		if (iph->frag_off & bpf_htons(IP_OFFSET)) {
			p.ports_known = 0;
			ctw_fw_count(slot, CTW_FW_MAX_RULES + CTW_FW_CNT_XDP_FRAGMENT, bytes);
		}
		if (read_ports(data + off + ihl, end, &p) < 0)
			goto malformed;
		struct ctw_xdp_lpm4_key k = {
			.prefixlen = CTW_FW_LPM_SLOT_BITS + 32,
			.slot = bpf_htonl(slot),
		};
		__builtin_memcpy(k.addr, &iph->saddr, 4);
		m = bpf_map_lookup_elem(&ctw_xdp_lpm4, &k);
	} else if (h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = data + off;
		if ((void *)(ip6 + 1) > end)
			goto malformed;
		__u8 nexthdr = ip6->nexthdr;
		off += sizeof(*ip6);
		/* Skip up to four extension headers to reach the L4 header. */
		for (i = 0; i < 4; i++) {
			if (nexthdr == 0 || nexthdr == 43 || nexthdr == 60) {
				__u8 *eh = data + off;
				if ((void *)(eh + 2) > end)
					goto malformed;
				nexthdr = eh[0];
				off += (eh[1] + 1) * 8;
			} else if (nexthdr == 44) { /* fragment header */
				struct frag_hdr *fh = data + off;
				if ((void *)(fh + 1) > end)
					goto malformed;
				nexthdr = fh->nexthdr;
				if (fh->frag_off & bpf_htons(0xfff8)) {
					p.ports_known = 0;
					ctw_fw_count(slot,
						     CTW_FW_MAX_RULES + CTW_FW_CNT_XDP_FRAGMENT,
						     bytes);
				}
				off += sizeof(*fh);
			} else {
				break;
			}
		}
		off &= 0xffff;
		p.proto = nexthdr;
		p.is_icmp = p.proto == IPPROTO_ICMPV6_;
		if (read_ports(data + off, end, &p) < 0)
			goto malformed;
		struct ctw_xdp_lpm6_key k = {
			.prefixlen = CTW_FW_LPM_SLOT_BITS + 128,
			.slot = bpf_htonl(slot),
		};
		__builtin_memcpy(k.addr, &ip6->saddr, 16);
		m = bpf_map_lookup_elem(&ctw_xdp_lpm6, &k);
	} else {
		ctw_fw_count(slot, CTW_FW_MAX_RULES + CTW_FW_CNT_XDP_NON_IP, bytes);
		return XDP_PASS;
	}

	if (m) {
		verdict = judge(m, slot, &p, bytes);
		if (verdict >= 0)
			return verdict;
	}
	ctw_fw_count(slot, CTW_FW_MAX_RULES + CTW_FW_CNT_XDP_DEFAULT, bytes);
	return cfg->slot[slot].xdp_default == CTW_FW_DENY ? XDP_DROP : XDP_PASS;

malformed:
	ctw_fw_count(slot, CTW_FW_MAX_RULES + CTW_FW_CNT_XDP_MALFORMED, bytes);
	return XDP_PASS;
}
