/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/*
 * tcplife: the contract between bpf/tcplife.bpf.c and user space
 * (cli/cmd_tcplife.c, agent/mod_tcp.c).  One ring-buffer record per TCP
 * socket that the probe saw being born (SYN_SENT or SYN_RECV) and that
 * reached TCP_CLOSE.
 */
#ifndef CTW_TCPLIFE_H
#define CTW_TCPLIFE_H

#ifndef __bpf__ /* the BPF side gets its types from vmlinux.h */
#include <linux/types.h>
#endif

#define CTW_COMM_LEN 16
/* At most this many ports in each of the -L / -D filters. */
#define TCPLIFE_MAX_PORTS 16

/* tcplife_event.flags */
#define TCPLIFE_F_ESTABLISHED 0x01    /* reached TCP_ESTABLISHED */
#define TCPLIFE_F_PASSIVE 0x02	      /* accepted (SYN_RECV child of a listener) */
#define TCPLIFE_F_IDENT_LISTENER 0x04 /* pid/comm: the process that called listen() */
#define TCPLIFE_F_IDENT_CLOSER 0x08   /* pid/comm: the process that closed/shut it down */
#define TCPLIFE_F_IDENT_CONNECT 0x10  /* pid/comm: the process that called connect() */

/* Index of the per-CPU `lost` counters. */
#define TCPLIFE_LOST_RINGBUF 0 /* record dropped: the ring buffer was full */
#define TCPLIFE_LOST_NOMEM 1   /* socket not tracked: no memory for its storage */
#define TCPLIFE_LOST_MAX 2

/* tcplife_event.close: how the socket ended, from (oldstate, sk_err) at
 * TCP_CLOSE.  Cheap to tell, not a packet trace: see tcplife.bpf.c. */
enum tcplife_close {
	TCPLIFE_CLOSE_FIN = 0,	   /* orderly: LAST_ACK, FIN_WAIT1/2, CLOSING -> CLOSE */
	TCPLIFE_CLOSE_RST_IN = 1,  /* reset by the peer (sk_err ECONNRESET/EPIPE) */
	TCPLIFE_CLOSE_RST_OUT = 2, /* aborted here: closed in ESTABLISHED/CLOSE_WAIT */
	TCPLIFE_CLOSE_REFUSED = 3, /* SYN_SENT -> CLOSE with ECONNREFUSED */
	TCPLIFE_CLOSE_TIMEOUT = 4, /* sk_err ETIMEDOUT (SYN or data retries) */
	TCPLIFE_CLOSE_OTHER = 5,   /* e.g. a connect abandoned before an answer */
};

struct tcplife_event {	/* ringbuf record, largest fields first */
	__u8 saddr[16]; /* IPv4 uses the first 4 bytes */
	__u8 daddr[16];
	__u64 cgroup_id; /* the socket's own cgroup v2 id (sk_cgrp_data) */
	__u64 start_ns;	 /* bpf_ktime_get_ns() at SYN_SENT / SYN_RECV */
	__u64 span_ns;	 /* start to TCP_CLOSE */
	__u64 rx_bytes;	 /* tcp_sock.bytes_received */
	__u64 tx_bytes;	 /* tcp_sock.bytes_acked */
	__u32 pid;	 /* tgid; 0 when no process could be named */
	__u16 sport;	 /* local port, host order */
	__u16 dport;	 /* remote port, host order */
	__u16 family;	 /* AF_INET or AF_INET6; v4-mapped v6 is AF_INET */
	__u8 flags;	 /* TCPLIFE_F_* */
	__u8 close;	 /* enum tcplife_close */
	__u16 sk_err;	 /* sk->sk_err at close (positive errno), 0 if none */
	__u16 __pad;
	char comm[CTW_COMM_LEN];
};
_Static_assert(sizeof(struct tcplife_event) == 104, "ABI: tcplife_event");

#endif /* CTW_TCPLIFE_H */
