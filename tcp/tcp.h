/* SPDX-License-Identifier: Apache-2.0 */
/*
 * TCP connection lifetimes in user space: the loader of bpf/tcplife.bpf.c
 * (probe.c) shared by `ctrwatch tcplife` and the agent's tcp module, and
 * the decoding and printing both use (format.c).  The kernel contract (the
 * record, the loss reasons) is bpf/tcplife.h; the agent's per-container
 * aggregation is agent/tcp_stats.c.
 */
#ifndef CTW_TCP_H
#define CTW_TCP_H

#include "tcplife.h"

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

#endif /* CTW_TCP_H */
