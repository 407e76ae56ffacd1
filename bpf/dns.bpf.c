// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * DNS capture per container: cgroup_skb egress and ingress programs, attached
 * (multi) to each watched container's cgroup v2.  For every UDP (and, when
 * enabled, TCP) packet to or from the DNS port the DNS message is copied,
 * bounded to CTW_DNS_CAPTURE bytes, into a ring buffer with the socket's
 * cgroup id, the direction, a timestamp and, on egress in task context, the
 * sender's pid and comm.  Parsing happens in user space (dns/parse.c).
 *
 * These programs only observe: they always return 1 (pass), never drop or
 * change a packet.  Policy is bpf/policy.bpf.c's business.
 *
 * Dual BSD/GPL: the programs call GPL-only helpers (bpf_get_current_comm).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#include "dns.h"
#include "maps.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

#define CG_PASS 1
#define ETH_P_IP_ 0x0800
#define IPPROTO_HOPOPTS_ 0
#define IPPROTO_ROUTING_ 43
#define IPPROTO_FRAGMENT_ 44
#define IPPROTO_DSTOPTS_ 60
#define IP_OFFSET_MASK 0x1fff

/* Options, set by user space between open() and load(). */
const volatile __u16 dns_port = 53;  /* server port that marks DNS traffic */
const volatile __u8 capture_tcp = 1; /* also copy TCP/53 segments with payload */

/* Ring buffer of struct dns_event records, one per DNS packet. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} dns_events SEC(".maps");

/* cgroup id -> __u64 number of events dropped because dns_events was full. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u64);
} dns_lost SEC(".maps");

static __always_inline void count_lost(__u64 cgid)
{
	__u64 zero = 0, *v = ctw_map_lookup_or_init(&dns_lost, &cgid, &zero);

	if (v)
		__sync_fetch_and_add(v, 1);
}

/* Where the transport header and payload are; filled by parse_ip(). */
struct l3 {
	__u8 saddr[16];
	__u8 daddr[16];
	__u32 l4_off;
	__u8 proto;
	__u8 family;
};

static __always_inline int parse_ip(struct __sk_buff *skb, struct l3 *l)
{
	__u8 vhl;

	/* cgroup_skb sees the packet from the network header on. */
	if (bpf_skb_load_bytes(skb, 0, &vhl, 1))
		return -1;
	if ((vhl >> 4) == 4) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)))
			return -1;
		/* Only the first fragment carries the ports.  On these hooks
		 * a datagram is normally whole (egress runs before
		 * fragmentation, ingress after reassembly). */
		if (ip.frag_off & bpf_htons(IP_OFFSET_MASK))
			return -1;
		if (ip.ihl < 5)
			return -1;
		__builtin_memcpy(l->saddr, &ip.saddr, 4);
		__builtin_memcpy(l->daddr, &ip.daddr, 4);
		l->l4_off = ip.ihl * 4;
		l->proto = ip.protocol;
		l->family = 4;
		return 0;
	}
	if ((vhl >> 4) == 6) {
		struct ipv6hdr ip6;
		__u32 off = sizeof(ip6);
		__u8 nh;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return -1;
		__builtin_memcpy(l->saddr, &ip6.saddr, 16);
		__builtin_memcpy(l->daddr, &ip6.daddr, 16);
		nh = ip6.nexthdr;
		/* A few extension headers, bounded. */
#pragma unroll
		for (int i = 0; i < 4; i++) {
			struct {
				__u8 nexthdr;
				__u8 hdrlen;
				__u16 frag_off; /* fragment header only */
			} ext;

			if (nh != IPPROTO_HOPOPTS_ && nh != IPPROTO_ROUTING_ &&
			    nh != IPPROTO_DSTOPTS_ && nh != IPPROTO_FRAGMENT_)
				break;
			if (bpf_skb_load_bytes(skb, off, &ext, sizeof(ext)))
				return -1;
			if (nh == IPPROTO_FRAGMENT_) {
				if (ext.frag_off & bpf_htons(0xfff8))
					return -1; /* not the first fragment */
				off += 8;
			} else {
				off += (ext.hdrlen + 1) * 8;
			}
			nh = ext.nexthdr;
		}
		l->l4_off = off;
		l->proto = nh;
		l->family = 6;
		return 0;
	}
	return -1;
}

static __always_inline int handle(struct __sk_buff *skb, __u8 dir)
{
	struct dns_event *e;
	struct l3 l = {};
	__u32 poff, plen, n;
	volatile __u32 vn;
	__u16 sport, dport;
	__u8 flags = 0;
	__u64 cgid;

	if (parse_ip(skb, &l))
		return CG_PASS;

	if (l.proto == IPPROTO_UDP) {
		struct udphdr uh;
		__u32 ulen;

		if (bpf_skb_load_bytes(skb, l.l4_off, &uh, sizeof(uh)))
			return CG_PASS;
		sport = bpf_ntohs(uh.source);
		dport = bpf_ntohs(uh.dest);
		if (sport != dns_port && dport != dns_port)
			return CG_PASS;
		poff = l.l4_off + sizeof(uh);
		if (skb->len <= poff)
			return CG_PASS;
		plen = skb->len - poff;
		ulen = bpf_ntohs(uh.len);
		/* Believe the smaller of the UDP length and what is there
		 * (GSO super-packets carry a UDP length of 0 or the segment's). */
		if (ulen > sizeof(uh) && ulen - sizeof(uh) < plen)
			plen = ulen - sizeof(uh);
	} else if (l.proto == IPPROTO_TCP && capture_tcp) {
		struct tcphdr th;
		__u32 doff;

		if (bpf_skb_load_bytes(skb, l.l4_off, &th, sizeof(th)))
			return CG_PASS;
		sport = bpf_ntohs(th.source);
		dport = bpf_ntohs(th.dest);
		if (sport != dns_port && dport != dns_port)
			return CG_PASS;
		doff = th.doff * 4;
		if (doff < sizeof(th))
			return CG_PASS;
		poff = l.l4_off + doff;
		if (skb->len <= poff)
			return CG_PASS; /* SYN, pure ACK, FIN: no payload */
		plen = skb->len - poff;
		flags |= CTW_DNS_F_TCP;
	} else {
		return CG_PASS;
	}

	cgid = bpf_skb_cgroup_id(skb);
	e = bpf_ringbuf_reserve(&dns_events, sizeof(*e), 0);
	if (!e) {
		count_lost(cgid);
		return CG_PASS;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->cgroup_id = cgid;
	__builtin_memcpy(e->saddr, l.saddr, 16);
	__builtin_memcpy(e->daddr, l.daddr, 16);
	e->sport = sport;
	e->dport = dport;
	e->dir = dir;
	e->family = l.family;
	e->wire_len = plen > 0xffff ? 0xffff : plen;
	e->__pad = 0;
	e->pid = 0;
	__builtin_memset(e->comm, 0, sizeof(e->comm));
	/* Egress usually runs in the sending task's context (sendmsg); TCP
	 * retransmits and softirq sends do not.  Trust the current task only
	 * when it sits in the socket's own cgroup. */
	if (dir == CTW_DNS_EGRESS && bpf_get_current_cgroup_id() == cgid) {
		e->pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
		flags |= CTW_DNS_F_HAS_TASK;
	}
	e->flags = flags;

	/* The length goes through the stack so that the compiler cannot
	 * hand the helper a register other than the one checked: the
	 * verifier must see 0 < n <= CTW_DNS_CAPTURE on what it gets. */
	vn = plen < CTW_DNS_CAPTURE ? plen : CTW_DNS_CAPTURE;
	n = vn;
	if (n == 0 || n > CTW_DNS_CAPTURE || bpf_skb_load_bytes(skb, poff, e->msg, n)) {
		bpf_ringbuf_discard(e, 0);
		return CG_PASS;
	}
	e->msg_len = n;
	bpf_ringbuf_submit(e, 0);
	return CG_PASS;
}

SEC("cgroup_skb/egress")
int dns_egress(struct __sk_buff *skb)
{
	return handle(skb, CTW_DNS_EGRESS);
}

SEC("cgroup_skb/ingress")
int dns_ingress(struct __sk_buff *skb)
{
	return handle(skb, CTW_DNS_INGRESS);
}
