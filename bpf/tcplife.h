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

#ifndef __bpf__
/*
 * User side (agent/tcp_probe.c, agent/tcp_format.c): the loader shared by
 * `ctrwatch tcplife` and the agent's tcp module, and the decoding both use.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct ctw_tcp_probe;

struct ctw_tcp_probe_opts {
	__u16 family; /* 0, AF_INET or AF_INET6 */
	__u32 n_lports, n_dports;
	__u16 lports[TCPLIFE_MAX_PORTS]; /* local ports to keep (none = all) */
	__u16 dports[TCPLIFE_MAX_PORTS]; /* remote ports to keep */
	bool filter_cgroup;		 /* only cgroups added with _watch_cgroup() */
	bool track_open;		 /* keep per-cgroup open counts */
	size_t ringbuf_bytes;		 /* 0 = 256 KiB; a power of two */
	__u32 wakeup_bytes;		 /* wake the reader only past this (0: always) */
};

/* Called for each record; a negative return stops the current poll. */
typedef int (*ctw_tcp_event_fn)(void *ctx, const struct tcplife_event *e);

struct ctw_err;
/* Open, configure, load and attach the probe.  -errno, with the step that
 * failed in *err. */
int ctw_tcp_probe_open(const struct ctw_tcp_probe_opts *o, ctw_tcp_event_fn fn, void *ctx,
		       struct ctw_tcp_probe **out, struct ctw_err *err);
void ctw_tcp_probe_free(struct ctw_tcp_probe *p);
/* The ring buffer's epoll fd, readable when records are waiting. */
int ctw_tcp_probe_fd(struct ctw_tcp_probe *p);
/* Wait up to timeout_ms and deliver records (also those that did not wake
 * us, see wakeup_bytes); returns how many or -errno. */
int ctw_tcp_probe_poll(struct ctw_tcp_probe *p, int timeout_ms);
/* Deliver what is waiting without blocking. */
int ctw_tcp_probe_consume(struct ctw_tcp_probe *p);
/* Add (on) or remove a cgroup id from the watched set (filter_cgroup). */
int ctw_tcp_probe_watch_cgroup(struct ctw_tcp_probe *p, __u64 cgroup_id, bool on);
/* Connections not reported since load, for one TCPLIFE_LOST_* reason. */
__u64 ctw_tcp_probe_lost(struct ctw_tcp_probe *p, __u32 why);
/* Open connections per cgroup (track_open); cb for each entry. */
int ctw_tcp_probe_open_counts(struct ctw_tcp_probe *p,
			      void (*cb)(void *ctx, __u64 cgroup_id, __s64 n), void *ctx);
/* Forget a cgroup's open count (its container is gone). */
void ctw_tcp_probe_forget_cgroup(struct ctw_tcp_probe *p, __u64 cgroup_id);

/* "80,443,8000" -> ports; -EINVAL on a bad port, -E2BIG past the max. */
int ctw_tcp_parse_ports(const char *s, __u16 *ports, __u32 *n);
/* "fin", "rst-in", "rst-out", "refused", "timeout", "other". */
const char *ctw_tcp_close_name(__u8 close);
/* "active" / "passive". */
const char *ctw_tcp_direction(const struct tcplife_event *e);
/* A connect() that never reached ESTABLISHED. */
bool ctw_tcp_is_connect_failure(const struct tcplife_event *e);
/* The local (local=true) or remote address as text. */
void ctw_tcp_format_addr(const struct tcplife_event *e, bool local, char *buf, size_t size);

/* Output of `ctrwatch tcplife`. */
struct ctw_tcp_columns {
	bool wide;    /* -w: room for IPv6 addresses */
	bool elapsed; /* -t: TIME(s) since the first record */
	bool clock;   /* -T: wall clock HH:MM:SS */
};
void ctw_tcp_print_header(FILE *f, const struct ctw_tcp_columns *c);
/* container: name, or NULL for a host process ("-"). elapsed_s/clock are
 * only printed when the matching column is on. */
void ctw_tcp_print_row(FILE *f, const struct ctw_tcp_columns *c, const struct tcplife_event *e,
		       const char *container, double elapsed_s, const char *clock);
/* One JSON object on one line. */
void ctw_tcp_print_json(FILE *f, const struct tcplife_event *e, const char *container,
			__u64 realtime_ns);

/* The agent's aggregation (agent/tcp_stats.c): per-container series of
 * ctrwatch_tcp_*; the caller serialises access. */
struct ctw_container;
struct ctw_metrics;
struct ctw_tcp_stats;

struct ctw_tcp_stats *ctw_tcp_stats_new(void);
void ctw_tcp_stats_free(struct ctw_tcp_stats *s);
/* cgroup_id (the container's own or a descendant's) belongs to c. */
void ctw_tcp_stats_add_cgroup(struct ctw_tcp_stats *s, __u64 cgroup_id,
			      const struct ctw_container *c);
/* Forget a container and its series; calls cb for each cgroup id it had. */
void ctw_tcp_stats_remove(struct ctw_tcp_stats *s, const char *container_id,
			  void (*cb)(void *ctx, __u64 cgroup_id), void *ctx);
/* Account one closed connection; false when its cgroup is not (yet) a
 * container's: then it is held for 30 s, and counted for the container if
 * ctw_tcp_stats_add_cgroup() names one for that cgroup meanwhile. */
bool ctw_tcp_stats_event(struct ctw_tcp_stats *s, const struct tcplife_event *e);
/* Drop held records older than 30 s; how many cgroups are held. */
void ctw_tcp_stats_expire(struct ctw_tcp_stats *s, __u64 now_ns);
size_t ctw_tcp_stats_pending(const struct ctw_tcp_stats *s);
/* Open connections of one cgroup, summed per container at collect time;
 * ctw_tcp_stats_collect() clears them. */
void ctw_tcp_stats_set_open(struct ctw_tcp_stats *s, __u64 cgroup_id, __s64 n);
void ctw_tcp_stats_collect(struct ctw_tcp_stats *s, struct ctw_metrics *m);
#endif /* !__bpf__ */

#endif /* CTW_TCPLIFE_H */
