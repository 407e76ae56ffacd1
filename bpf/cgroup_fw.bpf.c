// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * Per-container firewall: cgroup_skb/egress and cgroup_skb/ingress, attached
 * to each container cgroup a policy selects.  Keyed by the socket's cgroup
 * v2 id, so one program instance serves every container.
 *
 * Order of evaluation on egress: DNS-name rules first (UDP to port 53 with
 * a question), then CIDR/protocol/port rules (first match in file order),
 * then the direction's default.  Rules are stateless: an ingress deny also
 * drops replies to connections the container opened.
 *
 * What a client sees when its query for a denied name is dropped: the drop
 * happens in the sender's own send path, so send()/sendto() fails at once
 * with EPERM ("Operation not permitted") and no packet leaves.  Stub
 * resolvers that check the send give up at once (glibc getaddrinfo():
 * EAI_AGAIN / "not found"; busybox nslookup: "write to '...': Operation not
 * permitted"); dig (bind's libuv) ignores the send error and reports
 * "timed out" after its +time.  A dropped TCP SYN (CIDR rules) is retried
 * by the stack, so connect() to a denied address times out.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#include "cgroup_fw.h"
#include "fw_shared.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define ETH_P_IP 0x0800
#define ETH_P_IPV6 0x86DD
#define IPPROTO_ICMPV6_ 58
#define IP_OFFSET 0x1fff

/* key: {prefixlen, slot<<1|dir, cgroup id, IPv4 remote prefix};
 * value: rules covering it, in file order */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1 << 18);
	__type(key, struct ctw_cg_lpm4_key);
	__type(value, struct ctw_fw_match);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ctw_cg_lpm4 SEC(".maps");

/* key: {prefixlen, slot<<1|dir, cgroup id, IPv6 remote prefix};
 * value: rules covering it, in file order */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 1 << 16);
	__type(key, struct ctw_cg_lpm6_key);
	__type(value, struct ctw_fw_match);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ctw_cg_lpm6 SEC(".maps");

/* key: {slot, cgroup id, hash of a name suffix}; value: DNS rules */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1 << 16);
	__type(key, struct ctw_cg_dns_key);
	__type(value, struct ctw_cg_dns_val);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ctw_cg_dns SEC(".maps");

/* key: {cgroup id, address}; value: expiry and the allow DNS rule that
 * taught it (DNS allow-list mode) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1 << 16);
	__type(key, struct ctw_cg_learn_key);
	__type(value, struct ctw_cg_learn_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} ctw_cg_learned SEC(".maps");

struct dns_scratch {
	__u8 name[CTW_DNS_MAX_NAME + 1];
};

/* key: 0; value: the query name being judged (too big for the stack) */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dns_scratch);
} ctw_cg_scratch SEC(".maps");

struct pkt {
	__u8 addr[16]; /* remote address */
	__u16 sport;
	__u16 dport;
	__u8 proto;
	__u8 is_icmp;
	__u8 ports_known;
	__u8 v6;
	__u32 l4off;
};

static __always_inline int judge(const struct ctw_fw_match *m, __u32 slot, const struct pkt *p,
				 __u64 bytes)
{
	int i;

	for (i = 0; i < CTW_FW_MAX_MATCH; i++) {
		if (i >= m->n)
			break;
		__u32 id = m->ids[i];
		if (id >= CTW_FW_MAX_RULES)
			break;
		__u32 key = slot * CTW_FW_MAX_RULES + id;
		struct ctw_fw_rule *r = bpf_map_lookup_elem(&ctw_pol_rules, &key);
		if (!r || !r->valid || r->scope != CTW_FW_SCOPE_CONTAINER)
			continue;
		if (r->flags & CTW_FW_F_DNS)
			continue;
		if (!ctw_fw_l4_match(r, p->proto, p->is_icmp, p->sport, p->dport, p->ports_known))
			continue;
		ctw_fw_count(slot, id, bytes);
		return r->action == CTW_FW_DENY ? 0 : 1;
	}
	return -1;
}

/*
 * DNS-name rules.  The two passes over the name run under bpf_loop(), so
 * the verifier checks each step once instead of unrolling 255 of them.
 */
struct dns_walk {
	struct dns_scratch *s;
	struct ctw_cg_dns_key key;
	__u64 g, pw, ipw, gend;
	__u32 avail, next, len;
	int best;
	int bad;
};

/* Pass 1: validate the labels, lower-case, hash the whole name. */
static long dns_pass1(__u32 idx, void *ctx)
{
	struct dns_walk *w = ctx;
	__u32 k = idx & 0xff;

	if (k >= w->avail) {
		w->bad = 1; /* truncated name */
		return 1;
	}
	__u8 c = w->s->name[k];
	if (k == w->next) {
		if (c > 63) {
			w->bad = 1; /* compression pointer: not in a query */
			return 1;
		}
		w->next = k + 1 + c;
	} else if (c >= 'A' && c <= 'Z') {
		c += 'a' - 'A';
		w->s->name[k] = c;
	}
	w->g += (__u64)c * w->pw;
	w->pw *= CTW_DNS_HASH_B;
	if (k + 1 == w->next && c == 0) {
		w->len = k + 1;
		return 1;
	}
	return 0;
}

/* Pass 2: at each label start, look up the hash of the suffix from there. */
static long dns_pass2(__u32 idx, void *ctx)
{
	struct dns_walk *w = ctx;
	__u32 k = idx & 0xff;

	if (k + 1 >= w->len)
		return 1; /* the root label: nothing to match */
	__u8 c = w->s->name[k];
	if (k == w->next) {
		w->key.hash = (w->gend - w->g) * w->ipw;
		struct ctw_cg_dns_val *v = bpf_map_lookup_elem(&ctw_cg_dns, &w->key);
		if (v) {
			if (k == 0 && (v->flags & CTW_DNS_F_EXACT) &&
			    (w->best < 0 || v->exact_rule < w->best))
				w->best = v->exact_rule;
			if (k > 0 && (v->flags & CTW_DNS_F_WILD) &&
			    (w->best < 0 || v->wild_rule < w->best))
				w->best = v->wild_rule;
		}
		w->next = k + 1 + c;
	}
	w->g += (__u64)c * w->pw;
	w->pw *= CTW_DNS_HASH_B;
	w->ipw *= CTW_DNS_HASH_B_INV;
	return 0;
}

/* Returns the matching DNS rule id (lowest = first in the file), or -1.
 * `qoff` is the offset of the QNAME in the skb. */
static __always_inline int dns_match(struct __sk_buff *skb, __u32 qoff, __u32 slot, __u64 cgid,
				     __u32 *qlen)
{
	struct dns_walk w = {
		.key = {.slot = slot, .cgroup_id = cgid}, .pw = 1, .ipw = 1, .best = -1};
	__u32 zero = 0, avail;

	w.s = bpf_map_lookup_elem(&ctw_cg_scratch, &zero);
	if (!w.s)
		return -1;
	if (skb->len <= qoff)
		return -1;
	avail = skb->len - qoff;
	if (avail > CTW_DNS_MAX_NAME)
		avail = CTW_DNS_MAX_NAME;
	if (avail < 1)
		return -1;
	/* Same value, in a form the verifier can bound to [1, 256]. */
	avail = ((avail - 1) & 0xff) + 1;
	if (bpf_skb_load_bytes(skb, qoff, w.s->name, avail) < 0)
		return -1;
	w.avail = avail;
	bpf_loop(CTW_DNS_MAX_NAME, dns_pass1, &w, 0);
	if (w.bad || !w.len)
		return -1;
	w.gend = w.g;
	w.g = 0;
	w.pw = 1;
	w.next = 0;
	bpf_loop(CTW_DNS_MAX_NAME, dns_pass2, &w, 0);
	*qlen = w.len;
	return w.best;
}

/* ---- DNS allow-list mode: learn the answers to allowed names ---- */

struct learn_walk {
	struct __sk_buff *skb;
	__u64 cgid;
	__u64 now;
	__u32 off;
	__u16 ancount;
	__u16 rule;
};

/* One answer record at w->off: skip its name, learn A / AAAA data. */
static long learn_one(__u32 idx, void *ctx)
{
	struct learn_walk *w = ctx;
	struct ctw_cg_learn_key k = {.cgroup_id = w->cgid};
	struct ctw_cg_learn_val v = {.rule = w->rule};
	__u8 fixed[10], c;
	int i;

	if (idx >= w->ancount)
		return 1;
	for (i = 0; i < 16; i++) { /* name: labels, then 0 or a pointer */
		if (bpf_skb_load_bytes(w->skb, w->off, &c, 1) < 0)
			return 1;
		if (c >= 0xc0) {
			w->off += 2;
			break;
		}
		w->off += 1 + c;
		if (c == 0)
			break;
	}
	if (i == 16)
		return 1;
	if (bpf_skb_load_bytes(w->skb, w->off, fixed, sizeof(fixed)) < 0)
		return 1;
	__u16 type = (__u16)(fixed[0] << 8 | fixed[1]);
	__u32 ttl = (__u32)fixed[4] << 24 | (__u32)fixed[5] << 16 | (__u32)fixed[6] << 8 | fixed[7];
	__u16 rdlen = (__u16)(fixed[8] << 8 | fixed[9]);
	w->off += sizeof(fixed);
	if (ttl < CTW_DNS_LEARN_MIN_TTL)
		ttl = CTW_DNS_LEARN_MIN_TTL;
	if (ttl > CTW_DNS_LEARN_MAX_TTL)
		ttl = CTW_DNS_LEARN_MAX_TTL;
	v.expires_ns = w->now + (__u64)ttl * 1000000000ULL;
	if (type == 1 && rdlen == 4) {
		k.addr[10] = 0xff;
		k.addr[11] = 0xff;
		if (bpf_skb_load_bytes(w->skb, w->off, &k.addr[12], 4) == 0)
			bpf_map_update_elem(&ctw_cg_learned, &k, &v, BPF_ANY);
	} else if (type == 28 && rdlen == 16) {
		if (bpf_skb_load_bytes(w->skb, w->off, k.addr, 16) == 0)
			bpf_map_update_elem(&ctw_cg_learned, &k, &v, BPF_ANY);
	}
	w->off += rdlen;
	return 0;
}

/* A DNS response arriving for a container: when its question is covered by
 * an `allow` DNS rule, remember the answers' addresses. */
static __always_inline void dns_learn(struct __sk_buff *skb, const struct pkt *p, __u32 slot,
				      __u64 cgid)
{
	__u8 hdr[12];
	__u32 qlen = 0;

	if (bpf_skb_load_bytes(skb, p->l4off + 8, hdr, sizeof(hdr)) < 0)
		return;
	if (!(hdr[2] & 0x80) || (hdr[3] & 0x0f) || hdr[4] || hdr[5] != 1)
		return; /* not a NOERROR response with one question */
	__u16 ancount = (__u16)(hdr[6] << 8 | hdr[7]);
	if (!ancount)
		return;
	int id = dns_match(skb, p->l4off + 8 + 12, slot, cgid, &qlen);
	if (id < 0 || id >= CTW_FW_MAX_RULES)
		return;
	__u32 key = slot * CTW_FW_MAX_RULES + id;
	struct ctw_fw_rule *r = bpf_map_lookup_elem(&ctw_pol_rules, &key);
	if (!r || !r->valid || r->action != CTW_FW_ALLOW || !(r->flags & CTW_FW_F_DNS))
		return;
	struct learn_walk w = {
		.skb = skb,
		.cgid = cgid,
		.now = bpf_ktime_get_ns(),
		.off = p->l4off + 8 + 12 + qlen + 4,
		.ancount =
			ancount > CTW_DNS_LEARN_MAX_ANSWERS ? CTW_DNS_LEARN_MAX_ANSWERS : ancount,
		.rule = (__u16)id,
	};
	bpf_loop(CTW_DNS_LEARN_MAX_ANSWERS, learn_one, &w, 0);
}

/* Egress to an address DNS gave for an allowed name (not expired)? Returns
 * the rule id that learned it, or -1. */
static __always_inline int learned(const struct pkt *p, __u32 slot, __u64 cgid)
{
	struct ctw_cg_learn_key k = {.cgroup_id = cgid};

	if (p->v6) {
		__builtin_memcpy(k.addr, p->addr, 16);
	} else {
		k.addr[10] = 0xff;
		k.addr[11] = 0xff;
		__builtin_memcpy(&k.addr[12], p->addr, 4);
	}
	struct ctw_cg_learn_val *v = bpf_map_lookup_elem(&ctw_cg_learned, &k);
	if (!v || v->expires_ns < bpf_ktime_get_ns() || v->rule >= CTW_FW_MAX_RULES)
		return -1;
	__u32 key = slot * CTW_FW_MAX_RULES + v->rule;
	struct ctw_fw_rule *r = bpf_map_lookup_elem(&ctw_pol_rules, &key);
	if (!r || !r->valid || r->action != CTW_FW_ALLOW || !(r->flags & CTW_FW_F_DNS))
		return -1; /* the policy changed since */
	return v->rule;
}

static __always_inline int load_pkt(struct __sk_buff *skb, int egress, struct pkt *p)
{
	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr iph;
		if (bpf_skb_load_bytes(skb, 0, &iph, sizeof(iph)) < 0)
			return -1;
		__builtin_memcpy(p->addr, egress ? (void *)&iph.daddr : (void *)&iph.saddr, 4);
		p->proto = iph.protocol;
		p->is_icmp = p->proto == IPPROTO_ICMP;
		p->l4off = iph.ihl * 4;
		if (iph.frag_off & bpf_htons(IP_OFFSET))
			p->ports_known = 0;
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;
		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)) < 0)
			return -1;
		__builtin_memcpy(p->addr, egress ? (void *)&ip6.daddr : (void *)&ip6.saddr, 16);
		p->proto = ip6.nexthdr; /* extension headers: judged as that proto */
		p->is_icmp = p->proto == IPPROTO_ICMPV6_;
		p->l4off = sizeof(ip6);
		p->v6 = 1;
	} else {
		return -1;
	}
	if (p->proto == IPPROTO_TCP || p->proto == IPPROTO_UDP) {
		__be16 ports[2];
		if (p->ports_known && bpf_skb_load_bytes(skb, p->l4off, ports, 4) == 0) {
			p->sport = bpf_ntohs(ports[0]);
			p->dport = bpf_ntohs(ports[1]);
		} else {
			p->ports_known = 0;
		}
	} else {
		p->ports_known = 0;
	}
	return 0;
}

static __always_inline int filter(struct __sk_buff *skb, int egress)
{
	struct pkt p = {.ports_known = 1};
	const struct ctw_fw_match *m;
	__u32 zero = 0, slot, dir = egress ? CTW_FW_EGRESS : CTW_FW_INGRESS;
	__u64 cgid, bytes = skb->len;

	struct ctw_fw_cfg *cfg = bpf_map_lookup_elem(&ctw_pol_cfg, &zero);
	if (!cfg)
		return 1;
	slot = cfg->active & 1;
	if (load_pkt(skb, egress, &p) < 0)
		return 1; /* not IP: not ours to judge */
	cgid = bpf_skb_cgroup_id(skb);

	if (!egress && p.proto == IPPROTO_UDP && p.ports_known && p.sport == 53)
		dns_learn(skb, &p, slot, cgid);

	if (egress && p.proto == IPPROTO_UDP && p.ports_known && p.dport == 53) {
		__u16 qdcount;
		if (bpf_skb_load_bytes(skb, p.l4off + 8 + 4, &qdcount, 2) == 0 && qdcount != 0) {
			__u32 qlen;
			int id = dns_match(skb, p.l4off + 8 + 12, slot, cgid, &qlen);
			if (id >= 0 && id < CTW_FW_MAX_RULES) {
				__u32 key = slot * CTW_FW_MAX_RULES + id;
				struct ctw_fw_rule *r = bpf_map_lookup_elem(&ctw_pol_rules, &key);
				if (r && r->valid) {
					ctw_fw_count(slot, id, bytes);
					return r->action == CTW_FW_DENY ? 0 : 1;
				}
			}
		}
	}

	if (p.v6) {
		struct ctw_cg_lpm6_key k = {
			.prefixlen = CTW_CG_LPM_FIXED_BITS + 128,
			.slot_dir = bpf_htonl(slot << 1 | dir),
			.cgroup_id = cgid,
		};
		__builtin_memcpy(k.addr, p.addr, 16);
		m = bpf_map_lookup_elem(&ctw_cg_lpm6, &k);
	} else {
		struct ctw_cg_lpm4_key k = {
			.prefixlen = CTW_CG_LPM_FIXED_BITS + 32,
			.slot_dir = bpf_htonl(slot << 1 | dir),
			.cgroup_id = cgid,
		};
		__builtin_memcpy(k.addr, p.addr, 4);
		m = bpf_map_lookup_elem(&ctw_cg_lpm4, &k);
	}
	if (m) {
		int v = judge(m, slot, &p, bytes);
		if (v >= 0)
			return v;
	}
	if (egress) {
		/* Allow-list mode: what DNS answered for an allowed name. */
		if (cfg->slot[slot].egress_default == CTW_FW_DENY) {
			int id = learned(&p, slot, cgid);
			if (id >= 0 && id < CTW_FW_MAX_RULES) {
				ctw_fw_count(slot, (__u32)id, bytes);
				return 1;
			}
		}
		ctw_fw_count(slot, CTW_FW_MAX_RULES + CTW_FW_CNT_EGRESS_DEFAULT, bytes);
		return cfg->slot[slot].egress_default == CTW_FW_DENY ? 0 : 1;
	}
	ctw_fw_count(slot, CTW_FW_MAX_RULES + CTW_FW_CNT_INGRESS_DEFAULT, bytes);
	return cfg->slot[slot].ingress_default == CTW_FW_DENY ? 0 : 1;
}

SEC("cgroup_skb/egress")
int ctw_cg_egress(struct __sk_buff *skb)
{
	return filter(skb, 1);
}

SEC("cgroup_skb/ingress")
int ctw_cg_ingress(struct __sk_buff *skb)
{
	return filter(skb, 0);
}
