/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * Contract between bpf/dns.bpf.c and user space (dns/probe.c): one ring
 * buffer record per DNS packet seen on a watched container cgroup.
 */
#ifndef CTW_BPF_DNS_H
#define CTW_BPF_DNS_H

#ifndef __bpf__ /* the BPF side gets its types from vmlinux.h */
#include <linux/types.h>
#endif

#define CTW_DNS_COMM_LEN 16
/* Bytes of the DNS message copied per packet (a power of two: the BPF side
 * masks lengths with CTW_DNS_CAPTURE - 1).  Classic UDP DNS fits; longer
 * messages (EDNS, TCP) are cut and flagged by wire_len > msg_len. */
#define CTW_DNS_CAPTURE 512

enum ctw_dns_dir {
	CTW_DNS_EGRESS = 1,  /* leaving the container */
	CTW_DNS_INGRESS = 2, /* arriving at the container */
};

/* dns_event.flags */
#define CTW_DNS_F_TCP 0x01	/* payload is a TCP segment (2-byte length first) */
#define CTW_DNS_F_HAS_TASK 0x02 /* pid/comm are the sender's (egress in task context) */

struct dns_event {	 /* ringbuf record, largest fields first */
	__u64 ts_ns;	 /* bpf_ktime_get_ns(): CLOCK_MONOTONIC */
	__u64 cgroup_id; /* cgroup v2 id of the socket: the container key */
	__u8 saddr[16];	 /* IPv4 uses the first 4 bytes */
	__u8 daddr[16];
	__u32 pid;	    /* tgid when CTW_DNS_F_HAS_TASK, else 0 */
	__u16 sport, dport; /* host byte order */
	__u16 msg_len;	    /* bytes of msg[] that are valid */
	__u16 wire_len;	    /* DNS payload length on the wire (UDP/TCP payload) */
	__u8 dir;	    /* enum ctw_dns_dir */
	__u8 family;	    /* 4 or 6 */
	__u8 flags;	    /* CTW_DNS_F_* */
	__u8 __pad;
	char comm[CTW_DNS_COMM_LEN];
	__u8 msg[CTW_DNS_CAPTURE]; /* the DNS message (UDP) or TCP payload */
};
_Static_assert(sizeof(struct dns_event) == 592, "ABI: dns_event");

#endif /* CTW_BPF_DNS_H */
