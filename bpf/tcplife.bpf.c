// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/*
 * tcplife: one record per TCP connection, from birth to TCP_CLOSE, attributed
 * to the container that owns the socket.
 *
 * Everything hangs off one BTF tracepoint, inet_sock_set_state (no kprobes
 * and no fentry on this kernel; tp_btf also needs no tracefs).  The state
 * machine as seen from here:
 *
 *   active:  CLOSE -> SYN_SENT          in connect(): the caller is current
 *   passive: LISTEN -> SYN_RECV         a child cloned from a listener, in
 *                                       softirq: current is whoever sent
 *                                       the packet (on loopback: the client)
 *   both:    -> ESTABLISHED             softirq
 *            -> FIN_WAIT1 / LAST_ACK    close()/shutdown(): the socket's
 *                                       holder is current
 *            -> CLOSE                   anywhere; the record is emitted here
 *
 * Naming the process.  Active sockets are named at SYN_SENT (the caller of
 * connect()).  Passive sockets have no process in context when they are born,
 * so they are first named after the process that put the listener into
 * TCP_LISTEN (listen() runs in that process; we remember it per netns and
 * port), and then renamed after the process that closes or shuts them down
 * (FIN_WAIT1 or LAST_ACK), which is the one that held the accepted socket: a
 * forked worker rather than its parent, for example.  When neither happened
 * (a listener older than the probe, reset by the peer before any close) the
 * record carries pid 0: we do not guess from softirq context, which on
 * loopback would name the client.
 *
 * The container is the socket's own cgroup (sk->sk_cgrp_data), set when the
 * socket is created and cloned from the listener to accepted children; the
 * server side is therefore the listener's container, whoever closes it.
 *
 * Per-socket state lives in socket local storage: it is freed with the
 * socket, so sockets that never reach CLOSE under our eyes leak nothing and
 * there is no table to size.
 *
 * The licence must be GPL-compatible: bpf_sk_storage_get() and the ring
 * buffer helpers are GPL-only.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#include "tcplife.h"
#include "maps.bpf.h"

#define AF_INET 2
#define AF_INET6 10
#define EPIPE 32
#define ECONNRESET 104
#define ETIMEDOUT 110
#define ECONNREFUSED 111
#define PF_KTHREAD 0x00200000

/* Options, set by user space between open() and load(). */
const volatile __u16 target_family = 0; /* 0 = both, else AF_INET/AF_INET6 */
const volatile __u8 filter_cgroup = 0;	/* only sockets whose cgroup is in `cgroups` */
const volatile __u8 track_open = 0;	/* keep `open_conns` (the agent's gauge) */
/* Wake the reader only once this much is waiting (0: at every record).  The
 * reader polls with a timeout and consumes anyway, so rows are late by at
 * most that timeout, and a busy host pays one wakeup per batch instead of
 * one per connection. */
const volatile __u32 wakeup_bytes = 0;
const volatile __u32 n_lports = 0; /* -L: local ports to keep */
const volatile __u16 lports[TCPLIFE_MAX_PORTS] = {};
const volatile __u32 n_dports = 0; /* -D: remote ports to keep */
const volatile __u16 dports[TCPLIFE_MAX_PORTS] = {};

/* What we remember about a socket between its birth and TCP_CLOSE. */
struct tcplife_sk {
	__u64 start_ns;
	__u64 cgroup_id;
	__u32 pid;
	__u8 flags;
	__u8 __pad[3];
	char comm[CTW_COMM_LEN];
};

struct listener_key {
	__u32 netns; /* inode of the socket's network namespace */
	__u16 port;  /* host order */
	__u16 __pad;
};

struct listener_ident {
	__u64 sk; /* the listening socket, so that only it removes the entry */
	__u32 pid;
	__u32 __pad;
	char comm[CTW_COMM_LEN];
};

/* socket -> struct tcplife_sk; local storage, freed with the socket */
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct tcplife_sk);
} socks SEC(".maps");

/* (netns, port) -> the process that made that port listen */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, struct listener_key);
	__type(value, struct listener_ident);
} listeners SEC(".maps");

/* cgroup v2 id -> 1: the containers to watch, when filter_cgroup is set */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} cgroups SEC(".maps");

/* cgroup v2 id -> connections now ESTABLISHED or later and not yet closed
 * (only with track_open; counted from when the probe was loaded) */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, __s64);
} open_conns SEC(".maps");

/* ring buffer of struct tcplife_event; size set by user space */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

/* TCPLIFE_LOST_* -> connections not reported, per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TCPLIFE_LOST_MAX);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

static __always_inline __u64 sock_cgroup_id(const struct sock *sk)
{
	return BPF_CORE_READ(sk, sk_cgrp_data.cgroup, kn, id);
}

static __always_inline bool port_in(const volatile __u16 *list, __u32 n, __u16 port)
{
	for (__u32 i = 0; i < TCPLIFE_MAX_PORTS; i++) {
		if (i >= n)
			break;
		if (list[i] == port)
			return true;
	}
	return false;
}

static __always_inline void open_add(__u64 cgid, __s64 delta)
{
	__s64 zero = 0, *v = ctw_map_lookup_or_init(&open_conns, &cgid, &zero);

	if (v)
		__sync_fetch_and_add(v, delta);
}

static __always_inline struct listener_key listener_key_of(const struct sock *sk)
{
	struct listener_key k = {
		.netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum),
		.port = BPF_CORE_READ(sk, __sk_common.skc_num),
	};
	return k;
}

static __always_inline bool current_is_kthread(void)
{
	struct task_struct *t = bpf_get_current_task_btf();

	return BPF_CORE_READ(t, flags) & PF_KTHREAD;
}

/* A new socket: create its storage, unless the container filter says no. */
static __always_inline struct tcplife_sk *birth(struct sock *sk)
{
	struct tcplife_sk *s;
	__u64 cgid = sock_cgroup_id(sk);

	if (filter_cgroup && !bpf_map_lookup_elem(&cgroups, &cgid))
		return NULL;
	s = bpf_sk_storage_get(&socks, sk, NULL, BPF_SK_STORAGE_GET_F_CREATE);
	if (!s) {
		ctw_count_percpu(&lost, TCPLIFE_LOST_NOMEM);
		return NULL;
	}
	s->start_ns = bpf_ktime_get_ns();
	s->cgroup_id = cgid;
	s->pid = 0;
	s->flags = 0;
	s->comm[0] = '\0';
	return s;
}

static __always_inline bool v4mapped(const __u8 *a)
{
	for (int i = 0; i < 10; i++)
		if (a[i])
			return false;
	return a[10] == 0xff && a[11] == 0xff;
}

static __always_inline __u8 close_kind(int oldstate, int err)
{
	if (err == ECONNREFUSED)
		return TCPLIFE_CLOSE_REFUSED;
	if (err == ETIMEDOUT)
		return TCPLIFE_CLOSE_TIMEOUT;
	if (err == ECONNRESET || err == EPIPE)
		return TCPLIFE_CLOSE_RST_IN;
	switch (oldstate) {
	case TCP_LAST_ACK:
	case TCP_FIN_WAIT1:
	case TCP_FIN_WAIT2:
	case TCP_CLOSING: return TCPLIFE_CLOSE_FIN;
	case TCP_ESTABLISHED:
	case TCP_CLOSE_WAIT:
	case TCP_SYN_RECV:
		/* tcp_close() with unread data, SO_LINGER 0, tcp_disconnect():
		 * a reset sent by us.  A reset received sets sk_err first. */
		return TCPLIFE_CLOSE_RST_OUT;
	default: return TCPLIFE_CLOSE_OTHER;
	}
}

static __always_inline int on_close(struct sock *sk, int oldstate)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	struct tcplife_event *e;
	struct tcplife_sk *s;
	__u16 family, sport, dport;

	s = bpf_sk_storage_get(&socks, sk, NULL, 0);
	if (!s) {
		if (oldstate == TCP_LISTEN) {
			struct listener_key k = listener_key_of(sk);
			struct listener_ident *l = bpf_map_lookup_elem(&listeners, &k);

			if (l && l->sk == (__u64)sk)
				bpf_map_delete_elem(&listeners, &k);
		}
		return 0;
	}

	if (track_open && (s->flags & TCPLIFE_F_ESTABLISHED))
		open_add(s->cgroup_id, -1);

	/* Not skc_num: tcp_set_state() has released the local port (and zeroed
	 * inet_num) before the tracepoint fires for TCP_CLOSE. */
	sport = bpf_ntohs(BPF_CORE_READ((struct inet_sock *)sk, inet_sport));
	dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (n_lports && !port_in(lports, n_lports, sport))
		goto out_delete;
	if (n_dports && !port_in(dports, n_dports, dport))
		goto out_delete;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		ctw_count_percpu(&lost, TCPLIFE_LOST_RINGBUF);
		goto out_delete;
	}

	family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (family == AF_INET) {
		__builtin_memset(e->saddr, 0, sizeof(e->saddr));
		__builtin_memset(e->daddr, 0, sizeof(e->daddr));
		BPF_CORE_READ_INTO((__u32 *)e->saddr, sk, __sk_common.skc_rcv_saddr);
		BPF_CORE_READ_INTO((__u32 *)e->daddr, sk, __sk_common.skc_daddr);
	} else {
		BPF_CORE_READ_INTO((struct in6_addr *)e->saddr, sk, __sk_common.skc_v6_rcv_saddr);
		BPF_CORE_READ_INTO((struct in6_addr *)e->daddr, sk, __sk_common.skc_v6_daddr);
		if (v4mapped(e->daddr)) {
			/* A dual-stack socket talking IPv4: report it as IPv4. */
			family = AF_INET;
			__builtin_memcpy(e->daddr, e->daddr + 12, 4);
			__builtin_memset(e->daddr + 4, 0, 12);
			if (v4mapped(e->saddr)) {
				__builtin_memcpy(e->saddr, e->saddr + 12, 4);
				__builtin_memset(e->saddr + 4, 0, 12);
			}
		}
	}
	if (target_family && family != target_family) {
		bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
		goto out_delete;
	}

	int err = BPF_CORE_READ(sk, sk_err);

	e->cgroup_id = s->cgroup_id;
	e->start_ns = s->start_ns;
	e->span_ns = bpf_ktime_get_ns() - s->start_ns;
	e->rx_bytes = BPF_CORE_READ(tp, bytes_received);
	e->tx_bytes = BPF_CORE_READ(tp, bytes_acked);
	e->pid = s->pid;
	e->sport = sport;
	e->dport = dport;
	e->family = family;
	e->flags = s->flags;
	e->close = close_kind(oldstate, err);
	e->sk_err = err > 0 && err < 65536 ? err : 0;
	e->__pad = 0;
	__builtin_memcpy(e->comm, s->comm, sizeof(e->comm));
	if (wakeup_bytes && bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) < wakeup_bytes)
		bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	else if (wakeup_bytes)
		/* Adaptive wakeup would stay silent: the reader is behind. */
		bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	else
		bpf_ringbuf_submit(e, 0);

out_delete:
	bpf_sk_storage_delete(&socks, sk);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(inet_sock_set_state, struct sock *sk, int oldstate, int newstate)
{
	struct tcplife_sk *s;

	if (BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP)
		return 0;

	switch (newstate) {
	case TCP_LISTEN: {
		/* listen(): remember who, for the children of this socket. */
		struct listener_key k = listener_key_of(sk);
		struct listener_ident l = {.sk = (__u64)sk};

		l.pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(l.comm, sizeof(l.comm));
		bpf_map_update_elem(&listeners, &k, &l, BPF_ANY);
		return 0;
	}
	case TCP_SYN_SENT:
		s = birth(sk);
		if (!s)
			return 0;
		s->pid = bpf_get_current_pid_tgid() >> 32;
		s->flags = TCPLIFE_F_IDENT_CONNECT;
		bpf_get_current_comm(s->comm, sizeof(s->comm));
		return 0;
	case TCP_SYN_RECV: {
		struct listener_key k;
		struct listener_ident *l;

		if (oldstate != TCP_LISTEN)
			return 0; /* simultaneous open: an active socket */
		s = birth(sk);
		if (!s)
			return 0;
		s->flags = TCPLIFE_F_PASSIVE;
		k = listener_key_of(sk);
		l = bpf_map_lookup_elem(&listeners, &k);
		if (l) {
			s->pid = l->pid;
			__builtin_memcpy(s->comm, l->comm, sizeof(s->comm));
			s->flags |= TCPLIFE_F_IDENT_LISTENER;
		}
		return 0;
	}
	case TCP_ESTABLISHED:
		s = bpf_sk_storage_get(&socks, sk, NULL, 0);
		if (!s || (s->flags & TCPLIFE_F_ESTABLISHED))
			return 0;
		s->flags |= TCPLIFE_F_ESTABLISHED;
		if (track_open)
			open_add(s->cgroup_id, 1);
		return 0;
	case TCP_FIN_WAIT1:
	case TCP_LAST_ACK:
		/* close() or shutdown() by the process holding the socket. */
		s = bpf_sk_storage_get(&socks, sk, NULL, 0);
		if (!s || !(s->flags & TCPLIFE_F_PASSIVE) || (s->flags & TCPLIFE_F_IDENT_CLOSER))
			return 0;
		if (current_is_kthread())
			return 0;
		s->pid = bpf_get_current_pid_tgid() >> 32;
		bpf_get_current_comm(s->comm, sizeof(s->comm));
		s->flags = (s->flags & ~TCPLIFE_F_IDENT_LISTENER) | TCPLIFE_F_IDENT_CLOSER;
		return 0;
	case TCP_CLOSE: return on_close(sk, oldstate);
	default: return 0;
	}
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
